"""Composing a document's content from its models: the one source of its PDF and CDA (SC.CDA/DD.02)."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from documents import codes
from documents.content import (
    Author,
    DischargeFacts,
    DocumentContent,
    DocumentType,
    Encounter,
    Organization,
    PatientIdentity,
    Section,
)
from documents.models import Document, DocumentVersion
from documents.pdf import print_settings
from documents.recipients import content_recipients
from documents.types import SEGUR_TYPES, STAY, STAY_TITLE, parse_table
from dpi.models import User
from patients.models import Episode, IdentityStatus, Patient

# JDV_EncompassingEncounterCode-CISIS: AMB is care outside the establishment; a day-hospital stay is SS.
ENCOUNTER_CODES = {
    Episode.Kind.INPATIENT: "IMP",
    Episode.Kind.AMBULATORY: "SS",
    Episode.Kind.OUTPATIENT: "EXTERNE",
    Episode.Kind.EMERGENCY: "EMER",
}


def document_content(document: Document, version: DocumentVersion, validator: User) -> DocumentContent:
    """The one content rendered both as PDF and as CDA (SC.CDA/DD.02): the draft's writer is its author, the
    user who validates it its legal authenticator (a senior validating a junior's draft: two people)."""
    unit = document.care_unit
    organization = Organization(
        name=unit.site.name if unit else "",
        finess_eg=document.finess_eg,
        finess_ej=unit.site.legal_entity.finess_ej if unit else "",
    )
    writer = _professional(document.author or validator, organization)
    authenticator = writer if document.author_id in (None, validator.pk) else _professional(validator, organization)
    discharge = _discharge_facts(document) if SEGUR_TYPES[document.type_code].volet == "LDL-SES" else None
    return DocumentContent(
        id_root=version.cda_id_root,
        set_id=document.set_id,
        version_number=version.version_number,
        type=_document_type(document),
        title=document.title,
        created_at=version.validated_at or timezone.now(),
        act_start=document.act_date,
        act_end=document.act_end,
        patient=_identity(document.patient),
        author=writer,
        custodian=organization,
        sections=_sections(document, discharge),
        encounter=_encounter(document.episode),
        replaces_id=version.replaces.cda_id_root if version.replaces else "",
        legal_authenticator=authenticator,
        discharge=discharge,
        printing=print_settings(unit.site if unit else None),
        recipients=content_recipients(document),
    )


def _professional(user: User, organization: Organization) -> Author:
    return Author(
        national_id=user.national_id,
        family_name=user.last_name,
        given_name=user.first_name,
        profession_code=user.profession,
        specialty_code=user.specialty,
        organization=organization,
    )


def _document_type(document: Document) -> DocumentType:
    """The type with the label of JDV_J07 (the CDA code's displayName), the document's own label otherwise."""
    national = codes.DOCUMENT_TYPES.get(document.type_code)
    return DocumentType(document.type_code, national.label if national else document.type_label)


def _identity(patient: Patient) -> PatientIdentity:
    qualified = patient.identity_status == IdentityStatus.QUALIFIEE and patient.ins
    return PatientIdentity(
        ipp=patient.ipp,
        ipp_root=settings.DPI_IPP_OID,
        birth_name=patient.birth_name,
        first_names=patient.first_names,
        birth_date=patient.birth_date,
        sex=patient.sex,
        birth_place_insee=patient.birth_place_insee,
        used_name=patient.used_name,
        used_first_name=patient.used_first_name,
        ins=patient.ins if qualified else "",
        ins_oid=patient.ins_oid if qualified else "",
    )


def _sections(document: Document, discharge: DischargeFacts | None) -> tuple[Section, ...]:
    """One section per field with a value, in the type's order; the discharge letter's stay facts make one
    section ("Synthèse médicale du séjour": the synthesis, then a row per fact stated)."""
    sections: list[Section] = []
    for spec in SEGUR_TYPES[document.type_code].fields:
        text = (document.fields.get(spec.name) or "").strip()
        if discharge is not None and spec.section_code == STAY:
            if not any(section.code == STAY for section in sections):
                rows = tuple((label, value) for _key, label, value in discharge.rows())
                sections.append(Section(STAY, STAY_TITLE, paragraphs=discharge.synthesis, table_rows=rows))
        elif spec.is_table and (text or discharge is not None):
            rows = parse_table(text, len(spec.columns))
            # the letter always says what its treatments are, in the words of JDV_AbsentOrUnknownMedication
            empty = () if rows else (codes.NO_MEDICATION_INFO.label,)
            sections.append(
                Section(spec.section_code, spec.label, paragraphs=empty, table_header=spec.columns, table_rows=rows)
            )
        elif text:
            sections.append(Section(spec.section_code, spec.label, paragraphs=_paragraphs(text)))
    return tuple(sections)


def _paragraphs(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.split("\n\n") if p.strip())


def _discharge_facts(document: Document) -> DischargeFacts:
    """The discharge letter's coded facts, from its fields (checked at validation) and its stay's dates."""
    fields, episode = document.fields, document.episode
    return DischargeFacts(
        entry_mode=codes.ENTRY_MODES[fields["modalite_entree"]],
        exit_mode=codes.EXIT_MODES[fields["modalite_sortie"]],
        synthesis=_paragraphs(fields.get("synthese") or ""),
        mdro_search=fields.get("recherche_bmr") == "oui",
        transfusion=fields.get("transfusion") == "oui",
        blood_derivatives=fields.get("derives_sang") == "oui",
        entry_time=episode.admitted_at if episode else None,
        exit_time=(episode.discharged_at if episode else None) or document.act_end,
        adverse_events=(fields.get("evenements_indesirables") or "").strip(),
        mdro=(fields.get("bmr") or "").strip(),
        transfusion_incidents=(fields.get("accidents_transfusionnels") or "").strip(),
        derivative_incidents=(fields.get("ei_derives_sang") or "").strip(),
    )


def _encounter(episode: Episode | None) -> Encounter | None:
    if episode is None:
        return None
    return Encounter(
        visit_number=episode.visit_number,
        kind_code=ENCOUNTER_CODES.get(episode.kind, "IMP"),
        start=episode.admitted_at,
        end=episode.discharged_at,
        care_unit=episode.care_unit.name,
        facility_type_code=settings.DMP_SECTEUR_ACTIVITE,
    )
