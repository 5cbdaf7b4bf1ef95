"""Fixtures of the HL7 engine tests: raw MLLP peers, handlers (the listener itself: ``tests.support.hl7``)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from dpi.hl7 import registry
from dpi.hl7.ack import Ack, parse_ack
from dpi.hl7.errors import ApplicationError, ErrorCode, HL7ProcessingError
from dpi.hl7.mllp import FrameReader, ServerHandle, frame
from dpi.hl7.registry import HandlerResult, InboundMessage
from tests.support.hl7 import adt_message
from tests.support.waiting import wait_until

SOCKET_TIMEOUT = 30  # a safety net against a hanging test, never an assertion


@pytest.fixture
def adt() -> Callable[..., str]:
    return adt_message


class Peer:
    """A sending system: a raw TCP socket speaking MLLP to the listener."""

    def __init__(self, port: int) -> None:
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT)
        self.frames = FrameReader(max_bytes=1 << 30)
        self.pending: list[bytes] = []

    def send(self, data: bytes) -> None:
        self.socket.sendall(data)

    def send_message(self, message: str | bytes) -> None:
        self.send(frame(message.encode() if isinstance(message, str) else message))

    def receive(self) -> bytes:
        """The next frame the listener sends (raises if the connection closes first)."""
        while not self.pending:
            data = self.socket.recv(65536)
            if not data:
                raise ConnectionResetError("listener closed the connection")
            self.pending.extend(received.payload for received in self.frames.feed(data))
        return self.pending.pop(0)

    def receive_ack(self) -> Ack:
        return parse_ack(self.receive())

    def exchange(self, message: str | bytes) -> Ack:
        self.send_message(message)
        return self.receive_ack()

    def is_closed_by_listener(self) -> bool:
        return self.socket.recv(1) == b""

    def close(self) -> None:
        self.socket.close()


@pytest.fixture
def listener(start_listener: Callable[..., ServerHandle]) -> ServerHandle:
    return start_listener()


@pytest.fixture
def open_peer() -> Iterator[Callable[[int], Peer]]:
    peers: list[Peer] = []

    def open_(port: int) -> Peer:
        peers.append(Peer(port))
        return peers[-1]

    yield open_
    for peer in peers:
        peer.close()


@pytest.fixture
def connect(listener: ServerHandle, open_peer: Callable[[int], Peer]) -> Callable[[], Peer]:
    return lambda: open_peer(listener.port)


@pytest.fixture
def peer(connect: Callable[[], Peer]) -> Peer:
    return connect()


@pytest.fixture
def eventually() -> Callable[..., None]:
    return wait_until


def effect_name(msg: InboundMessage) -> str:
    return f"effect-{msg.header.sending_application}-{msg.control_id}"


@pytest.fixture
def adt_handler() -> Iterator[None]:
    """An ADT^A01 handler with a visible effect: one Group row per processed message."""

    def admit(msg: InboundMessage) -> None:
        Group.objects.create(name=effect_name(msg))

    with registry.registered(admit, "ADT^A01"):
        yield


@pytest.fixture
def failing_handler() -> Iterator[None]:
    """An ADT^A01 handler that writes, then rejects the message as a patient unknown."""

    def admit(msg: InboundMessage) -> None:
        Group.objects.create(name=effect_name(msg))
        raise HL7ProcessingError(
            ErrorCode.APPLICATION_ERROR,
            "Patient inconnu",
            location="PID^1^3",
            application_error=ApplicationError("902", "Identifiant patient inconnu"),
        )

    with registry.registered(admit, "ADT^A01"):
        yield


@pytest.fixture
def ignoring_handler() -> Iterator[None]:
    """An ADT^A04 handler that accepts the message without doing anything, and says so."""

    def ignore(msg: InboundMessage) -> HandlerResult:
        return HandlerResult(note=f"ignoré : {msg.value('PID-5.1')}")

    with registry.registered(ignore, "ADT^A04"):
        yield


@pytest.fixture
def sample_files(samples_dir: Path) -> list[Path]:
    return sorted(samples_dir.glob("*.er7"))
