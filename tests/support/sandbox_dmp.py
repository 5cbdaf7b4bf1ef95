"""The sandbox DMP over mutual TLS: the test PKI, the server on free ports, a client with the structure's
certificate, a patient's open DMP; ``live_dmp``, the DPI's ``DMP_*`` settings pointed at it
(:class:`tests.dmp.live.LiveDmp` says what it offers)::

    def test_the_panel_lists_the_dmp(live_dmp):
        consultation = live_dmp.consultation(documents=4)      # physician, patient, open DMP, authorised
        context = consultation.context()                       # dmp.access.Context
        panel = load_panel(consultation.request, context)
        assert live_dmp.calls("ITI-18")                        # what the sandbox received
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from lxml import etree

from patients.models import IdentityStatus, Patient
from sandbox.dmp.seed import open_dmp
from sandbox.dmp.server import DmpServer, start_dmp_in_thread
from sandbox.models import DmpAuthorisation, DmpBehaviour, PatientDmp
from sandbox.pki import ensure_test_pki
from tests.dmp.live import LiveDmp
from tests.factories import PatientFactory
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

ACTION_OF = {
    "TestExistenceRequest": TD02,
    "AuthorizationRequest": TD03,
    "AdhocQueryRequest": ITI18,
    "RetrieveDocumentSetRequest": ITI43,
    "SubmitObjectsRequest": ITI57,
}


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


@pytest.fixture
def live_dmp(settings, dmp_pki: Path, dmp_server: DmpServer, dmp_behave: Callable[..., DmpBehaviour]) -> LiveDmp:
    """The sandbox DMP on free ports, the DPI's settings pointing at it (endpoints, the test PKI's structure
    certificate and CA, consultation enabled, a 5 s read timeout as a safety net: lower
    ``settings.DMP_TIMEOUT_SECONDS`` in a test of the slow mode). Needs the transactional database: the
    sandbox answers from its own threads and connections."""
    settings.DMP_CONSULTATION_ENABLED = True
    settings.DMP_PATIENTS_URL = dmp_server.patients_url
    settings.DMP_REGISTRY_URL = dmp_server.registry_url
    settings.DMP_REPOSITORY_URL = dmp_server.repository_url
    settings.DMP_WEBPS_URL = dmp_server.webps_url
    settings.DRIMBOX_URL = dmp_server.drimbox_url
    settings.DMP_PKI_DIR = dmp_pki
    settings.DMP_CLIENT_CERT = settings.DMP_SIGNING_CERT = str(dmp_pki / "structure.crt")
    settings.DMP_CLIENT_KEY = settings.DMP_SIGNING_KEY = str(dmp_pki / "structure.key")
    settings.DMP_CA_BUNDLE = str(dmp_pki / "ca.crt")
    settings.DMP_TIMEOUT_SECONDS = 5.0
    settings.DMP_CONNECT_TIMEOUT_SECONDS = 2.0
    return LiveDmp(server=dmp_server, behave=dmp_behave)
