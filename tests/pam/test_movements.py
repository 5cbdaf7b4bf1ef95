"""PAM.fr visits and movements: inserts, cancellations, corrections, out-of-order and unknown input."""

from __future__ import annotations

import pytest

from patients.models import Episode, Movement
from tests.support.engine import send

pytestmark = pytest.mark.django_db


def _visit() -> Episode:
    return Episode.objects.get(visit_number="V100")


def test_admission_creates_the_visit_with_kind_unit_times_and_movement(adt, structure):
    send(adt)
    visit = _visit()
    assert visit.kind == Episode.Kind.INPATIENT and visit.care_unit == structure["UF01"]
    assert visit.admitted_at.isoformat().startswith("2026-01-10T07:30")  # 08:30 Paris is 07:30 UTC
    assert visit.nda == "NDA100" and visit.finess_eg == "020000001"
    assert list(visit.movements.values_list("movement_id", "trigger")) == [("M1", "A01")]


@pytest.mark.parametrize(("klass", "kind"), [("O", "consultation"), ("E", "urgence"), ("R", "ambulatoire")])
def test_patient_class_gives_the_kind_of_care(adt, klass, kind):
    send(adt.but(trigger="A04", patient_class=klass))
    assert _visit().kind == kind


def test_transfer_changes_the_responsible_unit_and_its_cancellation_restores_it(adt, structure):
    send(adt)
    send(adt.but(trigger="A02", control_id="2", movement_id="M2", movement_at="20260111100000", unit="UF02"))
    assert _visit().care_unit == structure["UF02"]
    ack = send(adt.but(trigger="A12", control_id="3", movement_id="M2", action="CANCEL", unit="UF02"))
    assert ack.code == "AA"
    assert _visit().care_unit == structure["UF01"]
    assert Movement.objects.get(movement_id="M2").cancelled


def test_discharge_and_its_cancellation(adt):
    send(adt)
    send(adt.but(trigger="A03", control_id="2", movement_id="M9", discharged_at="20260115120000"))
    assert _visit().discharged_at is not None
    send(adt.but(trigger="A13", control_id="3", movement_id="M9", action="CANCEL"))
    assert _visit().discharged_at is None


def test_discharge_arriving_before_the_admission_creates_the_visit_and_keeps_the_discharge(adt):
    ack = send(adt.but(trigger="A03", control_id="2", movement_id="M9", discharged_at="20260115120000"))
    assert ack.code == "AA" and "inconnue" in ack.message.note
    send(adt.but(control_id="1"))
    visit = _visit()
    assert visit.discharged_at is not None and visit.admitted_at is not None
    assert visit.movements.count() == 2


def test_cancelling_the_admission_cancels_the_visit(adt):
    send(adt)
    send(adt.but(trigger="A11", control_id="2", action="CANCEL"))
    assert _visit().cancelled


def test_cancelling_an_unknown_visit_is_accepted_with_a_note(adt):
    ack = send(adt.but(trigger="A11", action="CANCEL"))
    assert ack.code == "AA" and "annulation sans effet" in ack.message.note
    assert not Episode.objects.exists()


def test_cancelling_an_unknown_movement_is_accepted_with_a_note(adt):
    send(adt)
    ack = send(adt.but(trigger="A12", control_id="2", movement_id="M404", action="CANCEL"))
    assert ack.code == "AA" and "inconnu" in ack.message.note


def test_pre_admission_then_admission(adt):
    send(adt.but(trigger="A05", control_id="1", movement_id="P1"))
    assert _visit().pre_admission
    send(adt.but(trigger="A01", control_id="2", movement_id="M1"))
    assert not _visit().pre_admission


def test_change_of_patient_class_updates_the_kind(adt):
    send(adt.but(trigger="A04", patient_class="E"))
    send(adt.but(trigger="A06", control_id="2", movement_id="M2", patient_class="I"))
    assert _visit().kind == Episode.Kind.INPATIENT


def test_z99_corrects_the_named_movement(adt, structure):
    send(adt)
    ack = send(adt.but(trigger="Z99", control_id="2", action="UPDATE", original_trigger="A01",
                       movement_at="20260110060000", unit="UF03"))  # fmt: skip
    assert ack.code == "AA"
    movement = Movement.objects.get(movement_id="M1")
    assert movement.medical_unit == structure["UF03"] and movement.updated_by is not None
    visit = _visit()
    assert visit.care_unit == structure["UF03"]
    assert visit.admitted_at.isoformat().startswith("2026-01-10T07:30")  # PV1-44 stays the admission time


def test_z99_for_an_unknown_movement_changes_nothing(adt):
    send(adt)
    ack = send(adt.but(trigger="Z99", control_id="2", action="UPDATE", movement_id="M404", unit="UF03"))
    assert ack.code == "AA" and "inconnu" in ack.message.note
    assert _visit().care_unit.code == "UF01"


def test_unknown_uf_of_a_known_site_is_created_and_noted(adt):
    ack = send(adt.but(unit="UF77"))
    assert ack.code == "AA" and "UF77" in ack.message.note
    assert _visit().care_unit.code == "UF77"


def test_unknown_uf_of_an_unknown_site_is_refused_and_can_be_replayed_once_fixed(adt, structure):
    from dpi.hl7.services import replay_message
    from tests.factories import SiteFactory, UserFactory

    SiteFactory(legal_entity=structure["UF01"].site.legal_entity, finess_eg="020000002")
    ack = send(adt.but(unit="UF88", unit_finess="999999999"))
    assert ack.code == "AE" and not Episode.objects.exists()
    SiteFactory(legal_entity=structure["UF01"].site.legal_entity, finess_eg="999999999")
    replay_message(message=ack.message, acting_user=UserFactory(is_staff=True))
    assert _visit().care_unit.code == "UF88"


def test_movement_without_visit_number_is_refused(adt):
    ack = send(adt.but(visit=None, trigger="A01"))
    assert ack.code == "AE" and "PV1^1^19" in ack.err[0]


def test_movement_without_zbe_is_applied_with_a_note(adt):
    ack = send(adt.but(movement_id=None))
    assert ack.code == "AA" and "ZBE absent" in ack.message.note
    assert _visit().movements.count() == 0


@pytest.mark.parametrize("separator", ["\r", "\n", "\r\n"])
def test_segments_separated_by_cr_lf_or_crlf_are_all_applied(adt, separator):
    assert send(adt.but(separator=separator)).code == "AA"
    assert _visit().consent_decisions.count() == 2


def test_latin1_message_keeps_its_accents(adt):
    ack = send(adt.but(charset="8859/1", birth_name="LÉGER", first_name="HÉLÈNE", first_names="HÉLÈNE"))
    assert ack.code == "AA"
    assert Episode.objects.get().patient.birth_name == "LÉGER"


def test_replayed_duplicate_admission_has_no_second_effect(adt):
    send(adt)
    again = send(adt)
    assert again.message.status == "duplicate"
    assert Movement.objects.count() == 1 and _visit().consent_decisions.count() == 2


def test_visit_of_another_patient_is_refused(adt):
    send(adt)
    ack = send(adt.but(control_id="2", ipp="000300", ins=None))
    assert ack.code == "AE" and "autre patient" in ack.message.error


def test_repeated_movement_after_a_newer_one_keeps_the_latest_unit(adt, structure):
    send(adt.but(trigger="A02", movement_id="M2", movement_at="20260112100000", unit="UF02"))
    send(adt.but(control_id="2", movement_id="M1", movement_at="20260110083000", unit="UF01"))
    assert _visit().care_unit == structure["UF02"]  # the older movement arrived late


@pytest.mark.parametrize("trigger", ["A08", "A44", "A49"])
def test_adt_events_the_dpi_does_not_use_are_ignored_with_a_note(adt, trigger):
    ack = send(adt.but(trigger=trigger))
    assert ack.code == "AA" and "ignoré" in ack.message.note
    assert not Episode.objects.exists()


def test_unknown_adt_trigger_is_rejected_201(adt):
    ack = send(adt.but(trigger="A99"))
    assert ack.code == "AR" and "201" in ack.err[0]
