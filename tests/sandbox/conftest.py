"""Fixtures of the simulator tests: for the PFI a DPI listener on a free port the simulator sends its ZAMs to;
for the DMP the server on free ports, a mutual-TLS client and a patient's DMP."""

from __future__ import annotations

import datetime
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from lxml import etree

from dpi.hl7.ack import Ack, parse_ack
from dpi.hl7.mllp import FrameReader, ServerHandle, frame, start_server_in_thread
from patients.models import IdentityStatus, Patient
from sandbox.dmp.seed import open_dmp
from sandbox.dmp.server import DmpServer, start_dmp_in_thread
from sandbox.models import DmpAuthorisation, DmpBehaviour, PatientDmp, PfiBehaviour
from sandbox.pfi import start_pfi_in_thread
from sandbox.pki import ensure_test_pki
from tests.factories import PatientFactory
from tests.hl7.conftest import samples_dir, wait_until  # noqa: F401  (shared with the HL7 tests)
from tests.sandbox.dmp_requests import (
    INS,
    INS_OID,
    ITI18,
    ITI43,
    ITI57,
    TD02,
    TD03,
    Credentials,
    DmpClient,
    Reply,
    Vihf,
    assertion,
    envelope,
    national_id,
)

SOCKET_TIMEOUT = 30  # a safety net against a hanging test, never an assertion
ACTION_OF = {
    "TestExistenceRequest": TD02,
    "AuthorizationRequest": TD03,
    "AdhocQueryRequest": ITI18,
    "RetrieveDocumentSetRequest": ITI43,
    "SubmitObjectsRequest": ITI57,
}


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


# --- The sandbox DMP ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def dmp_pki() -> Path:
    """The test PKI (CA, server, structure, other structure, rogue), made once where the DPI's settings look."""
    return ensure_test_pki(settings.DMP_PKI_DIR).folder


@pytest.fixture
def dmp_behave(transactional_db) -> Callable[..., DmpBehaviour]:
    """Set the sandbox DMP's behaviour, as a demo user does in the admin."""

    def set_behaviour(mode: str = DmpBehaviour.Mode.NORMAL, **fields: object) -> DmpBehaviour:
        return DmpBehaviour.switch(mode, **fields)

    return set_behaviour


@pytest.fixture
def dmp_server(dmp_pki: Path, dmp_behave: Callable[..., DmpBehaviour]) -> Iterator[DmpServer]:
    """The sandbox DMP on free ports (``dmp_server.patients_url``, ``.webps_url``...)."""
    dmp_behave(DmpBehaviour.Mode.NORMAL)
    server = start_dmp_in_thread(pki_dir=dmp_pki)
    yield server
    server.stop()


@pytest.fixture
def dmp_client(dmp_pki: Path) -> Iterator[DmpClient]:
    """An HTTPS client with the demo hospital's structure certificate."""
    client = DmpClient(dmp_pki)
    yield client
    client.close()


@pytest.fixture
def dmp_call(dmp_server: DmpServer, dmp_client: DmpClient, dmp_pki: Path) -> Callable[..., Reply]:
    """Send a body to an endpoint with a VIHF signed by ``signer`` (None: unsigned) and read the reply."""

    def call(
        endpoint: str, body: object, *, action: str = "", vihf: Vihf | None = None, signer: str | None = "structure"
    ) -> Reply:
        url = getattr(dmp_server, f"{endpoint}_url")
        action = action or ACTION_OF[etree.QName(body).localname]
        security = assertion(vihf or Vihf(), Credentials(dmp_pki, signer) if signer else None)
        return dmp_client.post(url, action, envelope(action, body, security, to=url))

    return call


@pytest.fixture
def dmp_patient(transactional_db) -> Patient:
    """A patient with the national samples' test INS (the default patient of ``dmp_requests``)."""
    return PatientFactory(
        ins=INS,
        ins_oid=INS_OID,
        identity_status=IdentityStatus.QUALIFIEE,
        birth_name="PAT-TROIS",
        first_names="DOMINIQUE MARIE",
        birth_date=datetime.date(1979, 3, 28),
        sex="F",
        birth_place_insee="63220",
    )


@pytest.fixture
def patient_dmp(dmp_patient: Patient) -> PatientDmp:
    """The patient's open DMP, without documents, where the default professional of ``Vihf`` is authorised."""
    dmp = open_dmp(dmp_patient)
    DmpAuthorisation.objects.create(
        dmp=dmp, national_id=national_id(), until=timezone.now() + datetime.timedelta(days=30)
    )
    return dmp
