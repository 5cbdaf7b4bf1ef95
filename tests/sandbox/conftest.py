"""Fixtures of the PFI simulator tests: a DPI listener on a free port, the simulator sending its ZAMs to it."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings

from dpi.hl7.ack import Ack, parse_ack
from dpi.hl7.mllp import FrameReader, ServerHandle, frame, start_server_in_thread
from sandbox.models import PfiBehaviour
from sandbox.pfi import start_pfi_in_thread

SOCKET_TIMEOUT = 30  # a safety net against a hanging test, never an assertion


def wait_until(predicate: Callable[[], bool], timeout: float = 30) -> None:
    """Poll until ``predicate()`` holds: synchronisation with other threads, not a timing assertion."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout}s")
        time.sleep(0.02)


class RawPeer:
    """A sender speaking raw MLLP, to send what ``dpi.hl7.client.send`` would never send."""

    def __init__(self, port: int) -> None:
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT)
        self.frames = FrameReader(max_bytes=1 << 30)

    def exchange(self, payload: bytes) -> Ack:
        self.socket.sendall(frame(payload))
        while True:
            data = self.socket.recv(65536)
            if not data:
                raise ConnectionResetError("the simulator closed the connection")
            received = self.frames.feed(data)
            if received:
                return parse_ack(received[0].payload)

    def close(self) -> None:
        self.socket.close()


@pytest.fixture
def dpi_listener(transactional_db) -> Iterator[ServerHandle]:
    """The DPI's own MLLP listener, where the simulator sends its ZAMs."""
    handle = start_server_in_thread("127.0.0.1", 0)
    yield handle
    handle.stop()


@pytest.fixture
def behave(transactional_db) -> Callable[..., PfiBehaviour]:
    """Set the simulator's behaviour, as a demo user does in the admin."""

    def set_behaviour(mode: str = PfiBehaviour.Mode.NORMAL, **fields: object) -> PfiBehaviour:
        behaviour = PfiBehaviour.current()
        behaviour.mode = mode
        for name, value in fields.items():
            setattr(behaviour, name, value)
        behaviour.save()
        return behaviour

    return set_behaviour


@pytest.fixture
def pfi(dpi_listener: ServerHandle, behave: Callable[..., PfiBehaviour]) -> Iterator[ServerHandle]:
    """The simulator on a free port, sending its ZAMs to ``dpi_listener`` almost at once."""
    behave(PfiBehaviour.Mode.NORMAL)
    handle = start_pfi_in_thread(host="127.0.0.1", port=0, dpi_port=dpi_listener.port, zam_delay=0.05)
    yield handle
    handle.stop()


@pytest.fixture
def raw_peer(pfi: ServerHandle) -> Iterator[Callable[[], RawPeer]]:
    peers: list[RawPeer] = []

    def open_() -> RawPeer:
        peers.append(RawPeer(pfi.port))
        return peers[-1]

    yield open_
    for peer in peers:
        peer.close()


@pytest.fixture
def samples_dir() -> Path:
    directory = Path(settings.SAMPLES_DIR) / "hl7v2"
    if not directory.is_dir():
        pytest.skip(f"HL7 v2 samples not found in {directory} (set DPI_SAMPLES_DIR)")
    return directory
