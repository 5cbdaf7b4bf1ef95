"""Feeding: a discharge letter, the sandbox PFI with the DPI's listener for its ZAMs, a real Celery worker."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import connections
from django.utils import timezone

from dmp.models import FeedingDelay
from documents.services import Recipients, create_draft, validate_document
from dpi import celery_app
from sandbox.models import PfiBehaviour
from sandbox.pfi import start_pfi_in_thread

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
