"""MDM^T02/T10/T04 from the PFI (volet LPS courriel MSSanté): exact identity match, refusals with the
volet's codes, replace, delete, duplicates, malformed messages, routing to the care unit."""

from __future__ import annotations

import pytest

from documents.models import Document, DocumentVersion, Provenance, Status
from dpi.hl7.models import Message
from mss.models import MailboxRoute, Trace
from sandbox.mss_push import mdm_for, patient_document, patient_identity
from tests.factories import CareUnitFactory, EpisodeFactory, PatientFactory
from tests.mss.data import MAILBOX, TEST_OID
from tests.support.engine import send

pytestmark = pytest.mark.django_db


def assert_refused(ack, code: str) -> None:
    assert ack.code == "AE"
    assert ack.application_code == code
    assert ack.message.status == Message.Status.ERROR
    assert not Document.objects.exists()


def test_exact_match_integrates_with_provenance_mss_in_the_routed_unit_and_visit(route, patient, document_for):
    mdm = document_for(patient, mdm_options={"visibility": ("N", "Y", "Y")})
    ack = send(mdm)
    assert ack.code == "AA" and ack.err == []
    document = Document.objects.get()
    assert document.patient == patient and document.provenance == Provenance.MSS
    assert document.status == Status.VALIDATED
    assert document.care_unit == route.care_unit
    assert document.episode == patient.episodes.get()
    assert (document.invisible_to_patient, document.invisible_to_legal_representatives) == (True, True)
    assert document.current_version.cda_id_root == mdm.document_id
    assert ack.message.status == Message.Status.PROCESSED and "intégré" in ack.message.note


@pytest.mark.parametrize("trait", ["birth_name", "first_names", "birth_date", "sex", "birth_place"])
def test_each_single_differing_trait_is_refused_with_904(route, patient, document_for, trait):
    ack = send(document_for(patient, alter=trait))
    assert_refused(ack, "904")
    label = "L'INS transmis ne correspond pas exactement à celui stocké dans la base du consommateur"
    assert ack.err[0].startswith(
        f"ERR||PID^1^5|207^Application internal error^HL70357|E|904^{label}^applicationErrorCode"
    )


def test_a_different_ins_oid_is_refused_with_904(route, patient, document_for):
    assert_refused(send(document_for(patient, alter="ins_oid")), "904")


def test_a_different_ins_for_the_same_traits_is_refused_with_904(route, patient, document_for):
    assert_refused(send(document_for(patient, alter="ins")), "904")


def test_an_unqualified_local_identity_is_refused_with_904(route, patient, document_for):
    patient.identity_status = "validee"
    patient.save()
    assert_refused(send(document_for(patient)), "904")


def test_an_unknown_patient_is_refused_with_902_and_the_volet_label(route, document_for):
    stranger = PatientFactory.build(ins="180017512345601", ins_oid="1.2.250.1.213.1.4.8", birth_place_insee="13055")
    ack = send(document_for(stranger))
    assert_refused(ack, "902")
    assert ack.err[0].startswith(
        "ERR||PID^1^3|207^Application internal error^HL70357|E|902^Identifiant patient inconnu^applicationErrorCode"
    )
    assert ack.message.error  # the reason stays in the journal


def test_a_document_without_ins_is_refused_with_903(route, patient, document_for):
    unqualified = PatientFactory.build(
        ipp="X1", birth_name=patient.birth_name, first_names=patient.first_names, birth_date=patient.birth_date,
        sex=patient.sex, ins="", ins_oid="",
    )  # fmt: skip
    assert_refused(send(document_for(unqualified)), "903")


def test_an_ins_without_its_traits_is_refused_with_905(route, patient, document_for):
    identity = patient_identity(patient)
    id_root, cda = patient_document(identity)
    cda = cda.replace(b'<birthTime value="19800504"/>', b'<birthTime nullFlavor="UNK"/>')
    assert_refused(send(mdm_for(identity, cda, id_root).but(birth_date="")), "905")


def test_a_test_ins_is_refused_when_the_structure_does_not_accept_test_ins(route, patient, document_for):
    patient.ins_oid = TEST_OID
    patient.save()
    entity = route.care_unit.site.legal_entity
    entity.accepts_test_ins = False
    entity.save()
    assert_refused(send(document_for(patient)), "904")


def test_pid_that_disagrees_with_the_cda_is_refused_with_904(route, patient, document_for):
    assert_refused(send(document_for(patient).but(sex="M")), "904")


def test_replace_adds_a_version_and_keeps_the_previous_one_viewable(route, patient, document_for):
    first = document_for(patient)
    assert send(first).code == "AA"
    identity = patient_identity(patient)
    id_root, cda = patient_document(identity, version=2, replaces=first.document_id, set_id=f"{first.document_id}.0")
    ack = send(mdm_for(identity, cda, id_root, trigger="T10", replaced_id=first.document_id))
    assert ack.code == "AA", ack.text
    document = Document.objects.get()
    assert [v.version_number for v in document.versions.all()] == [2, 1]
    assert document.current_version.cda_id_root == id_root
    assert Trace.objects.filter(event=Trace.Event.REPLACED, document=document).exists()


def test_replace_of_a_version_that_is_not_the_latest_is_refused_with_900(route, patient, document_for):
    first = document_for(patient)
    send(first)
    identity = patient_identity(patient)
    set_id = f"{first.document_id}.0"
    v2_root, v2 = patient_document(identity, version=2, replaces=first.document_id, set_id=set_id)
    send(mdm_for(identity, v2, v2_root, trigger="T10", replaced_id=first.document_id))
    v3_root, v3 = patient_document(identity, version=3, replaces=first.document_id, set_id=set_id)
    ack = send(mdm_for(identity, v3, v3_root, trigger="T10", replaced_id=first.document_id))
    assert ack.code == "AE" and ack.application_code == "900"
    assert DocumentVersion.objects.count() == 2


def test_replace_by_someone_else_than_the_author_side_is_refused_with_901(route, patient, document_for):
    first = document_for(patient)
    send(first)
    identity = patient_identity(patient)
    root, cda = patient_document(identity, version=2, replaces=first.document_id, set_id=f"{first.document_id}.0",
                                 author_id="899999999999", organization_id="1990000001")  # fmt: skip
    mdm = mdm_for(identity, cda, root, trigger="T10", replaced_id=first.document_id, sender_id="899999999999")
    text = mdm.text().replace("^^^1130000001|", "^^^1990000001|")
    ack = send(text)
    assert ack.code == "AE" and ack.application_code == "901"
    assert DocumentVersion.objects.count() == 1


def test_delete_keeps_the_document_viewable_as_deleted(route, patient, document_for):
    first = document_for(patient)
    send(first)
    ack = send(first.but(trigger="T04", control_id="delete-1"))
    assert ack.code == "AA", ack.text
    document = Document.objects.get()
    assert document.status == Status.DELETED and document.current_version is not None
    assert Trace.objects.filter(event=Trace.Event.DELETED, document=document).exists()
    again = send(first.but(trigger="T04", control_id="delete-2"))
    assert again.code == "AA" and "déjà supprimé" in again.message.note


def test_delete_of_an_unknown_document_is_refused_with_900(route, patient, document_for):
    ack = send(document_for(patient, mdm_options={"trigger": "T04"}))
    assert ack.code == "AE" and ack.application_code == "900"


def test_delete_by_someone_else_than_the_author_side_is_refused_with_901(route, patient, document_for):
    first = document_for(patient)
    send(first)
    text = first.but(trigger="T04", control_id="d", sender_id="899999999999").text()
    ack = send(text.replace("^^^1130000001|", "^^^1990000001|"))
    assert ack.code == "AE" and ack.application_code == "901"
    assert Document.objects.get().status == Status.VALIDATED


def test_the_same_cda_in_another_message_is_accepted_once_with_a_note(route, patient, document_for):
    mdm = document_for(patient)
    assert send(mdm).code == "AA"
    again = send(mdm.but(control_id="resent-by-the-pfi"))
    assert again.code == "AA" and "déjà intégré" in again.message.note
    assert Document.objects.count() == 1 and DocumentVersion.objects.count() == 1
    assert Trace.objects.filter(event=Trace.Event.DUPLICATE).count() == 1


def test_the_same_control_id_is_answered_by_the_engine_with_the_first_ack(route, patient, document_for):
    mdm = document_for(patient)
    first, second = send(mdm), send(mdm)
    assert first.code == second.code == "AA"
    assert second.message.status == Message.Status.DUPLICATE
    assert Document.objects.count() == 1


def test_a_cda_already_filed_for_another_patient_is_refused_with_906(route, patient, document_for, unit):
    mdm = document_for(patient)
    send(mdm)
    other = PatientFactory(
        ipp_authority="010000016", ins="180017512345601", ins_oid="1.2.250.1.213.1.4.8", identity_status="qualifiee",
        birth_place_insee="13055",
    )  # fmt: skip
    identity = patient_identity(other)
    _root, cda = patient_document(identity, id_root=mdm.document_id)
    ack = send(mdm_for(identity, cda, mdm.document_id))
    assert ack.code == "AE" and ack.application_code == "906"


@pytest.mark.parametrize(
    ("change", "code", "location"),
    [
        ({"profile": "2.1^CISIS_CDA_HL7_V2"}, "203", "MSH^1^21"),
        ({"order_control": "RO"}, "103", "ORC^1^1"),
        ({"result_status": "C"}, "103", "OBX^1^11"),
    ],
)
def test_a_malformed_mdm_is_refused_with_the_precise_hl7_error(route, patient, document_for, change, code, location):
    ack = send(document_for(patient).but(**change))
    assert ack.code == "AE"
    assert ack.err[0].startswith(f"ERR||{location}|{code}^")
    assert ack.application_code == ""
    assert not Document.objects.exists()


def test_broken_base64_is_refused_with_102(route, patient, document_for):
    text = document_for(patient).text()
    start = text.index("Base64^") + len("Base64^")
    ack = send(text[:start] + "@@not base64@@" + text[text.index("|", start) :])
    assert ack.code == "AE" and ack.err[0].startswith("ERR||OBX^1^5|102^")


@pytest.mark.parametrize(
    "payload",
    [b"Document medical au format texte", b"<html><body>pas un CDA</body></html>",
     b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><ClinicalDocument xmlns="urn:hl7-org:v3"/>'],
)  # fmt: skip
def test_a_payload_that_is_not_a_cda_is_refused_with_906(route, patient, document_for, payload):
    mdm = document_for(patient)
    ack = send(mdm.but(cda=payload))
    assert ack.code == "AE" and ack.application_code == "906"
    assert not Document.objects.exists()


def test_txa12_that_does_not_name_the_cda_is_refused_with_906(route, patient, document_for):
    ack = send(document_for(patient).but(document_id="1.2.3.4.5"))
    assert ack.code == "AE" and ack.application_code == "906"


def test_the_mdm_must_carry_its_document_obx(route, patient, document_for):
    text = document_for(patient).text()
    text = text.replace("OBX|1|ED|", "OBX|1|ST|", 1)
    ack = send(text)
    assert ack.code == "AE" and ack.err[0].startswith("ERR||OBX^1^2|102^")


def test_without_a_mailbox_route_the_default_route_is_used(unit, patient, document_for):
    other = CareUnitFactory(site=unit.site, code="DEFAUT")
    MailboxRoute.objects.create(care_unit=other, is_default=True)
    send(document_for(patient))
    assert Document.objects.get().care_unit == other


def test_the_uf_named_in_the_recipient_prt_routes_when_the_mailbox_is_not_mapped(unit, patient, document_for):
    text = (
        document_for(patient)
        .text()
        .replace(
            "RCT^Result Copies To^participation||||",
            "RCT^Result Copies To^participation||||Cardiologie^^^^^020000001^UF^^^CARDIO",
        )
    )
    assert send(text).code == "AA"
    assert Document.objects.get().care_unit == unit


def test_without_any_route_the_document_has_no_care_unit_nor_visit(patient, document_for):
    assert send(document_for(patient)).code == "AA"
    document = Document.objects.get()
    assert document.care_unit is None and document.episode is None


def test_the_visit_attached_is_the_one_in_the_routed_unit(route, patient, document_for):
    EpisodeFactory(patient=patient)  # elsewhere
    send(document_for(patient))
    assert Document.objects.get().episode.care_unit == route.care_unit


def test_the_mail_body_and_subject_are_read_from_the_second_obx(route, patient, document_for):
    send(document_for(patient, mdm_options={"subject": "XDM/1.0/DDM+CR cardio"}))
    trace = Trace.objects.get(event=Trace.Event.INTEGRATED)
    assert trace.subject == "XDM/1.0/DDM+CR cardio"
    assert trace.sender == "dr.expediteur@hopital-voisin.mssante.fr" and trace.mailbox == MAILBOX
    assert "mail_message_id" in trace.detail  # the body is kept in the journal only


def _second_version(patient, first, **options):
    identity = patient_identity(patient)
    values = {"version": 2, "replaces": first.document_id, "set_id": f"{first.document_id}.0", **options}
    root, cda = patient_document(identity, **values)
    return mdm_for(identity, cda, root, trigger="T10", replaced_id=first.document_id)


def test_a_replace_whose_cda_does_not_name_the_replaced_document_is_refused_with_900(route, patient, document_for):
    first = document_for(patient)
    send(first)
    ack = send(_second_version(patient, first, replaces=""))
    assert ack.code == "AE" and ack.application_code == "900"
    assert DocumentVersion.objects.count() == 1
    assert Trace.objects.get(event=Trace.Event.REFUSED).patient == patient


def test_a_replace_whose_cda_has_another_set_id_is_refused_with_900(route, patient, document_for):
    first = document_for(patient)
    send(first)
    ack = send(_second_version(patient, first, set_id="1.2.250.1.999.9.2.424242"))
    assert ack.code == "AE" and ack.application_code == "900"
    assert DocumentVersion.objects.count() == 1


def test_a_904_answer_does_not_reveal_the_local_identity_to_the_sender(route, patient, document_for):
    ack = send(document_for(patient, alter="birth_name"))
    assert ack.application_code == "904"
    assert "nom de naissance" in ack.err[0] and "MARTIN" not in ack.text.replace("MARTINX", "")
    refused = Trace.objects.get(event=Trace.Event.REFUSED)
    assert "« MARTIN » dans le dossier" in refused.detail["private"]
    assert "MARTIN" not in refused.detail["text"]


def test_the_same_cda_filed_meanwhile_by_another_listener_thread_ends_as_a_duplicate(
    route, patient, document_for, monkeypatch
):
    """The second message's checks ran before the first one committed: they saw nothing, its insert breaks
    the unique CDA id; it is applied again and answered as a duplicate."""
    import documents.services.integration
    from mss.services import reception

    mdm = document_for(patient)
    assert send(mdm).code == "AA"
    blind = {"mss": 1, "documents": 1}

    def once_blind(name, real):
        def check(*args, **kwargs):
            if blind[name]:
                blind[name] -= 1
                return None if name == "mss" else []
            return real(*args, **kwargs)

        return check

    monkeypatch.setattr(reception, "_duplicate", once_blind("mss", reception._duplicate))
    monkeypatch.setattr(
        documents.services.integration,
        "_known_versions",
        once_blind("documents", documents.services.integration._known_versions),
    )
    ack = send(mdm.but(control_id="other-listener-thread"))
    assert ack.code == "AA" and "déjà intégré" in ack.message.note, ack.text
    assert Document.objects.count() == 1 and DocumentVersion.objects.count() == 1
    assert list(Trace.objects.filter(message=ack.message).values_list("event", flat=True).order_by("pk")) == [
        "received", "matched", "duplicate"
    ]  # fmt: skip


def test_the_same_cda_seen_as_a_duplicate_by_the_documents_check_is_a_duplicate(
    route, patient, document_for, monkeypatch
):
    from mss.services import reception

    mdm = document_for(patient)
    send(mdm)
    real, skipped = reception._duplicate, []

    def first_call_blind(context):
        if not skipped:
            skipped.append(context)
            return None
        return real(context)

    monkeypatch.setattr(reception, "_duplicate", first_call_blind)
    ack = send(mdm.but(control_id="committed-between-the-two-checks"))
    assert ack.code == "AA" and "déjà intégré" in ack.message.note
