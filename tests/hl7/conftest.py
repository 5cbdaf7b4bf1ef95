"""Fixtures of the HL7 engine tests: a real listener on a free port, raw MLLP peers, messages, handlers."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group

from dpi.hl7 import registry
from dpi.hl7.ack import Ack, parse_ack
from dpi.hl7.errors import ApplicationError, ErrorCode, HL7ProcessingError
from dpi.hl7.mllp import FrameReader, ServerHandle, frame, start_server_in_thread
from dpi.hl7.registry import HandlerResult, InboundMessage

SOCKET_TIMEOUT = 30  # a safety net against a hanging test, never an assertion


def adt_message(
    control_id: str = "1",
    *,
    message_type: str = "ADT^A01^ADT_A01",
    family: str = "PAT-TROIS",
    given: str = "DOMINIQUE",
    ipp: str = "000003",
    charset: str = "UNICODE UTF-8",
    sender: str = "GAM",
    separator: str = "\r",
) -> str:
    """A minimal PAM.fr-like ADT message."""
    segments = [
        f"MSH|^~\\&|{sender}|CHU-X|DPI|CHU-X|20240306111154||{message_type}|{control_id}|P|2.5^FRA^2.11"
        f"|||||FRA|{charset}",
        "EVN||20240306111154",
        f"PID|1||{ipp}^^^CHU-X&000897406&N^PI~279035121518989^^^ASIP-SANTE-INS-NIR&1.2.250.1.213.1.4.10&ISO^INS"
        f"||{family}^{given}^{given}^^^^L||19790328|F",
        "PV1|1|I",
    ]
    return separator.join(segments) + separator


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
def start_listener(transactional_db) -> Iterator[Callable[..., ServerHandle]]:
    """Start MLLP listeners (options as for ``start_server_in_thread``), stopped after the test.

    Their worker threads use their own database connections, hence ``transactional_db``.
    """
    handles: list[ServerHandle] = []

    def start(port: int = 0, **options: float) -> ServerHandle:
        handles.append(start_server_in_thread("127.0.0.1", port, **options))
        return handles[-1]

    yield start
    for handle in handles:
        handle.stop()


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


def wait_until(predicate: Callable[[], bool], timeout: float = 90) -> None:
    """Poll until ``predicate()`` holds: synchronisation with other threads, not a timing assertion. The
    default is generous: two test processes on two cores can keep a worker thread waiting for a while."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout}s")
        time.sleep(0.02)


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
def samples_dir() -> Path:
    directory = Path(settings.SAMPLES_DIR) / "hl7v2"
    if not directory.is_dir():
        pytest.skip(f"HL7 v2 samples not found in {directory} (set DPI_SAMPLES_DIR)")
    return directory


@pytest.fixture
def sample_files(samples_dir: Path) -> list[Path]:
    return sorted(samples_dir.glob("*.er7"))
