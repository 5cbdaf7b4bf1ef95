"""Every national PAM.fr sample message, as published, through the public entry point (hl7_ingest)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from consent.models import State, Subject
from consent.selectors import effective_consent
from dpi.hl7.models import Message
from patients.models import Episode, IdentityStatus, Patient

pytestmark = pytest.mark.django_db

SAMPLES = settings.SAMPLES_DIR / "hl7v2"
CONSENT_SAMPLES = sorted(SAMPLES.glob("pamfr_ADT_A01_ZFA_*.er7")) if SAMPLES.is_dir() else []
FEEDING = {"INO": State.INFORMED_NOT_OPPOSED, "IO": State.INFORMED_OPPOSED, "NA": State.NOT_INFORMED}
CONSULTATION = {"IC": State.INFORMED_NOT_OPPOSED, "INC": State.INFORMED_OPPOSED, "NA": State.NOT_INFORMED}


def _require_samples() -> None:
    if not SAMPLES.is_dir():
        pytest.skip(f"national samples not found in {SAMPLES} (set DPI_SAMPLES_DIR)")


@pytest.fixture
def sample_structure(db):
    """The structure the samples name: CHU-X, FINESS 000897406, UF 6268 (Chir V) and 8782 (Urgences)."""
    from tests.factories import CareUnitFactory, LegalEntityFactory, SiteFactory

    entity = LegalEntityFactory(finess_ej="000897414", accepts_test_ins=True)
    site = SiteFactory(legal_entity=entity, finess_eg="000897406")
    return {code: CareUnitFactory(site=site, code=code) for code in ("6268", "8782")}


def ingest(path: Path) -> str:
    out = io.StringIO()
    call_command("hl7_ingest", str(path), stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("path", CONSENT_SAMPLES, ids=lambda p: p.name)
def test_each_consent_sample_is_applied_with_the_right_states(sample_structure, path):
    _require_samples()
    output = ingest(path)
    assert "MSA|AA" in output, output
    consult_code, feed_code = path.stem.split("consult-")[1].split("_feed-")
    patient = Patient.objects.get(ipp="000003")
    assert (patient.ins, patient.ins_oid) == ("279035121518989", "1.2.250.1.213.1.4.10")
    assert patient.identity_status == IdentityStatus.QUALIFIEE
    assert (patient.birth_name, patient.first_names, patient.birth_place_insee) == ("PAT-TROIS", "DOMINIQUE", "63220")
    visit = Episode.objects.get()
    assert visit.care_unit.code == "6268"
    assert effective_consent(visit, Subject.FEEDING).state == FEEDING[feed_code]
    assert effective_consent(visit, Subject.CONSULTATION).state == CONSULTATION[consult_code]


def test_all_consent_samples_in_a_row_build_one_identity_with_one_visit_each(sample_structure):
    _require_samples()
    for path in CONSENT_SAMPLES:
        assert "MSA|AA" in ingest(path)
    assert Patient.objects.count() == 1
    assert Episode.objects.count() == len(CONSENT_SAMPLES)


def test_sgl_admission_then_discharge_templates(sample_structure):
    _require_samples()
    assert "MSA|AA" in ingest(SAMPLES / "pamfr_SGL_ADT_A01_admission_template.er7")
    output = ingest(SAMPLES / "pamfr_SGL_ADT_A03_discharge_template.er7")
    # Its ZBE is shifted (ZBE-3 filled, INSERT in ZBE-5, UF without FINESS): the discharge is applied,
    # the UF 8782 named in the shifted field is not read as the responsible unit.
    assert "MSA|AA" in output, output
    visit = Episode.objects.get()
    assert visit.discharged_at is not None and visit.care_unit.code == "6268"
    assert Message.objects.filter(message_type="ADT^A03", status="processed").exists()
