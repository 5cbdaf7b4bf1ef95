"""Fixtures of the DMP tests.

Feeding: a discharge letter, the sandbox PFI and the DPI listener, a real Celery worker.

Consultation: ``live_dmp``, the sandbox DMP on free ports over mutual TLS with the DPI's ``DMP_*``
settings pointed at it (:class:`tests.dmp.live.LiveDmp` says what it offers). Tests elsewhere (the
browser scenarios) import it with the sandbox fixtures it stands on::

    from tests.dmp.conftest import dmp_behave, dmp_pki, dmp_server, live_dmp  # noqa: F401

    def test_the_panel_lists_the_dmp(live_dmp):
        consultation = live_dmp.consultation(documents=4)      # physician, patient, open DMP, authorised
        context = consultation.context()                       # dmp.access.Context
        panel = load_panel(consultation.request, context)
        assert live_dmp.calls("ITI-18")                        # what the sandbox received
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import connections
from django.utils import timezone

from dmp.models import FeedingDelay
from documents.services import Recipients, create_draft, validate_document
from dpi import celery_app
from sandbox.dmp.server import DmpServer
from sandbox.models import DmpBehaviour, PfiBehaviour
from sandbox.pfi import start_pfi_in_thread
from tests.dmp.live import LiveDmp
from tests.hl7.conftest import start_listener, wait_until  # noqa: F401  (a fixture shared with the HL7 tests)
from tests.sandbox import conftest as sandbox_fixtures

LETTER_FIELDS = {
    "motif": "Pneumopathie communautaire",
    "synthese": "Évolution favorable sous antibiothérapie.",
    "modalite_entree": "urgence",
    "modalite_sortie": "domicile",
    "recherche_bmr": "non",
    "transfusion": "non",
    "derives_sang": "non",
    "traitements": "Amoxicilline 1 g ; 1 cp 3 fois par jour ; 7 jours",
    "suites": "Consultation de contrôle à 10 jours.",
}
PRO_ADDRESS = "adam.hoda@test-ci-sis.mssante.fr"


@pytest.fixture
def no_delay(db) -> None:
    FeedingDelay.objects.create(delay_minutes=0)


@pytest.fixture
def letter(doctor) -> Callable[..., object]:
    """A discharge letter for an episode, written by ``doctor``; ``validate=True`` validates it."""

    def make(episode, *, validate: bool = True, recipients: Recipients | None = None, **options: object):
        flags = {name: options.pop(name) for name in list(options) if name in _FLAGS}
        document = create_draft(
            patient=episode.patient,
            episode=episode,
            type_code="11490-0",
            title=options.pop("title", "Lettre de liaison de sortie"),
            fields=LETTER_FIELDS,
            act_date=timezone.now(),
            acting_user=doctor,
            flags=flags,
            recipients=recipients,
        )
        if validate:
            validate_document(document=document, acting_user=doctor)
            document.refresh_from_db()
        return document

    return make


_FLAGS = {"hold_sending", "masked_to_professionals", "invisible_to_patient", "invisible_to_legal_representatives"}


@pytest.fixture
def pfi(request: pytest.FixtureRequest, settings) -> Iterator[object]:
    """The sandbox PFI on a free port, sending its ZAMs to a DPI listener; the DPI sends to it."""
    listener = request.getfixturevalue("start_listener")()
    PfiBehaviour.objects.update_or_create(pk=1, defaults={"mode": "normal", "zam_delay_seconds": 0.0})
    handle = start_pfi_in_thread(dpi_host="127.0.0.1", dpi_port=listener.port, zam_delay=0.0)
    settings.PFI_HOST, settings.PFI_PORT, settings.PFI_TIMEOUT_SECONDS = "127.0.0.1", handle.port, 5
    yield handle
    handle.stop()


def set_pfi_mode(mode: str, **fields: object) -> None:
    PfiBehaviour.objects.update_or_create(pk=1, defaults={"mode": mode, **fields})


def _close_connections(**kwargs: object) -> None:
    connections.close_all()


@pytest.fixture
def worker(transactional_db) -> Iterator[None]:
    """A real worker in a thread, consuming the broker of the settings; the queue starts empty."""
    celery_app.control.purge()
    task_postrun.connect(_close_connections, weak=False)  # the worker thread's own DB connection
    try:
        with start_worker(celery_app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
            yield
    finally:
        task_postrun.disconnect(_close_connections)


# --- Consultation: the DPI against the sandbox DMP ------------------------------------------------


# The sandbox DMP's fixtures, which live_dmp stands on (and test_against_sandbox uses).
dmp_pki = sandbox_fixtures.dmp_pki
dmp_behave = sandbox_fixtures.dmp_behave
dmp_server = sandbox_fixtures.dmp_server


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
