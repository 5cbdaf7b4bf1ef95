"""Over a real MLLP listener: the sandbox PFI pushes generated messages and a national sample."""

from __future__ import annotations

import io
import threading

import pytest
from django.core.management import call_command
from django.db import connection

from documents.models import Document, DocumentVersion, Provenance
from dpi.hl7.client import TransportError, send
from dpi.hl7.mllp import start_server_in_thread
from mss.models import Trace
from sandbox.mss_push import mdm_for, patient_document, patient_identity

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


def _at_once(listener, messages: list[bytes]) -> list[str]:
    """Send each message from its own connection, all released together; the MSA-1 of each ACK."""
    barrier = threading.Barrier(len(messages))
    answers: list[str] = [""] * len(messages)

    def run(index: int, message: bytes) -> None:
        barrier.wait()
        try:
            answers[index] = send(message, host="127.0.0.1", port=listener.port, retries=0, timeout=60).code
        except TransportError as exc:
            answers[index] = exc.ack.code if exc.ack is not None else "no answer"
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(messages)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_the_same_document_received_twice_at_once_is_filed_once(listener, route, patient):
    identity = patient_identity(patient)
    root, cda = patient_document(identity)
    mdm = mdm_for(identity, cda, root)
    answers = _at_once(listener, [mdm.encode(), mdm.but(control_id="resent-at-once").encode()])
    assert answers == ["AA", "AA"]
    assert Document.objects.count() == 1 and DocumentVersion.objects.count() == 1
    events = sorted(Trace.objects.filter(event__in=["integrated", "duplicate"]).values_list("event", flat=True))
    assert events == ["duplicate", "integrated"]


def test_the_same_replacement_received_twice_at_once_adds_one_version(listener, route, patient):
    identity = patient_identity(patient)
    root, cda = patient_document(identity)
    first = mdm_for(identity, cda, root)
    assert _at_once(listener, [first.encode()]) == ["AA"]
    new_root, new_cda = patient_document(identity, version=2, replaces=root, set_id=f"{root}.0")
    replace = mdm_for(identity, new_cda, new_root, trigger="T10", replaced_id=root)
    answers = _at_once(listener, [replace.encode(), replace.but(control_id="replace-resent").encode()])
    assert answers == ["AA", "AA"]
    assert DocumentVersion.objects.count() == 2
    assert Trace.objects.filter(event="replaced").count() == 1
