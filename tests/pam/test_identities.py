"""PAM.fr identities: INS rules, identity status mapping, traits, updates, identifier changes, merges."""

from __future__ import annotations

import pytest

from dpi.models import AuditEvent
from patients.models import IdentityEvent, IdentityStatus, Patient
from tests.pam.builder import INS_NIR_OID, INS_TEST_OID
from tests.support.engine import send, send_raw

pytestmark = pytest.mark.django_db


def test_admission_with_qualified_ins_stores_identity_traits_and_answers_aa(adt):
    ack = send(adt)
    assert ack.code == "AA", ack.text
    patient = Patient.objects.get(ipp="000100")
    assert (patient.ins, patient.ins_oid, patient.identity_status) == ("279035121518989", INS_NIR_OID, "qualifiee")
    assert (patient.birth_name, patient.first_names, patient.first_name) == ("MARTIN", "JEANNE MARIE", "JEANNE")
    assert (str(patient.birth_date), patient.sex, patient.birth_place_insee) == ("1980-05-04", "F", "75056")
    assert patient.ipp_authority == "010000016"


@pytest.mark.parametrize(
    ("reliability", "ins", "acquisition", "status"),
    [
        ("VALI", "279035121518989", "INSI", IdentityStatus.QUALIFIEE),
        ("VALI", None, "SM", IdentityStatus.VALIDEE),
        ("PROV", None, "INSI", IdentityStatus.RECUPEREE),
        ("PROV", None, "SM", IdentityStatus.PROVISOIRE),
        ("VIDE", None, "", IdentityStatus.PROVISOIRE),
    ],
)
def test_identity_status_follows_pid32_and_zfd5(adt, reliability, ins, acquisition, status):
    send(adt.but(reliability=reliability, ins=ins, acquisition=acquisition))
    assert Patient.objects.get().identity_status == status


def test_ins_sent_with_pid32_other_than_vali_is_not_kept_but_the_rest_is_applied(adt):
    ack = send(adt.but(reliability="PROV"))
    patient = Patient.objects.get()
    assert ack.code == "AA"
    assert patient.ins == "" and patient.identity_status == IdentityStatus.RECUPEREE
    assert patient.episodes.count() == 1
    assert "INS ignoré" in ack.message.note


def test_ins_whose_key_does_not_check_is_never_stored_and_answered_with_the_error(adt):
    ack = send(adt.but(ins="279035121518900"))
    patient = Patient.objects.get()
    assert patient.ins == "" and patient.identity_status == IdentityStatus.VALIDEE
    assert patient.episodes.count() == 1  # the admission itself is applied
    assert ack.code == "AE"
    assert ack.err and "PID^1^3" in ack.err[0]
    assert ack.message.status == "error" and "Clé du matricule INS invalide" in ack.message.error


def test_nia_is_accepted_as_an_ins(adt):
    send(adt.but(ins_oid="1.2.250.1.213.1.4.9"))
    assert Patient.objects.get().ins_oid == "1.2.250.1.213.1.4.9"


def test_test_oid_is_refused_unless_the_structure_is_configured_for_tests(adt, structure):
    ack = send(adt.but(ins_oid=INS_TEST_OID))
    assert ack.code == "AE" and Patient.objects.get().ins == ""
    entity = next(iter(structure.values())).site.legal_entity
    entity.accepts_test_ins = True
    entity.save()
    assert send(adt.but(ins_oid=INS_TEST_OID, control_id="2")).code == "AA"
    assert Patient.objects.get().ins_oid == INS_TEST_OID


def test_used_name_and_first_name_come_from_the_d_repetition_and_hl7_null_clears_them(adt):
    send(adt.but(used_name="DURAND", used_first_name="JEANNOT"))
    patient = Patient.objects.get()
    assert (patient.used_name, patient.used_first_name) == ("DURAND", "JEANNOT")
    assert patient.display_name == "MARTIN JEANNE (utilisé : DURAND JEANNOT)"
    send(adt.but(trigger="A31", control_id="2", used_name='""'))
    patient.refresh_from_db()
    assert patient.used_name == ""


def test_update_records_identity_history_and_audit(adt):
    send(adt.but(trigger="A28", visit=None))
    send(adt.but(trigger="A31", control_id="2", visit=None, birth_place="13055"))
    patient = Patient.objects.get()
    update = patient.identity_events.get(kind=IdentityEvent.Kind.UPDATED)
    assert update.changes["birth_place_insee"] == ["75056", "13055"]
    assert update.message.control_id == "2"
    assert AuditEvent.objects.filter(action=AuditEvent.Action.IDENTITY_CHANGE, patient_id=patient.pk).count() == 2


def test_update_of_an_unknown_patient_creates_it(adt):
    assert send(adt.but(trigger="A31", visit=None)).code == "AA"
    assert Patient.objects.filter(ipp="000100").exists()


def test_a31_without_ins_keeps_a_known_ins_only_while_validated(adt):
    send(adt)
    send(adt.but(trigger="A31", control_id="2", visit=None, ins=None))
    assert Patient.objects.get().ins == "279035121518989"
    send(adt.but(trigger="A31", control_id="3", visit=None, ins=None, reliability="PROV"))
    patient = Patient.objects.get()
    assert patient.ins == "" and patient.identity_status == IdentityStatus.RECUPEREE


def test_a47_with_null_ins_removes_the_ins(adt):
    send(adt)
    ack = send(
        adt.but(trigger="A47", control_id="2", visit=None, ins='""', reliability="PROV",
                mrg=f"279035121518989^^^ASIP-SANTE-INS-NIR&{INS_NIR_OID}&ISO^INS")
    )  # fmt: skip
    patient = Patient.objects.get()
    assert ack.code == "AA"
    assert patient.ins == "" and patient.identity_status == IdentityStatus.RECUPEREE
    assert patient.identity_events.filter(kind=IdentityEvent.Kind.INS_REMOVED).exists()


def test_a47_with_a_new_valid_ins_replaces_the_former_once(adt):
    from dpi.validators import nir_key

    new_ins = "1790351215189" + nir_key("1790351215189")
    send(adt)
    ack = send(
        adt.but(trigger="A47", control_id="2", visit=None, ins=new_ins,
                mrg=f"279035121518989^^^ASIP-SANTE-INS-NIR&{INS_NIR_OID}&ISO^INS")
    )  # fmt: skip
    patient = Patient.objects.get()
    assert ack.code == "AA"
    assert (patient.ins, patient.identity_status) == (new_ins, IdentityStatus.QUALIFIEE)
    events = patient.identity_events.filter(message=ack.message)
    assert [event.kind for event in events] == [IdentityEvent.Kind.UPDATED]  # one change, no transient state
    assert events.get().changes["ins"] == ["279035121518989", new_ins]


def test_a47_replayed_after_the_removal_writes_no_second_event(adt):
    send(adt)
    a47 = adt.but(trigger="A47", control_id="2", visit=None, ins='""', reliability="PROV",
                  mrg=f"279035121518989^^^ASIP-SANTE-INS-NIR&{INS_NIR_OID}&ISO^INS")  # fmt: skip
    send(a47)
    send(a47.but(control_id="3"))  # the same removal sent again under another control id
    assert Patient.objects.get().identity_events.filter(kind=IdentityEvent.Kind.INS_REMOVED).count() == 1


def test_a47_with_an_ipp_changes_the_ipp(adt):
    send(adt)
    ack = send(adt.but(trigger="A47", control_id="2", visit=None, ipp="000999", mrg="000100^^^CHU&010000016&M^PI"))
    assert ack.code == "AA"
    assert Patient.objects.get().ipp == "000999"


def test_a47_for_an_unknown_identifier_is_accepted_with_a_note(adt):
    ack = send(adt.but(trigger="A47", visit=None, ipp="000999", mrg="000555^^^CHU&010000016&M^PI"))
    assert ack.code == "AA" and "inconnu" in ack.message.note


def test_merge_moves_visits_and_consents_to_the_survivor_and_is_audited(adt):
    send(adt.but(ipp="000200", visit="V200", nda="NDA200", ins=None, zfa=("ACTIF", "IO", "IC")))
    send(adt.but(control_id="2", ipp="000100"))
    absorbed, survivor = Patient.objects.get(ipp="000200"), Patient.objects.get(ipp="000100")
    ack = send(adt.but(trigger="A40", control_id="3", visit=None, mrg="000200^^^CHU&010000016&M^PI"))
    assert ack.code == "AA", ack.text
    absorbed.refresh_from_db()
    assert absorbed.merged_into == survivor
    assert set(survivor.episodes.values_list("visit_number", flat=True)) == {"V100", "V200"}
    assert survivor.episodes.get(visit_number="V200").consent_decisions.count() == 2
    assert survivor.identity_events.filter(kind=IdentityEvent.Kind.MERGED).exists()
    assert AuditEvent.objects.filter(patient_id=survivor.pk, detail__kind="merged").exists()


def test_merge_with_unknown_absorbed_identity_is_accepted_with_a_note(adt):
    ack = send(adt.but(trigger="A40", visit=None, mrg="000777^^^CHU&010000016&M^PI"))
    assert ack.code == "AA" and "inconnue" in ack.message.note


def test_message_without_pid_is_refused_with_err(adt):
    raw = "\r".join(line for line in adt.segments() if not line.startswith("PID")).encode()
    ack = send_raw(raw)
    assert ack.code == "AE" and "PID" in ack.err[0]
    assert not Patient.objects.exists()


def test_a_value_too_long_for_the_file_is_refused_ae_102_and_nothing_is_stored(adt):
    ack = send(adt.but(birth_name="X" * 120))
    assert ack.code == "AE" and "102" in ack.err[0]
    assert not Patient.objects.exists()
    assert ack.message.status == "error" and "X" * 120 in bytes(ack.message.raw).decode()  # kept, replayable
