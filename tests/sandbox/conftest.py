"""Fixtures of the PFI simulator tests: a DPI listener on a free port, the simulator sending its ZAMs to it."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest

from dpi.hl7.ack import Ack, parse_ack
from dpi.hl7.mllp import FrameReader, ServerHandle, frame, start_server_in_thread
from sandbox.models import PfiBehaviour
from sandbox.pfi import start_pfi_in_thread
from tests.hl7.conftest import samples_dir, wait_until  # noqa: F401  (shared with the HL7 tests)

SOCKET_TIMEOUT = 30  # a safety net against a hanging test, never an assertion


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
