"""The MLLP listener over real sockets: framing, ordering, duplicates, errors, charsets, shutdown."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from dpi.hl7 import registry
from dpi.hl7.errors import ErrorDetail
from dpi.hl7.mllp import frame
from dpi.hl7.models import Message
from dpi.hl7.registry import HandlerResult, InboundMessage


def test_message_is_journaled_processed_and_acknowledged_aa(peer, adt, adt_handler):
    ack = peer.exchange(adt("3975"))

    assert (ack.code, ack.control_id, ack.errors) == ("AA", "3975", ())
    message = Message.objects.get()
    assert message.status == Message.Status.PROCESSED
    assert message.ack_code == "AA"
    assert message.message_type == "ADT^A01"
    assert (message.sending_application, message.sending_facility) == ("GAM", "CHU-X")
    assert message.patient_ids == "000003 279035121518989"
    assert message.peer.startswith("127.0.0.1:")
    assert bytes(message.raw) == adt("3975").encode()
    assert message.ack_text.startswith("MSH|^~\\&|DPI|CHU-X|GAM|CHU-X|")
    assert Group.objects.filter(name="effect-GAM-3975").exists()


def test_ack_swaps_applications_and_keeps_version_and_charset(peer, adt, adt_handler):
    peer.send_message(adt("7", charset="8859/15").encode("iso8859-15"))
    msh = peer.receive().split(b"\r")[0].decode("iso8859-15").split("|")

    assert msh[2:6] == ["DPI", "CHU-X", "GAM", "CHU-X"]
    assert msh[8] == "ACK^A01^ACK"
    assert msh[9] and msh[9] != "7"
    assert msh[11] == "2.5"
    assert msh[17] == "8859/15"


def test_frame_delivered_byte_by_byte_is_reassembled(peer, adt, adt_handler):
    for byte in frame(adt("1").encode()):
        peer.send(bytes([byte]))

    assert peer.receive_ack().code == "AA"


def test_frames_split_in_random_chunks_are_reassembled_in_order(peer, adt, adt_handler):
    stream = b"".join(frame(adt(str(n)).encode()) for n in range(10))
    chunks = random.Random(7).choices(range(1, 40), k=len(stream))
    position = 0
    for size in chunks:
        peer.send(stream[position : position + size])
        position += size
        if position >= len(stream):
            break

    assert [peer.receive_ack().control_id for _ in range(10)] == [str(n) for n in range(10)]


def test_several_frames_in_one_packet_get_one_ack_each_in_order(peer, adt, adt_handler):
    peer.send(b"".join(frame(adt(str(n)).encode()) for n in range(5)))

    assert [peer.receive_ack().control_id for _ in range(5)] == ["0", "1", "2", "3", "4"]
    assert Group.objects.count() == 5


def test_bytes_before_the_start_block_are_discarded(peer, adt, adt_handler):
    peer.send(b"garbage\r\n\x00\xff" + frame(adt("1").encode()))

    assert peer.receive_ack().code == "AA"
    assert bytes(Message.objects.get().raw).startswith(b"MSH|")


def test_twenty_concurrent_connections_get_their_acks_in_order(connect, adt, adt_handler):
    peers = [connect() for _ in range(20)]

    def converse(index: int) -> list[str]:
        ids = [f"{index}-{n}" for n in range(5)]
        peers[index].send(b"".join(frame(adt(control_id).encode()) for control_id in ids))
        return [peers[index].receive_ack().control_id for _ in ids]

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(converse, range(20)))

    assert results == [[f"{index}-{n}" for n in range(5)] for index in range(20)]
    assert Message.objects.filter(status=Message.Status.PROCESSED).count() == 100


def test_duplicate_control_id_returns_same_ack_without_second_effect(peer, adt, adt_handler):
    first = peer.exchange(adt("42"))
    peer.send_message(adt("42"))
    again = peer.receive()

    original = Message.objects.get(status=Message.Status.PROCESSED)
    duplicate = Message.objects.get(status=Message.Status.DUPLICATE)
    assert first.code == "AA"
    assert again == bytes(original.ack)
    assert duplicate.duplicate_of == original
    assert bytes(duplicate.ack) == bytes(original.ack)
    assert Group.objects.filter(name="effect-GAM-42").count() == 1


def test_same_control_id_from_another_sender_is_not_a_duplicate(peer, adt, adt_handler):
    peer.exchange(adt("42", sender="GAM"))
    ack = peer.exchange(adt("42", sender="OTHER"))

    assert ack.code == "AA"
    assert not Message.objects.filter(status=Message.Status.DUPLICATE).exists()


def _a_statement_waits_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def test_racing_duplicates_on_two_connections_have_one_effect_and_one_ack(connect, adt, eventually):
    release = threading.Event()

    def slow_admit(msg: InboundMessage) -> None:
        release.wait(timeout=30)
        Group.objects.create(name=f"effect-{msg.control_id}")

    first, second = connect(), connect()
    with registry.registered(slow_admit, "ADT^A01"):
        first.send_message(adt("99"))
        second.send_message(adt("99"))
        # The second arrives while the first is still in its handler: its journal row waits on the unique
        # index for the first one's transaction (one commit per message).
        eventually(_a_statement_waits_on_a_lock)
        release.set()
        acks = {first.receive(), second.receive()}

    assert len(acks) == 1
    assert Group.objects.filter(name="effect-99").count() == 1
    assert Message.objects.filter(status=Message.Status.DUPLICATE).count() == 1


def test_unknown_message_code_is_rejected_200_and_journaled_as_error(peer, adt):
    ack = peer.exchange(adt("5", message_type="ZZZ^Z01"))

    assert ack.code == "AR"
    assert [(e.code, e.location) for e in ack.errors] == [("200", "MSH^1^9^1^1")]
    message = Message.objects.get()
    assert (message.status, message.ack_code) == (Message.Status.ERROR, "AR")
    assert "ZZZ^Z01" in message.error


def test_unknown_trigger_of_a_known_code_is_rejected_201(peer, adt, adt_handler):
    ack = peer.exchange(adt("6", message_type="ADT^A99^ADT_A01"))

    assert ack.code == "AR"
    assert ack.errors[0].code == "201"
    assert Message.objects.get().status == Message.Status.ERROR


@pytest.mark.parametrize(
    ("payload", "code", "control_id"),
    [
        (b"", "100", ""),
        (b"\r\n\r\n", "100", ""),
        (b"PID|1||123\rPV1|1|I", "100", ""),
        (b"\x00\xff\xfe garbage \x1c", "100", ""),
        (b"MSH", "102", ""),
        (b"MSHX^~\\&|A|B", "102", ""),
        (b"MSH|^~|GAM|CHU-X", "102", ""),
        (b"MSH|^~\\&|GAM|CHU-X|DPI|CHU-X|20240101||ADT^A01|||2.5", "101", ""),
        (b"MSH|^~\\&|GAM|CHU-X|DPI|CHU-X|20240101|||7|P|2.5", "101", "7"),
        (b"MSH|^~\\&|GAM|CHU-X|DPI|CHU-X|20240101||ADT^A01|8|P|", "101", "8"),
        (b"MSH|^~\\&|GAM|CHU-X|DPI|CHU-X|20240101||ADT^A01|9|P|9.9", "203", "9"),
        (b"MSH|^~\\&|GAM|CHU-X|DPI|CHU-X|20240101||ADT^A01|10|P|2.5|||||FRA|KLINGON", "103", "10"),
    ],
    ids=[
        "empty",
        "blank-lines",
        "no-msh",
        "garbage",
        "msh-only",
        "bad-field-separator",
        "bad-encoding-characters",
        "no-control-id",
        "no-message-type",
        "no-version",
        "unsupported-version",
        "unknown-charset",
    ],
)
def test_malformed_message_gets_a_journal_row_and_an_ar(peer, payload, code, control_id, adt_handler):
    ack = peer.exchange(payload)

    assert (ack.code, ack.control_id) == ("AR", control_id)
    assert ack.errors[0].code == code
    message = Message.objects.get()
    assert bytes(message.raw) == payload
    assert (message.status, message.ack_code) == (Message.Status.ERROR, "AR")
    assert message.error


def test_unknown_segment_in_a_handled_message_is_rejected_100(peer, adt, adt_handler):
    ack = peer.exchange(adt("11") + "XYZ|1|2\r")

    assert ack.code == "AR"
    assert (ack.errors[0].code, ack.errors[0].location) == ("100", "XYZ^1")
    assert not Group.objects.exists()


def test_bytes_invalid_in_the_declared_charset_are_rejected_and_kept(peer, adt, adt_handler):
    payload = adt("12", family="GÉRARD").encode("latin-1")  # declared UTF-8

    ack = peer.exchange(payload)

    assert ack.code == "AR"
    assert (ack.errors[0].code, ack.errors[0].location) == ("102", "MSH^1^18")
    message = Message.objects.get()
    assert bytes(message.raw) == payload
    assert message.status == Message.Status.ERROR
    assert not Group.objects.exists()


@pytest.mark.parametrize(("charset", "codec"), [("8859/1", "latin-1"), ("8859/15", "iso8859-15"), ("", "utf-8")])
def test_accented_names_are_decoded_with_the_declared_charset(peer, adt, charset, codec):
    seen = []

    def admit(msg: InboundMessage) -> None:
        seen.append((msg.value("PID-5.1"), msg.value("PID-5.2")))

    with registry.registered(admit, "ADT^A01"):
        ack = peer.exchange(adt("13", family="LEFÈVRE-ÇÀ", given="Zoé", charset=charset).encode(codec))

    assert ack.code == "AA"
    assert seen == [("LEFÈVRE-ÇÀ", "Zoé")]
    assert "LEFÈVRE-ÇÀ^Zoé" in Message.objects.get().text


@pytest.mark.parametrize("separator", ["\r", "\n", "\r\n"], ids=["CR", "LF", "CRLF"])
def test_segments_separated_by_cr_lf_or_crlf_are_accepted(peer, adt, separator):
    segments = []

    def admit(msg: InboundMessage) -> None:
        segments.extend(segment.name for segment in msg.hl7.children)

    with registry.registered(admit, "ADT^A01"):
        ack = peer.exchange(adt("14", separator=separator) + separator * 3)

    assert ack.code == "AA"
    assert segments == ["MSH", "EVN", "PID", "PV1"]


def test_oversized_frame_is_rejected_ar_and_kept_truncated(start_listener, open_peer, adt):
    peer = open_peer(start_listener(max_bytes=200).port)
    big = adt("15", family="X" * 500).encode()

    ack = peer.exchange(big)
    next_ack = peer.exchange(b"MSH|^~\\&|GAM|CHU-X|DPI|CHU-X|20240101||ZZZ^Z01|16|P|2.5")

    assert (ack.code, ack.control_id, ack.errors[0].code) == ("AR", "15", "207")
    assert next_ack.control_id == "16"  # the connection survives the oversized frame
    message = Message.objects.get(control_id="15")
    assert bytes(message.raw) == big[:200]
    assert (message.size, message.truncated, message.status) == (len(big), True, Message.Status.ERROR)


def test_handler_error_rolls_back_its_writes_and_answers_ae(peer, adt, failing_handler):
    ack = peer.exchange(adt("17"))

    assert ack.code == "AE"
    error = ack.errors[0]
    assert (error.code, error.location, error.severity) == ("207", "PID^1^3", "E")
    assert (error.application_error.code, error.application_error.label) == (
        "902",
        "Identifiant patient inconnu",
    )
    assert not Group.objects.exists()
    message = Message.objects.get()
    assert (message.status, message.ack_code) == (Message.Status.ERROR, "AE")
    assert "Patient inconnu" in message.error


def test_unexpected_handler_exception_rolls_back_and_answers_ar_207(peer, adt):
    def broken(msg: InboundMessage) -> None:
        Group.objects.create(name="half-done")
        raise RuntimeError("bug in the handler")

    with registry.registered(broken, "ADT^A01"):
        ack = peer.exchange(adt("18"))

    assert (ack.code, ack.errors[0].code) == ("AR", "207")
    assert "bug in the handler" not in ack.errors[0].text
    assert not Group.objects.exists()
    message = Message.objects.get()
    assert message.status == Message.Status.ERROR
    assert "RuntimeError: bug in the handler" in message.error


def test_handler_result_note_is_kept_with_an_aa(peer, adt, ignoring_handler):
    ack = peer.exchange(adt("19", message_type="ADT^A04^ADT_A01", family="DURAND"))

    assert ack.code == "AA"
    message = Message.objects.get()
    assert (message.status, message.note) == (Message.Status.PROCESSED, "ignoré : DURAND")


def test_handler_warnings_are_sent_as_err_segments_of_the_aa(peer, adt):
    warning = ErrorDetail(code="103", text="Mode de sortie inconnu", location="ZFM^1^3", severity="W")

    def admit(msg: InboundMessage) -> HandlerResult:
        return HandlerResult(warnings=(warning,))

    with registry.registered(admit, "ADT^A01"):
        ack = peer.exchange(adt("21"))

    assert (ack.code, ack.errors) == ("AA", (warning,))
    message = Message.objects.get()
    assert (message.status, message.note, message.error) == (
        Message.Status.PROCESSED,
        "[103] Mode de sortie inconnu",
        "",
    )


def test_idle_connection_is_closed_after_the_timeout(start_listener, open_peer):
    peer = open_peer(start_listener(idle_timeout=0.2).port)

    assert peer.is_closed_by_listener()


def test_graceful_shutdown_finishes_the_in_flight_message(listener, connect, adt):
    started, release = threading.Event(), threading.Event()

    def slow_admit(msg: InboundMessage) -> None:
        started.set()
        release.wait(timeout=30)
        Group.objects.create(name="finished")

    busy, idle = connect(), connect()
    with registry.registered(slow_admit, "ADT^A01"):
        busy.send_message(adt("20"))
        assert started.wait(timeout=30)
        stopping = threading.Thread(target=listener.stop)
        stopping.start()
        assert idle.is_closed_by_listener()  # idle connections are closed at once
        release.set()
        ack = busy.receive_ack()
        stopping.join(timeout=30)

    assert ack.code == "AA"
    assert not stopping.is_alive()
    assert Group.objects.filter(name="finished").exists()
    assert Message.objects.get().status == Message.Status.PROCESSED
    with pytest.raises(ConnectionRefusedError):
        connect()
