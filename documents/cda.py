"""CDA R2 documents of the CI-SIS (SC.CDA): build, read the header, place in a version chain.

* :func:`build_cda` renders a :class:`~documents.content.DocumentContent` as an N1 document (the PDF in a
  ``nonXMLBody``) or an N3 document (one narrative section per content section, then the
  "FR-Document-PDF-copie" section carrying the same PDF). The header follows the CI-SIS
  "structuration minimale". The output is deterministic: the same content gives the same bytes.
* :func:`parse_cda_header` reads any CDA R2 document (ours, DMP, MSSanté) with the hardened parser.
* :func:`detect_version` classifies an incoming document against the versions already stored.

No database here: plain data in, plain data out. See ``docs/cda.md``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Literal

from django.utils.timezone import get_default_timezone
from django.utils.translation import gettext as _
from lxml import etree

from documents import codes, ldl_ses
from documents.cdaxml import NS, XSI, H
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
from dpi.xmlsafe import InvalidXML, parse_xml

Level = Literal["N1", "N3"]

_H = H
_NSMAP = {"h": NS}

LOINC = "2.16.840.1.113883.6.1"
TEMPLATE_HL7_FRANCE = "2.16.840.1.113883.2.8.2.1"
TEMPLATE_CISIS = "1.2.250.1.213.1.1.1.1"
TEMPLATE_XDS_SD = "1.3.6.1.4.1.19376.1.2.20"
TEMPLATE_PDF_COPY_SECTION = "1.2.250.1.213.1.1.2.243"
TEMPLATE_ATTACHED_DOCUMENT = "1.2.250.1.213.1.1.3.18"
TEMPLATES_ATTACHED_DOCUMENT_TYPE = (
    "1.3.6.1.4.1.19376.1.5.3.1.4.13",
    "1.2.250.1.213.1.1.3.48",
    "1.2.250.1.213.1.1.3.48.18",
)
PROFESSIONAL_ID_ROOT = "1.2.250.1.71.4.2.1"  # national id of a professional (8 + RPPS...)
STRUCTURE_ID_ROOT = "1.2.250.1.71.4.2.2"  # national id of a structure: "1" + FINESS
AUTHOR_SPECIALTY_SYSTEM = codes.AUTHOR_SPECIALTY_SYSTEM
PRACTICE_SETTING_SYSTEM = codes.PRACTICE_SETTING_SYSTEM
FACILITY_TYPE_SYSTEM = codes.FACILITY_TYPE_SYSTEM
ACT_CODE_SYSTEM = codes.ACT_CODE_SYSTEM
CISIS_ENCOUNTER_SYSTEM = codes.CISIS_ENCOUNTER_SYSTEM

_SEX_OF_GENDER = {gender: sex for sex, gender in codes.GENDER_CODES.items()}  # UN (HL7) is the DPI's U
MAX_PDF_BYTES = 7_000_000  # base64 text stays under libxml2's 10 MB text node limit (huge_tree stays off)
PDF_COPY_MEDIA_ID = "doc-1"
_XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'

_N3_TEMPLATES = (TEMPLATE_HL7_FRANCE, TEMPLATE_CISIS)
_N1_TEMPLATES = (*_N3_TEMPLATES, TEMPLATE_XDS_SD)
_OID = re.compile(r"^[0-2](\.(0|[1-9][0-9]*))+$")
_TS = re.compile(r"^(\d{4})(\d{2})(\d{2})(\d{2})?(\d{2})?(\d{2})?(?:\.\d+)?([+-]\d{4})?$")


class InvalidCda(ValueError):
    """An incoming document that cannot be read as a CDA R2 document; the message is for the user."""


# --- Building -------------------------------------------------------------------------------------


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


# --- Reading the header ---------------------------------------------------------------------------


@dataclass(frozen=True)
class InstanceId:
    """An HL7 II: ``root`` OID (or UUID) and optional ``extension``."""

    root: str
    extension: str = ""

    @property
    def key(self) -> str:
        """One string for storage and comparison: ``root`` or ``root^extension``."""
        return f"{self.root}^{self.extension}" if self.extension else self.root


@dataclass(frozen=True)
class CdaPatient:
    """recordTarget: identifiers, the five INS traits, the used names."""

    ids: tuple[InstanceId, ...]
    ins: InstanceId | None  # the first id whose root is an INS OID
    birth_name: str
    first_names: tuple[str, ...]
    first_name: str
    birth_date: date | None
    sex: str
    birth_place_insee: str
    used_name: str
    used_first_name: str


@dataclass(frozen=True)
class CdaHeader:
    """What the DPI needs from a CDA header: identification, versions, patient, author, dates, body."""

    id: InstanceId
    set_id: InstanceId | None
    version_number: int | None
    type_code: str
    type_code_system: str
    type_label: str
    title: str
    effective_time: datetime | None
    confidentiality: str
    patient: CdaPatient
    author_id: InstanceId | None
    author_family_name: str
    author_given_name: str
    custodian_id: InstanceId | None
    custodian_name: str
    service_start: datetime | None
    service_end: datetime | None
    replaced_id: InstanceId | None  # relatedDocument typeCode="RPLC"
    level: Level
    pdf: bytes | None  # N1 body, or the PDF-copy section of an N3
    stylesheet_href: str
    study_uids: tuple[str, ...] = ()  # imaging: DICOM study instance UIDs (documentationOf/serviceEvent/id)

    def known_version(self) -> KnownVersion:
        """This document as a stored version (its own id as set when it has no setId)."""
        return KnownVersion(
            id_root=self.id.root,
            id_extension=self.id.extension,
            set_id=(self.set_id or self.id).key,
            version_number=self.version_number,
        )


def parse_cda_header(data: bytes) -> CdaHeader:
    """Read the header of a CDA R2 document. Raises :class:`InvalidCda` with a French message."""
    try:
        root = parse_xml(data)
    except InvalidXML as exc:
        raise InvalidCda(_("Document CDA illisible : %(reason)s") % {"reason": exc}) from exc
    if root.tag != _H + "ClinicalDocument":
        raise InvalidCda(
            _("Ce fichier n'est pas un document CDA R2 (élément racine %(tag)s au lieu de ClinicalDocument).")
            % {"tag": root.tag}
        )
    document_id = _instance_id(root.find("h:id", _NSMAP))
    if document_id is None:
        raise InvalidCda(_("Document CDA sans identifiant (ClinicalDocument/id)."))
    level = _level(root)
    event_time = root.find("h:documentationOf/h:serviceEvent/h:effectiveTime", _NSMAP)
    author = root.find("h:author/h:assignedAuthor", _NSMAP)
    custodian = root.find("h:custodian/h:assignedCustodian/h:representedCustodianOrganization", _NSMAP)
    return CdaHeader(
        id=document_id,
        set_id=_instance_id(root.find("h:setId", _NSMAP)),
        version_number=_version_number(root),
        type_code=_attr(root, "h:code", "code"),
        type_code_system=_attr(root, "h:code", "codeSystem"),
        type_label=_attr(root, "h:code", "displayName"),
        title=_text(root, "h:title"),
        effective_time=_parse_ts(_attr(root, "h:effectiveTime", "value")),
        confidentiality=_attr(root, "h:confidentialityCode", "code"),
        patient=_patient(root),
        author_id=_instance_id(_find(author, "h:id")),
        author_family_name=_text(author, "h:assignedPerson/h:name/h:family"),
        author_given_name=_text(author, "h:assignedPerson/h:name/h:given"),
        custodian_id=_instance_id(_find(custodian, "h:id")),
        custodian_name=_text(custodian, "h:name"),
        service_start=_parse_ts(_attr(event_time, "h:low", "value") or _attr(event_time, ".", "value")),
        service_end=_parse_ts(_attr(event_time, "h:high", "value")),
        replaced_id=_replaced_id(root),
        level=level,
        pdf=_embedded_pdf(root, level),
        stylesheet_href=_stylesheet_href(root),
        study_uids=_study_uids(root),
    )


def _study_uids(root: etree._Element) -> tuple[str, ...]:
    """The examinations an imaging report documents: their study instance UIDs open the images
    in the DRIMbox (SC.DB/TRA.04)."""
    ids = root.findall("h:documentationOf/h:serviceEvent/h:id", _NSMAP)
    return tuple(dict.fromkeys(uid for element in ids if (uid := element.get("root", "")) and _OID.match(uid)))


def _patient(root: etree._Element) -> CdaPatient:
    role = root.find("h:recordTarget/h:patientRole", _NSMAP)
    if role is None:
        raise InvalidCda(_("Document CDA sans patient (recordTarget/patientRole)."))
    ids = tuple(filter(None, (_instance_id(element) for element in role.findall("h:id", _NSMAP))))
    person = role.find("h:patient", _NSMAP)
    names = _find(person, "h:name")
    all_first_names = _name_part(names, "given", qualifier="")
    birth_date = _parse_ts(_attr(person, "h:birthTime", "value")[:8])
    return CdaPatient(
        ids=ids,
        ins=next((identifier for identifier in ids if identifier.root in INS_OIDS), None),
        birth_name=_name_part(names, "family", qualifier="BR"),
        first_names=tuple(all_first_names.split()),
        first_name=_name_part(names, "given", qualifier="BR") or next(iter(all_first_names.split()), ""),
        birth_date=birth_date.date() if birth_date else None,
        sex=_SEX_OF_GENDER.get(sex := _attr(person, "h:administrativeGenderCode", "code"), sex),
        birth_place_insee=_text(person, "h:birthplace/h:place/h:addr/h:county"),
        used_name=_name_part(names, "family", qualifier="CL"),
        used_first_name=_name_part(names, "given", qualifier="CL"),
    )


def _name_part(name: etree._Element | None, part: str, *, qualifier: str) -> str:
    """The first ``family``/``given`` carrying ``qualifier`` (BR, CL), or none at all when ``qualifier`` is empty."""
    for element in _findall(name, f"h:{part}"):
        qualifiers = (element.get("qualifier") or "").split()
        if (qualifier in qualifiers) if qualifier else not qualifiers:
            return _normalized(element.text)
    return ""


def _level(root: etree._Element) -> Level:
    if root.find("h:component/h:nonXMLBody", _NSMAP) is not None:
        return "N1"
    if root.find("h:component/h:structuredBody", _NSMAP) is not None:
        return "N3"
    raise InvalidCda(_("Document CDA sans corps (component/nonXMLBody ou structuredBody)."))


def _embedded_pdf(root: etree._Element, level: Level) -> bytes | None:
    if level == "N1":
        path = "h:component/h:nonXMLBody/h:text[@mediaType='application/pdf']"
    else:
        path = (
            "h:component/h:structuredBody//h:section[h:templateId/@root=$template]"
            "//h:observationMedia/h:value[@mediaType='application/pdf']"
        )
    found = root.xpath(path, namespaces=_NSMAP, template=TEMPLATE_PDF_COPY_SECTION)
    return _decode_pdf(found[0]) if found else None


def _decode_pdf(element: etree._Element) -> bytes:
    if element.get("representation") != "B64":
        raise InvalidCda(_('Le PDF encapsulé doit être en base64 (representation="B64").'))
    try:
        pdf = base64.b64decode("".join((element.text or "").split()), validate=True)
    except binascii.Error as exc:
        raise InvalidCda(_("Le PDF encapsulé est illisible (base64 invalide).")) from exc
    if b"%PDF-" not in pdf[:1024]:
        raise InvalidCda(_("Le contenu déclaré application/pdf n'est pas un PDF."))
    return pdf


def _replaced_id(root: etree._Element) -> InstanceId | None:
    for related in root.findall("h:relatedDocument", _NSMAP):
        if related.get("typeCode") == "RPLC":
            return _instance_id(related.find("h:parentDocument/h:id", _NSMAP))
    return None


def _version_number(root: etree._Element) -> int | None:
    value = _attr(root, "h:versionNumber", "value")
    if not value:
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise InvalidCda(_("Numéro de version illisible : %(value)s.") % {"value": value}) from exc


def _stylesheet_href(root: etree._Element) -> str:
    for sibling in reversed(list(root.itersiblings(preceding=True))):
        if isinstance(sibling, etree._ProcessingInstruction) and sibling.target == "xml-stylesheet":
            return sibling.get("href") or ""
    return ""


def _parse_ts(value: str) -> datetime | None:
    """A CDA TS (``YYYYMMDD[HH[MM[SS]]][.f][+HHMM]``) as an aware datetime; local time zone without offset."""
    if not value:
        return None
    match = _TS.match(value.strip())
    if not match:
        raise InvalidCda(_("Date CDA illisible : %(value)s.") % {"value": value})
    year, month, day, hour, minute, second, offset = match.groups()
    zone = _offset(offset) if offset else get_default_timezone()
    try:
        return datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), tzinfo=zone
        )
    except ValueError as exc:
        raise InvalidCda(_("Date CDA illisible : %(value)s.") % {"value": value}) from exc


def _offset(value: str) -> timezone:
    sign = -1 if value[0] == "-" else 1
    return timezone(sign * timedelta(hours=int(value[1:3]), minutes=int(value[3:5])))


def _instance_id(element: etree._Element | None) -> InstanceId | None:
    if element is None or not element.get("root"):
        return None
    return InstanceId(root=element.get("root").strip(), extension=(element.get("extension") or "").strip())


def _find(element: etree._Element | None, path: str) -> etree._Element | None:
    return None if element is None else element.find(path, _NSMAP)


def _findall(element: etree._Element | None, path: str) -> list[etree._Element]:
    return [] if element is None else element.findall(path, _NSMAP)


def _attr(element: etree._Element | None, path: str, attribute: str) -> str:
    found = _find(element, path)
    return (found.get(attribute) or "").strip() if found is not None else ""


def _text(element: etree._Element | None, path: str) -> str:
    found = _find(element, path)
    return _normalized(found.text) if found is not None else ""


def _normalized(text: str | None) -> str:
    return " ".join((text or "").split())


# --- Versions -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KnownVersion:
    """A document version already stored for the patient. ``set_id`` is an :attr:`InstanceId.key`."""

    id_root: str
    id_extension: str = ""
    set_id: str = ""
    version_number: int | None = None

    @property
    def id_key(self) -> str:
        return InstanceId(self.id_root, self.id_extension).key


class VersionStatus(StrEnum):
    DUPLICATE = "duplicate"  # this very document (same id) is already stored
    NEW_VERSION = "new_version"  # it replaces the latest stored version of its document
    STALE = "stale"  # a version that is not newer than the one stored
    NEW_DOCUMENT = "new_document"


@dataclass(frozen=True)
class VersionVerdict:
    """``known`` is the stored duplicate, the version replaced, or the newer version that makes it stale.

    ``set_id`` is the set the incoming document belongs to (to store with it): its setId, else the set of
    the version it replaces, else its own id.
    """

    status: VersionStatus
    set_id: str
    known: KnownVersion | None = None


def detect_version(header: CdaHeader, known: Iterable[KnownVersion]) -> VersionVerdict:
    """Classify ``header`` against the versions stored for the same patient (gotcha 5, DSR Q&A).

    Same id: duplicate. Same setId as stored versions, or (setId absent or unknown) relatedDocument RPLC
    pointing at a stored id: a new version when its versionNumber is greater than the latest stored one
    of that document, otherwise stale. Anything else: a new document. A missing versionNumber counts as 1.
    """
    versions = tuple(known)
    own_set = (header.set_id or header.id).key
    duplicate = _stored(versions, header.id)
    if duplicate:
        return VersionVerdict(VersionStatus.DUPLICATE, set_id=duplicate.set_id or own_set, known=duplicate)
    family = _family(header, versions)
    if not family:
        return VersionVerdict(VersionStatus.NEW_DOCUMENT, set_id=own_set)
    latest = max(family, key=lambda version: version.version_number or 1)
    if (header.version_number or 1) > (latest.version_number or 1):
        # the stored document's setId: a new version naming an unknown setId still joins its parent's document
        return VersionVerdict(VersionStatus.NEW_VERSION, set_id=latest.set_id or latest.id_key, known=latest)
    return VersionVerdict(VersionStatus.STALE, set_id=latest.set_id or own_set, known=latest)


def _family(header: CdaHeader, versions: tuple[KnownVersion, ...]) -> list[KnownVersion]:
    """The stored versions of the same document: by setId, else through the replaced document."""
    if header.set_id:
        same_set = [version for version in versions if version.set_id == header.set_id.key]
        if same_set:
            return same_set
    parent = _stored(versions, header.replaced_id) if header.replaced_id else None
    if parent is None:
        return []
    if parent.set_id:
        return [version for version in versions if version.set_id == parent.set_id]
    return [parent]


def _stored(versions: tuple[KnownVersion, ...], document_id: InstanceId) -> KnownVersion | None:
    return next((version for version in versions if version.id_key == document_id.key), None)
