"""Over a real MLLP listener: the sandbox PFI pushes generated messages and a national sample."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from documents.models import Document, Provenance
from dpi.hl7.mllp import start_server_in_thread
from mss.models import Trace

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def listener():
    handle = start_server_in_thread("127.0.0.1", 0)
    yield handle
    handle.stop()


def push(listener, *args: str) -> str:
    out = io.StringIO()
    call_command("sandbox_push_mss", *args, "--host", "127.0.0.1", "--port", str(listener.port), stdout=out)
    return out.getvalue()


def test_a_generated_document_for_a_patient_is_integrated_over_mllp(listener, route, patient):
    assert push(listener, "--patient", patient.ipp).startswith("AA")
    document = Document.objects.get()
    assert document.provenance == Provenance.MSS and document.care_unit == route.care_unit


def test_a_generated_document_with_one_trait_changed_is_refused_over_mllp(listener, route, patient):
    answer = push(listener, "--patient", patient.ipp, "--alter", "birth_date")
    assert answer.startswith("AE [207 904 L'INS transmis ne correspond pas exactement")
    assert not Document.objects.exists()
    assert Trace.objects.filter(event=Trace.Event.REFUSED, error_code="904").exists()


def test_a_national_sample_is_pushed_as_is(listener, samples_dir, unit):
    answer = push(listener, "--sample", "lpsmss_MDM_T02_initial_full-b64.er7")
    assert answer.startswith("AE [207 902 Identifiant patient inconnu]")
