"""Reading the header of any CDA R2 document (ours, DMP, MSSanté) with the hardened parser."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from django.utils.timezone import get_default_timezone
from django.utils.translation import gettext as _
from lxml import etree

from documents.cda.common import (
    _H,
    _NSMAP,
    _OID,
    _SEX_OF_GENDER,
    _TS,
    TEMPLATE_PDF_COPY_SECTION,
    InstanceId,
    InvalidCda,
    KnownVersion,
    Level,
)
from documents.content import INS_OIDS
from dpi.xmlsafe import InvalidXML, parse_xml


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
