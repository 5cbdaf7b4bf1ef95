"""The national samples of the volet (ansforge/hl7V2-exemples), replayed as they are; only MSH-10 is
changed in memory, since the three samples share the control id 015."""

from __future__ import annotations

from datetime import date

import pytest

from documents.models import Document, Provenance, Status
from mss.models import Trace
from sandbox.mss_push import sample_text
from tests.factories import PatientFactory
from tests.mss.data import TEST_OID
from tests.support.engine import send

pytestmark = pytest.mark.django_db


@pytest.fixture
def pat_trois(unit):
    return PatientFactory(
        ipp="405660", ipp_authority="010000016", birth_name="PAT-TROIS", first_names="DOMINIQUE",
        birth_date=date(1979, 3, 28), sex="F", birth_place_insee="63220", ins="279035121518989", ins_oid=TEST_OID,
        identity_status="qualifiee",
    )  # fmt: skip


def test_samples_integrate_then_replace_then_delete(samples_dir, pat_trois):
    names = ("lpsmss_MDM_T02_initial_full-b64.er7", "lpsmss_MDM_T10_replace_full-b64.er7",
             "lpsmss_MDM_T04_delete_full-b64.er7")  # fmt: skip
    acks = [send(sample_text(samples_dir / name, control_id=f"sample-{n}")) for n, name in enumerate(names)]
    assert [ack.code for ack in acks] == ["AA", "AA", "AA"], [ack.text for ack in acks]
    document = Document.objects.get(patient=pat_trois)
    assert document.provenance == Provenance.MSS and document.status == Status.DELETED
    assert [v.cda_id_root[-2:] for v in document.versions.all()] == ["82", "81"]
    events = list(Trace.objects.order_by("pk").values_list("event", flat=True))
    assert events == ["received", "matched", "integrated", "received", "matched", "replaced",
                      "received", "matched", "deleted"]  # fmt: skip
    assert Trace.objects.filter(sender="thomas.eric@medecin.mssante.fr", mailbox="dpi@hopitala.mssante.fr").count() == 9


def test_sample_for_an_unknown_patient_is_refused_with_902(samples_dir, unit):
    ack = send(sample_text(samples_dir / "lpsmss_MDM_T02_initial_full-b64.er7", control_id="unknown"))
    assert ack.code == "AE" and ack.application_code == "902"


def test_placeholder_sample_is_not_a_cda_and_is_refused_with_906(samples_dir, pat_trois):
    ack = send(sample_text(samples_dir / "lpsmss_MDM_T02_initial_b64-placeholder.er7", control_id="placeholder"))
    assert ack.code == "AE" and ack.application_code == "906"
    assert not Document.objects.exists()
