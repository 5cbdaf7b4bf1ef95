"""The MLLP client against real peers: success, late peer, silent peer, rejections; all journaled."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from django.db import connections

from dpi.hl7.client import TransportError, send
from dpi.hl7.models import Message


def outbound() -> Message:
    return Message.objects.get(direction=Message.Direction.OUTBOUND)


@pytest.fixture
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def silent_peer() -> Iterator[int]:
    """A peer that accepts connections and reads, but never answers."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()[1]
    server.close()
    for connection in accepted:
        connection.close()


def test_accepted_message_returns_its_ack_and_is_journaled_outbound(listener, adt, adt_handler):
    ack = send(adt("out-1"), host="127.0.0.1", port=listener.port)

    assert (ack.code, ack.control_id) == ("AA", "out-1")
    message = outbound()
    assert (message.status, message.ack_code, message.control_id) == (Message.Status.PROCESSED, "AA", "out-1")
    assert message.peer == f"127.0.0.1:{listener.port}"
    assert bytes(message.raw) == adt("out-1").encode()
    assert message.ack_text.startswith("MSH|")


def test_text_message_is_sent_with_cr_terminators_in_its_declared_charset(listener, adt, adt_handler):
    send(
        adt("out-2", family="LEFÈVRE", charset="8859/15", separator="\n"),
        host="127.0.0.1",
        port=listener.port,
    )

    raw = bytes(outbound().raw)
    assert b"\n" not in raw
    assert "LEFÈVRE".encode("iso8859-15") in raw


def test_peer_coming_up_late_is_reached_by_a_retry(start_listener, free_port, adt, adt_handler, eventually):
    result: dict[str, object] = {}

    def sending() -> None:
        try:
            result["ack"] = send(
                adt("out-3"), host="127.0.0.1", port=free_port, retries=10, backoff=0.05, max_backoff=0.5
            )
        finally:
            connections.close_all()

    sender = threading.Thread(target=sending)
    sender.start()
    eventually(lambda: Message.objects.filter(direction=Message.Direction.OUTBOUND).exclude(error="").exists())
    start_listener(port=free_port)
    sender.join(timeout=60)

    assert result["ack"].code == "AA"
    message = outbound()
    assert message.status == Message.Status.PROCESSED
    assert message.error == ""


def test_refused_connection_is_a_transient_failure_after_the_retries(transactional_db, free_port, adt):
    with pytest.raises(TransportError) as raised:
        send(adt("out-4"), host="127.0.0.1", port=free_port, retries=2, backoff=0.01)

    assert raised.value.permanent is False
    message = outbound()
    assert message.status == Message.Status.ERROR
    assert message.error.startswith("Tentative 3")


def test_silent_peer_times_out_as_a_transient_failure(transactional_db, silent_peer, adt):
    with pytest.raises(TransportError) as raised:
        send(adt("out-5"), host="127.0.0.1", port=silent_peer, timeout=0.2, retries=0)

    assert raised.value.permanent is False
    assert "timed out" in outbound().error


def test_ar_ack_is_a_permanent_failure_with_the_ack_kept(listener, adt):
    with pytest.raises(TransportError) as raised:
        send(adt("out-6", message_type="ZZZ^Z01"), host="127.0.0.1", port=listener.port)

    assert raised.value.permanent is True
    assert (raised.value.ack.code, raised.value.ack.errors[0].code) == ("AR", "200")
    message = outbound()
    assert (message.status, message.ack_code) == (Message.Status.ERROR, "AR")
    assert bytes(message.ack)


def test_answer_that_is_not_an_ack_is_a_permanent_failure(transactional_db, adt):
    server = socket.create_server(("127.0.0.1", 0))

    def answer_garbage() -> None:
        connection = server.accept()[0]
        connection.recv(65536)
        connection.sendall(b"\x0bnot an ack\x1c\x0d")
        connection.close()

    threading.Thread(target=answer_garbage, daemon=True).start()
    try:
        with pytest.raises(TransportError) as raised:
            send(adt("out-7"), host="127.0.0.1", port=server.getsockname()[1])
    finally:
        server.close()

    assert raised.value.permanent is True
    assert bytes(outbound().ack) == b"not an ack"
