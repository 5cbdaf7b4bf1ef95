"""XDS metadata in ebRIM 3.0: reading registry objects into the plain dataclasses, writing slots,
classifications and identifiers, and the registry's response status (docs/dmp-protocol.md §6-8).

Scheme UUIDs are those of IHE ITI TF-3 §4.2.5. What the DMP sends is trusted for its meaning,
never for its form: a value the DPI cannot read is a :class:`~dmp.clients.errors.DmpProtocolError`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from lxml import etree

from dmp.clients.errors import DmpRefused, refused, unreadable
from dmp.clients.namespaces import tag
from dmp.clients.types import (
    APPROVED,
    Association,
    Author,
    Code,
    DocumentEntry,
    QueryResult,
    RegistryError,
    SubmissionSet,
)

DOCUMENT_ENTRY_TYPE = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"
AUTHOR = "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d"
CLASS_CODE = "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a"
CONFIDENTIALITY_CODE = "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f"
EVENT_CODE = "urn:uuid:2c6b8cb7-8b2a-4051-b291-b1ae6a575ef4"
FORMAT_CODE = "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d"
FACILITY_TYPE = "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1"
PRACTICE_SETTING = "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead"
TYPE_CODE = "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983"
PATIENT_ID = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"
UNIQUE_ID = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"
SUBMISSION_SET_NODE = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"
SUBMISSION_SET_AUTHOR = "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d"
CONTENT_TYPE = "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500"
SUBMISSION_SET_UNIQUE_ID = "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8"
SUBMISSION_SET_SOURCE_ID = "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832"
SUBMISSION_SET_PATIENT_ID = "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446"
HAS_MEMBER = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"
REFERENCE_ID_LIST = "urn:ihe:iti:xds:2013:referenceIdList"

SUCCESS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
FAILURE = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"
PARTIAL_SUCCESS = (
    "urn:ihe:iti:2007:ResponseStatusType:PartialSuccess"  # IHE's own: ebRS 3.0 has none (ITI TF-3 4.2.4.2)
)
XDS_TIME = "%Y%m%d%H%M%S"


# --- reading -------------------------------------------------------------------------------------


def query_result(object_list: etree._Element | None) -> QueryResult:
    """The entries, submission sets and associations of a ``rim:RegistryObjectList`` (LeafClass)."""
    if object_list is None:
        return QueryResult()
    packages = (submission_set(package) for package in object_list.iterfind(tag("rim", "RegistryPackage")))
    return QueryResult(
        documents=tuple(document_entry(entry) for entry in object_list.iterfind(tag("rim", "ExtrinsicObject"))),
        submission_sets=tuple(package for package in packages if package is not None),
        associations=tuple(association(link) for link in object_list.iterfind(tag("rim", "Association"))),
    )


def document_entry(extrinsic: etree._Element) -> DocumentEntry:
    """A ``rim:ExtrinsicObject`` as a :class:`DocumentEntry`, every metadata the DMP sent."""
    entry_uuid = _required(extrinsic, "id")
    version = extrinsic.find(tag("rim", "VersionInfo"))
    size = slot_value(extrinsic, "size")
    return DocumentEntry(
        entry_uuid=entry_uuid,
        logical_id=extrinsic.get("lid") or entry_uuid,
        unique_id=external_identifier(extrinsic, UNIQUE_ID),
        repository_unique_id=slot_value(extrinsic, "repositoryUniqueId"),
        status=extrinsic.get("status", ""),
        version=version.get("versionName", "1") if version is not None else "1",
        patient_id=external_identifier(extrinsic, PATIENT_ID),
        title=localized(extrinsic.find(tag("rim", "Name"))),
        type_code=_single_code(extrinsic, TYPE_CODE),
        class_code=_single_code(extrinsic, CLASS_CODE),
        format_code=_single_code(extrinsic, FORMAT_CODE),
        practice_setting=_single_code(extrinsic, PRACTICE_SETTING),
        facility_type=_single_code(extrinsic, FACILITY_TYPE),
        confidentiality=tuple(code_of(c) for c in classifications(extrinsic, CONFIDENTIALITY_CODE)),
        event_codes=tuple(code_of(c) for c in classifications(extrinsic, EVENT_CODE)),
        creation_time=parse_time(slot_value(extrinsic, "creationTime")),
        service_start=parse_time(slot_value(extrinsic, "serviceStartTime")),
        service_stop=parse_time(slot_value(extrinsic, "serviceStopTime")),
        authors=tuple(author_of(c) for c in classifications(extrinsic, AUTHOR)),
        mime_type=extrinsic.get("mimeType", ""),
        hash=slot_value(extrinsic, "hash"),
        size=_integer(size) if size else None,
        language=slot_value(extrinsic, "languageCode"),
        reference_ids=tuple(slot_values(extrinsic, REFERENCE_ID_LIST)),
        comments=localized(extrinsic.find(tag("rim", "Description"))),
    )


def submission_set(package: etree._Element) -> SubmissionSet | None:
    """A ``rim:RegistryPackage`` as a :class:`SubmissionSet`; None for a folder (no submission set uniqueId)."""
    unique_id = external_identifier(package, SUBMISSION_SET_UNIQUE_ID)
    if not unique_id:
        return None
    return SubmissionSet(
        entry_uuid=_required(package, "id"),
        unique_id=unique_id,
        submission_time=parse_time(slot_value(package, "submissionTime")),
        source_id=external_identifier(package, SUBMISSION_SET_SOURCE_ID),
        authors=tuple(author_of(c) for c in classifications(package, SUBMISSION_SET_AUTHOR)),
        content_type=_single_code(package, CONTENT_TYPE),
        status=package.get("status", APPROVED),
    )


def association(link: etree._Element) -> Association:
    return Association(
        entry_uuid=_required(link, "id"),
        type=_required(link, "associationType"),
        source=_required(link, "sourceObject"),
        target=_required(link, "targetObject"),
        status=link.get("status", APPROVED),
    )


def author_of(classification: etree._Element) -> Author:
    """An author classification: person (XCN), institution (XON), role and specialty."""
    person = slot_value(classification, "authorPerson")
    xcn = person.split("^")
    institution = slot_value(classification, "authorInstitution").split("^")
    specialty = slot_value(classification, "authorSpecialty")
    return Author(
        person=person,
        person_id=xcn[0],
        person_name=" ".join(part for part in (_component(xcn, 2), _component(xcn, 1)) if part),
        institution=institution[0],
        institution_id=_component(institution, 9) or _component(institution, 2),  # XON.10, else the old XON.3
        role=slot_value(classification, "authorRole"),
        specialty=_specialty(specialty) if specialty else None,
    )


def code_of(classification: etree._Element) -> Code:
    return Code(
        code=classification.get("nodeRepresentation", ""),
        scheme=slot_value(classification, "codingScheme"),
        display=localized(classification.find(tag("rim", "Name"))),
    )


def classifications(element: etree._Element, scheme: str) -> list[etree._Element]:
    return [c for c in element.iterfind(tag("rim", "Classification")) if c.get("classificationScheme") == scheme]


def external_identifier(element: etree._Element, scheme: str) -> str:
    for identifier in element.iterfind(tag("rim", "ExternalIdentifier")):
        if identifier.get("identificationScheme") == scheme:
            return identifier.get("value", "")
    return ""


def slot_values(element: etree._Element, name: str) -> list[str]:
    for slot in element.iterfind(tag("rim", "Slot")):
        if slot.get("name") == name:
            return [
                (value.text or "").strip()
                for value in slot.iterfind(f"{tag('rim', 'ValueList')}/{tag('rim', 'Value')}")
            ]
    return []


def slot_value(element: etree._Element, name: str) -> str:
    values = slot_values(element, name)
    return values[0] if values else ""


def localized(holder: etree._Element | None) -> str:
    """The text of a ``rim:Name`` or ``rim:Description`` (its first LocalizedString)."""
    string = None if holder is None else holder.find(tag("rim", "LocalizedString"))
    return "" if string is None else string.get("value", "")


def parse_time(value: str) -> datetime | None:
    """An XDS DTM (``YYYY[MM[DD[hh[mm[ss]]]]]``, UTC) as an aware datetime; the missing parts are the earliest."""
    if not value:
        return None
    if not value.isdigit() or len(value) not in (4, 6, 8, 10, 12, 14):
        raise unreadable(f"XDS time {value!r} unreadable")
    try:
        return datetime.strptime(value + "0101000000"[len(value) - 4 :], XDS_TIME).replace(tzinfo=UTC)
    except ValueError as exc:
        raise unreadable(f"XDS time {value!r} unreadable") from exc


def format_time(moment: datetime) -> str:
    """An aware datetime as an XDS time in UTC (``YYYYMMDDhhmmss``)."""
    if moment.tzinfo is None:
        raise ValueError("XDS times are sent in UTC: an aware datetime is expected")
    return moment.astimezone(UTC).strftime(XDS_TIME)


def registry_errors(response: etree._Element) -> tuple[RegistryError, ...]:
    """The ``rs:RegistryError`` elements of a response (a query, a retrieve or a submission)."""
    return tuple(
        RegistryError(
            code=error.get("errorCode", ""),
            message=error.get("codeContext", ""),
            severity=error.get("severity", RegistryError.severity),
            location=error.get("location", ""),
        )
        for error in response.iterfind(f"{tag('rs', 'RegistryErrorList')}/{tag('rs', 'RegistryError')}")
    )


def check_status(response: etree._Element) -> str:
    """The response's status; a ``Failure`` is raised as the refusal of its first error."""
    status = response.get("status", "")
    if status == FAILURE:
        raise failure(registry_errors(response))
    if status not in (SUCCESS, PARTIAL_SUCCESS):
        raise unreadable(f"registry status {status!r}")
    return status


def failure(errors: Iterable[RegistryError]) -> DmpRefused:
    first = next(iter(errors), None)
    if first is None:
        return refused("XDSRegistryError", "Failure without any RegistryError")
    return refused(first.code, first.message)


# --- writing -------------------------------------------------------------------------------------


def add_slot(parent: etree._Element, name: str, values: Iterable[str]) -> etree._Element:
    slot = etree.SubElement(parent, tag("rim", "Slot"), name=name)
    value_list = etree.SubElement(slot, tag("rim", "ValueList"))
    for value in values:
        etree.SubElement(value_list, tag("rim", "Value")).text = value
    return slot


def add_name(parent: etree._Element, text: str) -> None:
    name = etree.SubElement(parent, tag("rim", "Name"))
    etree.SubElement(name, tag("rim", "LocalizedString"), value=text)


def classification(
    *, scheme: str, classified: str, object_id: str, code: Code | None = None, node: str = ""
) -> etree._Element:
    """A ``rim:Classification``: coded (``code``: nodeRepresentation, codingScheme, Name), or an
    author one (slots added by the caller), or a classification node (``node``)."""
    element = etree.Element(tag("rim", "Classification"), id=object_id, classifiedObject=classified)
    if node:
        element.set("classificationNode", node)
        return element
    element.set("classificationScheme", scheme)
    element.set("nodeRepresentation", code.code if code else "")
    if code is not None:
        add_slot(element, "codingScheme", [code.scheme])
        add_name(element, code.display)
    return element


def add_external_identifier(parent: etree._Element, *, scheme: str, object_id: str, value: str, name: str) -> None:
    identifier = etree.SubElement(
        parent,
        tag("rim", "ExternalIdentifier"),
        id=object_id,
        identificationScheme=scheme,
        registryObject=parent.get("id", ""),
        value=value,
    )
    add_name(identifier, name)


# --- helpers -------------------------------------------------------------------------------------


def _single_code(element: etree._Element, scheme: str) -> Code | None:
    found = classifications(element, scheme)
    return code_of(found[0]) if found else None


def _specialty(value: str) -> Code:
    """authorSpecialty as the DMP sends it: ``code^label^OID`` (e.g. ``G15_10/SM26^Médecine générale^1.2...``)."""
    parts = value.split("^")
    return Code(code=parts[0], scheme=_component(parts, 2), display=_component(parts, 1))


def _component(parts: list[str], index: int) -> str:
    return parts[index] if len(parts) > index else ""


def _required(element: etree._Element, attribute: str) -> str:
    value = element.get(attribute)
    if not value:
        raise unreadable(f"{etree.QName(element).localname} without {attribute}")
    return value


def _integer(value: str) -> int:
    if not value.isdigit():
        raise unreadable(f"size {value!r} is not a number")
    return int(value)
