"""Writing, validating, correcting and deleting Ségur documents: versions, PDF/CDA coherence, locks, audit."""

from __future__ import annotations

from io import BytesIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from lxml import etree
from pypdf import PdfReader

from documents.cda import parse_cda_header
from documents.models import Provenance, Status, WritingRule
from documents.schema import cda_schema_errors, cda_schema_path
from documents.services import create_draft, delete_document, start_correction, update_draft, validate_document
from dpi.models import AuditEvent
from tests.factories import EpisodeFactory, PatientFactory

pytestmark = pytest.mark.django_db
H = {"h": "urn:hl7-org:v3"}

LETTER_FIELDS = {
    "motif": "Pneumopathie communautaire",
    "synthese": "Évolution favorable sous antibiothérapie.\n\nApyrexie depuis 48 h.",
    "modalite_entree": "urgence",
    "modalite_sortie": "domicile",
    "recherche_bmr": "non",
    "transfusion": "non",
    "derives_sang": "non",
    "traitements": "Amoxicilline 1 g ; 1 cp 3 fois par jour ; 7 jours\nParacétamol 1 g ; si douleur",
    "suites": "Consultation de contrôle à 10 jours.",
}


def _letter(episode, user, **changes):
    values = {"title": "Lettre de liaison — chirurgie", "fields": LETTER_FIELDS, "act_date": timezone.now()}
    values.update(changes)
    return create_draft(patient=episode.patient, episode=episode, type_code="11490-0", acting_user=user, **values)


def _pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)


def test_produced_cda_is_schema_valid(qualified_episode, doctor, schema_available):
    version = validate_document(document=_letter(qualified_episode, doctor), acting_user=doctor)
    assert cda_schema_errors(bytes(version.cda)) == []


def test_validation_renders_pdf_and_a_cda_with_the_same_content(qualified_episode, doctor):
    document = _letter(qualified_episode, doctor)
    version = validate_document(document=document, acting_user=doctor)
    document.refresh_from_db()
    assert document.status == Status.VALIDATED and document.current_version == version
    cda = bytes(version.cda)
    header = parse_cda_header(cda)
    assert (header.set_id.root, header.version_number) == (document.set_id, 1)
    assert (header.patient.ins.extension, header.patient.ins.root) == ("279035121518989", "1.2.250.1.213.1.4.10")
    assert header.pdf == bytes(version.pdf)
    text = _pdf_text(bytes(version.pdf))
    for label in ("Motif d'hospitalisation", "Pneumopathie communautaire", "Amoxicilline 1 g", "INS à scanner"):
        assert label in text


def test_unqualified_identity_has_no_ins_in_cda_nor_datamatrix(care_unit, doctor):
    episode = EpisodeFactory(care_unit=care_unit, patient=PatientFactory(ins="", identity_status="provisoire"))
    version = validate_document(document=_letter(episode, doctor), acting_user=doctor)
    assert parse_cda_header(bytes(version.cda)).patient.ins is None
    assert "INS à scanner" not in _pdf_text(bytes(version.pdf))


def test_validation_locks_the_version(qualified_episode, doctor):
    document = validate_document(document=_letter(qualified_episode, doctor), acting_user=doctor).document
    with pytest.raises(ValidationError):
        update_draft(document=document, title="x", fields={}, act_date=timezone.now(), acting_user=doctor)
    with pytest.raises(ValidationError):
        validate_document(document=document, acting_user=doctor)


def test_missing_required_field_is_refused_at_validation(qualified_episode, doctor):
    document = _letter(qualified_episode, doctor, fields={"motif": "Chute"})
    with pytest.raises(ValidationError, match="Synthèse du séjour"):
        validate_document(document=document, acting_user=doctor)


def test_correction_makes_version_2_with_same_set_id_replacing_version_1(qualified_episode, doctor):
    document = _letter(qualified_episode, doctor)
    first = validate_document(document=document, acting_user=doctor)
    start_correction(document=document, acting_user=doctor)
    update_draft(document=document, title="Lettre corrigée", fields={**LETTER_FIELDS, "suites": "RDV à 15 jours"},
                 act_date=document.act_date, acting_user=doctor)  # fmt: skip
    second = validate_document(document=document, acting_user=doctor)
    header = parse_cda_header(bytes(second.cda))
    assert (second.version_number, second.replaces) == (2, first)
    assert header.set_id.root == document.set_id and header.version_number == 2
    assert header.replaced_id.root == first.cda_id_root and header.id.root != first.cda_id_root
    assert list(document.versions.values_list("version_number", flat=True)) == [2, 1]  # both kept


def test_deleted_document_stays_with_its_versions(qualified_episode, doctor):
    document = validate_document(document=_letter(qualified_episode, doctor), acting_user=doctor).document
    delete_document(document=document, acting_user=doctor)
    document.refresh_from_db()
    assert document.status == Status.DELETED and document.versions.count() == 1


def test_only_habilitated_users_write(qualified_episode, user_without_unit):
    with pytest.raises(PermissionDenied):
        _letter(qualified_episode, user_without_unit)


def test_every_step_is_audited(qualified_episode, doctor):
    document = _letter(qualified_episode, doctor)
    validate_document(document=document, acting_user=doctor)
    delete_document(document=document, acting_user=doctor)
    events = AuditEvent.objects.filter(action=AuditEvent.Action.DOCUMENT_CHANGE).order_by("pk")
    changes = list(events.values_list("change", flat=True))
    assert changes == ["draft_created", "validated", "deleted"]  # the order is in the validation's row
    validated = events.get(change="validated")
    assert [order["channel"] for order in validated.detail["feeding"]] == ["dmp"]


def test_document_records_provenance_author_and_finess(qualified_episode, doctor):
    document = _letter(qualified_episode, doctor)
    assert document.provenance == Provenance.PRODUCED
    assert document.finess_eg == qualified_episode.care_unit.site.finess_eg
    assert document.author_national_id == f"8{doctor.rpps}"


def test_each_segur_type_validates(qualified_episode, doctor):
    samples = {
        "34874-8": {"indication": "Appendicite", "intervention": "Appendicectomie", "description": "Cœlioscopie."},
        "57833-6": {"lignes": "Paracétamol 1 g ; 1 g x 3/j ; 5 jours"},
        "11488-4": {"motif": "Contrôle", "conclusion": "Cicatrisation satisfaisante."},
    }
    for type_code, fields in samples.items():
        document = create_draft(
            patient=qualified_episode.patient,
            episode=qualified_episode,
            type_code=type_code,
            title="Document",
            fields=fields,
            act_date=timezone.now(),
            acting_user=doctor,
        )
        version = validate_document(document=document, acting_user=doctor)
        assert parse_cda_header(bytes(version.cda)).type_code == type_code
        if cda_schema_path().is_file():  # schema validity itself: test_produced_cda_is_schema_valid and test_cda
            assert cda_schema_errors(bytes(version.cda)) == []


def test_the_discharge_letter_is_ldl_ses_n3_saying_what_its_pdf_says(qualified_episode, doctor):
    """One content, three renditions (SC.CDA/DD.02): the PDF, the N3 narrative and its coded entries."""
    version = validate_document(document=_letter(qualified_episode, doctor), acting_user=doctor)
    cda = bytes(version.cda)
    header = parse_cda_header(cda)
    assert (version.level, header.level, header.pdf) == ("N3", "N3", bytes(version.pdf))
    root = etree.fromstring(cda)
    assert root.xpath("h:templateId[@root='1.2.250.1.213.1.1.1.29']/@extension", namespaces=H) == ["2022.01"]
    entry = root.xpath("//h:observation[h:code/@code='ORG-070']", namespaces=H)[0]
    assert entry.xpath("h:value/@code", namespaces=H) == ["183452005"]  # hospitalisation en urgence
    reference = entry.xpath("h:text/h:reference/@value", namespaces=H)[0]
    narrative = root.xpath(f"//h:content[@ID='{reference[1:]}']/text()", namespaces=H)[0]
    medications = root.xpath("//h:substanceAdministration//h:manufacturedMaterial/h:name/text()", namespaces=H)
    assert medications == ["Amoxicilline 1 g", "Paracétamol 1 g"]
    text = " ".join(_pdf_text(bytes(version.pdf)).split())
    for words in (narrative, "Synthèse médicale du séjour", "Transfusion de produits sanguins", "Apyrexie depuis 48 h"):
        assert words in text


def test_a_letter_without_the_volet_facts_or_with_a_value_off_the_list_is_refused(qualified_episode, doctor):
    incomplete = _letter(qualified_episode, doctor, fields={**LETTER_FIELDS, "transfusion": ""})
    with pytest.raises(ValidationError, match="Transfusion de produits sanguins"):
        validate_document(document=incomplete, acting_user=doctor)
    off_list = _letter(qualified_episode, doctor, fields={**LETTER_FIELDS, "modalite_sortie": "lune"})
    with pytest.raises(ValidationError, match="Modalité de sortie"):
        validate_document(document=off_list, acting_user=doctor)


def test_an_author_without_profession_cannot_validate_with_a_clear_message(qualified_episode, doctor):
    role = doctor.memberships.get().role  # a writing rule by role lets the draft reach the CDA's own check
    WritingRule.objects.create(type_code="11490-0", role=role, may_draft=True, may_validate=True)
    doctor.profession = ""
    doctor.save(update_fields=["profession"])
    with pytest.raises(ValidationError, match="Profession"):
        validate_document(document=_letter(qualified_episode, doctor), acting_user=doctor)
