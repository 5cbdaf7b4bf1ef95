"""Building: a DocumentContent as an N1 or N3 CDA R2 document of the CI-SIS (the same content gives the same bytes)."""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _
from lxml import etree

from documents import codes, ldl_ses
from documents.cda.common import (
    _H,
    _N1_TEMPLATES,
    _N3_TEMPLATES,
    _OID,
    _XML_DECLARATION,
    ACT_CODE_SYSTEM,
    AUTHOR_SPECIALTY_SYSTEM,
    FACILITY_TYPE_SYSTEM,
    LOINC,
    MAX_PDF_BYTES,
    PDF_COPY_MEDIA_ID,
    PRACTICE_SETTING_SYSTEM,
    PROFESSIONAL_ID_ROOT,
    STRUCTURE_ID_ROOT,
    TEMPLATE_ATTACHED_DOCUMENT,
    TEMPLATE_PDF_COPY_SECTION,
    TEMPLATES_ATTACHED_DOCUMENT_TYPE,
    Level,
)
from documents.cdaxml import NS, XSI
from documents.cdaxml import add_code as _add_code
from documents.cdaxml import b64 as _b64
from documents.cdaxml import derived_uuid as _derived_uuid
from documents.cdaxml import sub as _sub
from documents.cdaxml import ts as _ts
from documents.codes import Concept
from documents.content import (
    INS_OIDS,
    RPPS_PREFIX,
    Author,
    DocumentContent,
    Encounter,
    Organization,
    PatientIdentity,
    Recipient,
    Section,
)


def build_cda(content: DocumentContent, *, pdf: bytes, level: Level) -> bytes:
    """The CDA R2 document of ``content`` at ``level``, UTF-8 bytes with the XML declaration."""
    _check_content(content, pdf, level)
    root = etree.Element(_H + "ClinicalDocument", nsmap={None: NS, "xsi": XSI})
    _add_header(root, content, level)
    body = _sub(root, "component")
    if level == "N1":
        _sub(_sub(body, "nonXMLBody"), "text", _b64(pdf), mediaType="application/pdf", representation="B64")
    else:
        structured = _sub(body, "structuredBody")
        if content.discharge is not None:
            ldl_ses.add_sections(structured, content)
        else:
            for section in content.sections:
                _add_section(structured, section)
        _add_pdf_copy_section(structured, content.id_root, pdf)
    return _XML_DECLARATION + etree.tostring(root, encoding="UTF-8", pretty_print=True)


def _check_content(content: DocumentContent, pdf: bytes, level: str) -> None:
    """Refuse, with a clear message, what would give an invalid or misleading document."""
    _check_body(pdf, level)
    _check_identifiers(content)
    _check_codes(content)


def _check_body(pdf: bytes, level: str) -> None:
    if level not in ("N1", "N3"):
        raise ValueError(_("Niveau CDA inconnu : %(level)s (N1 ou N3).") % {"level": level})
    if not pdf.startswith(b"%PDF-"):
        raise ValueError(_("Le corps du document doit être un PDF."))
    if len(pdf) > MAX_PDF_BYTES:
        raise ValueError(
            _("PDF trop volumineux pour un document CDA (%(max)d octets au plus).") % {"max": MAX_PDF_BYTES}
        )


def _check_identifiers(content: DocumentContent) -> None:
    for label, oid in (("id", content.id_root), ("setId", content.set_id), ("IPP", content.patient.ipp_root)):
        _check_oid(label, oid)
    if content.version_number < 1:
        raise ValueError(_("Le numéro de version commence à 1."))
    if content.replaces_id:
        _check_oid("relatedDocument", content.replaces_id)
        if content.replaces_id == content.id_root or content.version_number < 2:
            raise ValueError(_("Un remplacement porte un nouvel identifiant et un numéro de version supérieur à 1."))
    if content.patient.qualified and content.patient.ins_oid not in INS_OIDS:
        raise ValueError(_("OID d'INS inconnu : %(oid)s.") % {"oid": content.patient.ins_oid})


def _check_codes(content: DocumentContent) -> None:
    if content.confidentiality not in codes.CONFIDENTIALITIES:
        raise ValueError(_("Code de confidentialité inconnu : %(code)s.") % {"code": content.confidentiality})
    if content.patient.sex not in codes.GENDER_CODES:
        raise ValueError(_("Sexe inconnu : %(sex)s (M, F ou U).") % {"sex": content.patient.sex})
    for professional in filter(None, (content.author, content.legal_authenticator)):
        if _author_code(professional) is None:
            raise ValueError(
                _("Profession de %(name)s absente ou inconnue (%(code)s) : le document ne peut pas nommer son auteur.")
                % {"name": f"{professional.given_name} {professional.family_name}", "code": professional.role_code}
            )


def _check_oid(label: str, value: str) -> None:
    if not _OID.match(value):
        raise ValueError(_("%(label)s : « %(value)s » n'est pas un OID.") % {"label": label, "value": value})


def _add_header(root: etree._Element, content: DocumentContent, level: str) -> None:
    _sub(root, "realmCode", code="FR")
    _sub(root, "typeId", root="2.16.840.1.113883.1.3", extension="POCD_HD000040")
    for template in _N1_TEMPLATES if level == "N1" else _N3_TEMPLATES:
        _sub(root, "templateId", root=template)
    if level == "N3" and content.discharge is not None:
        template, version = ldl_ses.TEMPLATE
        _sub(root, "templateId", root=template, extension=version)
    _sub(root, "id", root=content.id_root)
    doc_type = content.type
    _sub(
        root,
        "code",
        code=doc_type.code,
        displayName=doc_type.label,
        codeSystem=doc_type.code_system,
        codeSystemName="LOINC" if doc_type.code_system == LOINC else "",
    )
    _sub(root, "title", content.title)
    _sub(root, "effectiveTime", value=_ts(content.created_at))
    _add_code(root, "confidentialityCode", codes.CONFIDENTIALITIES[content.confidentiality])
    _sub(root, "languageCode", code="fr-FR")
    _sub(root, "setId", root=content.set_id)
    _sub(root, "versionNumber", value=str(content.version_number))
    _add_record_target(root, content.patient)
    _add_author(root, content)
    _add_organization(
        _sub(_sub(root, "custodian"), "assignedCustodian"), "representedCustodianOrganization", content.custodian
    )
    for recipient in content.recipients:
        if not recipient.is_patient:
            _add_information_recipient(root, recipient)
    _add_legal_authenticator(root, content)
    _add_service_event(root, content)
    if content.replaces_id:
        _sub(_sub(_sub(root, "relatedDocument", typeCode="RPLC"), "parentDocument"), "id", root=content.replaces_id)
    if content.encounter:
        _add_encounter(root, content.encounter, content.custodian)


def _add_record_target(root: etree._Element, patient: PatientIdentity) -> None:
    role = _sub(_sub(root, "recordTarget"), "patientRole")
    if patient.qualified:
        _sub(role, "id", root=patient.ins_oid, extension=patient.ins)
    _sub(role, "id", root=patient.ipp_root, extension=patient.ipp)
    person = _sub(role, "patient", classCode="PSN")
    name = _sub(person, "name")
    _sub(name, "family", patient.birth_name, qualifier="BR")
    _sub(name, "given", patient.first_names)
    _sub(name, "given", patient.first_name, qualifier="BR")
    if patient.used_name:
        _sub(name, "family", patient.used_name, qualifier="CL")
    if patient.used_first_name:
        _sub(name, "given", patient.used_first_name, qualifier="CL")
    _add_code(person, "administrativeGenderCode", codes.GENDERS[codes.GENDER_CODES[patient.sex]])
    if patient.birth_date:
        _sub(person, "birthTime", value=patient.birth_date.strftime("%Y%m%d"))
    else:
        _sub(person, "birthTime", nullFlavor="UNK")
    if patient.birth_place_insee:
        _sub(_sub(_sub(_sub(person, "birthplace"), "place"), "addr"), "county", patient.birth_place_insee)


def _add_author(root: etree._Element, content: DocumentContent) -> None:
    author = _sub(root, "author")
    _sub(author, "time", value=_ts(content.created_at))
    _add_assigned_professional(author, "assignedAuthor", content.author, content.custodian)


def _add_information_recipient(root: etree._Element, recipient: Recipient) -> None:
    """A planned recipient (CI-SIS InformationRecipient): RPPS, MSSanté address, name, organisation."""
    intended = _sub(_sub(root, "informationRecipient"), "intendedRecipient")
    if recipient.rpps:
        _sub(intended, "id", root=PROFESSIONAL_ID_ROOT, extension=f"{RPPS_PREFIX}{recipient.rpps}")
    if recipient.mss_address:
        _sub(intended, "telecom", value=f"mailto:{recipient.mss_address}")
    if recipient.family_name:
        name = _sub(_sub(intended, "informationRecipient"), "name")
        _sub(name, "family", recipient.family_name)
        if recipient.given_name:
            _sub(name, "given", recipient.given_name)
        if recipient.civility:
            _sub(name, "prefix", recipient.civility)
        if recipient.title:
            _sub(name, "suffix", recipient.title)
    if recipient.organization:
        organization = _sub(intended, "receivedOrganization")
        if recipient.organization_id:
            _sub(organization, "id", root=STRUCTURE_ID_ROOT, extension=recipient.organization_id)
        _sub(organization, "name", recipient.organization)


def _add_legal_authenticator(root: etree._Element, content: DocumentContent) -> None:
    authenticator = _sub(root, "legalAuthenticator")
    _sub(authenticator, "time", value=_ts(content.created_at))
    _sub(authenticator, "signatureCode", code="S")
    _add_assigned_professional(
        authenticator, "assignedEntity", content.legal_authenticator or content.author, content.custodian
    )


def _add_service_event(root: etree._Element, content: DocumentContent) -> None:
    """documentationOf/serviceEvent: the act dates (the DMP's serviceStartTime) and the performer's practice setting."""
    event = _sub(_sub(root, "documentationOf"), "serviceEvent")
    _add_interval(event, content.act_start, content.act_end)
    performer = _sub(event, "performer", typeCode="PRF")
    _add_assigned_professional(
        performer, "assignedEntity", content.author, content.custodian, with_practice_setting=True
    )


def _add_encounter(root: etree._Element, encounter: Encounter, custodian: Organization) -> None:
    visit = _sub(_sub(root, "componentOf"), "encompassingEncounter")
    _add_code(visit, "code", _concept(codes.ENCOUNTER_KINDS, encounter.kind_code, ACT_CODE_SYSTEM))
    _add_interval(visit, encounter.start, encounter.end)
    facility = _sub(_sub(visit, "location"), "healthCareFacility")
    _sub(facility, "id", root=STRUCTURE_ID_ROOT, extension=_structure_id(custodian))
    _add_code(facility, "code", _concept(codes.FACILITY_TYPES, encounter.facility_type_code, FACILITY_TYPE_SYSTEM))
    if encounter.care_unit:
        _sub(_sub(facility, "location"), "name", encounter.care_unit)


def _add_assigned_professional(
    parent: etree._Element,
    tag: str,
    professional: Author,
    default_organization: Organization,
    *,
    with_practice_setting: bool = False,
) -> None:
    """A professional with their organization (the custodian when the professional has none)."""
    assigned = _sub(parent, tag)
    _sub(assigned, "id", root=PROFESSIONAL_ID_ROOT, extension=professional.national_id)
    unknown = Concept(professional.role_code, AUTHOR_SPECIALTY_SYSTEM, "")  # refused by _check_content
    _add_code(assigned, "code", _author_code(professional) or unknown)
    name = _sub(_sub(assigned, "assignedPerson"), "name")
    _sub(name, "given", professional.given_name)
    _sub(name, "family", professional.family_name)
    organization = professional.organization or default_organization
    _add_organization(assigned, "representedOrganization", organization, with_practice_setting=with_practice_setting)


def _add_organization(
    parent: etree._Element, tag: str, organization: Organization, *, with_practice_setting: bool = False
) -> None:
    element = _sub(parent, tag)
    _sub(element, "id", root=STRUCTURE_ID_ROOT, extension=_structure_id(organization))
    _sub(element, "name", organization.name)
    if with_practice_setting:
        practice = _concept(codes.PRACTICE_SETTINGS, organization.practice_setting, PRACTICE_SETTING_SYSTEM)
        _add_code(element, "standardIndustryClassCode", practice)


def _author_code(professional: Author) -> Concept | None:
    return codes.author_specialty(professional.profession_code, professional.specialty_code)


def _concept(table: dict[str, Concept], code: str, code_system: str) -> Concept:
    """The code with its national label; a code the table lacks keeps no label (the validators then say so)."""
    return table.get(code) or Concept(code, code_system, "")


def _structure_id(organization: Organization) -> str:
    """National structure id for a FINESS: "1" + geographic FINESS (as in every national example)."""
    return f"1{organization.finess_eg}"


def _add_interval(parent: etree._Element, start: datetime | None, end: datetime | None) -> None:
    interval = _sub(parent, "effectiveTime")
    if start:
        _sub(interval, "low", value=_ts(start))
    else:
        _sub(interval, "low", nullFlavor="UNK")
    if end:
        _sub(interval, "high", value=_ts(end))


def _add_section(structured: etree._Element, section: Section) -> None:
    element = _sub(_sub(structured, "component"), "section")
    _sub(element, "code", code=section.code, codeSystem=LOINC, codeSystemName="LOINC")
    _sub(element, "title", section.title)
    text = _sub(element, "text")
    for paragraph in section.paragraphs:
        _sub(text, "paragraph", paragraph)
    if section.table_rows:
        _add_table(text, section)


def _add_table(text: etree._Element, section: Section) -> None:
    table = _sub(text, "table", border="1")
    if section.table_header:
        row = _sub(_sub(table, "thead"), "tr")
        for cell in section.table_header:
            _sub(row, "th", cell)
    body = _sub(table, "tbody")
    for values in section.table_rows:
        row = _sub(body, "tr")
        for cell in values:
            _sub(row, "td", cell)


def _add_pdf_copy_section(structured: etree._Element, document_id: str, pdf: bytes) -> None:
    """FR-Document-PDF-copie: narrative renderMultiMedia -> organizer FR-Document-attache -> observationMedia."""
    section = _sub(_sub(structured, "component"), "section")
    _sub(section, "templateId", root=TEMPLATE_PDF_COPY_SECTION)
    _sub(section, "id", root=_derived_uuid(document_id, "section"))
    _sub(section, "code", code="55108-5", displayName="Copie du document", codeSystem=LOINC, codeSystemName="LOINC")
    _sub(section, "title", "Copie du document")
    _sub(_sub(section, "text"), "renderMultiMedia", referencedObject=PDF_COPY_MEDIA_ID)
    organizer = _sub(_sub(section, "entry"), "organizer", classCode="CLUSTER", moodCode="EVN")
    _sub(organizer, "templateId", root=TEMPLATE_ATTACHED_DOCUMENT)
    _sub(organizer, "id", root=_derived_uuid(document_id, "organizer"))
    _sub(organizer, "code", code="55107-7", displayName="Document attaché", codeSystem=LOINC, codeSystemName="LOINC")
    _sub(organizer, "statusCode", code="completed")
    observation = _sub(_sub(organizer, "component"), "observation", classCode="OBS", moodCode="EVN")
    for template in TEMPLATES_ATTACHED_DOCUMENT_TYPE:
        _sub(observation, "templateId", root=template)
    _sub(observation, "id", root=_derived_uuid(document_id, "observation"))
    _sub(observation, "code", code="69764-9", displayName="Type de document", codeSystem=LOINC, codeSystemName="LOINC")
    _sub(_sub(observation, "text"), "reference", value=f"#{PDF_COPY_MEDIA_ID}")
    _sub(observation, "statusCode", code="completed")
    _sub(observation, "effectiveTime", nullFlavor="NA")
    value = _sub(observation, "value", code="55108-5", displayName="Copie du document", codeSystem=LOINC)
    value.set(f"{{{XSI}}}type", "CD")
    media = _sub(
        _sub(organizer, "component"), "observationMedia", classCode="OBS", moodCode="EVN", ID=PDF_COPY_MEDIA_ID
    )
    _sub(media, "value", _b64(pdf), mediaType="application/pdf", representation="B64")
