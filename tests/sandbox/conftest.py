"""Fixtures of the simulator tests: for the PFI a DPI listener on a free port the simulator sends its ZAMs to
(this folder's ``pfi`` is the bare simulator, not the feeding one of ``tests.support.feeding``); the sandbox
DMP's fixtures are ``tests.support.sandbox_dmp``."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from dpi.hl7.mllp import ServerHandle, start_server_in_thread
from sandbox.models import PfiBehaviour
from sandbox.pfi import start_pfi_in_thread
from tests.sandbox.peers import RawPeer


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
        return PfiBehaviour.switch(mode, **fields)

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
