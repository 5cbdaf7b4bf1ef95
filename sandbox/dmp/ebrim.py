"""The registry's objects as ebRIM 3.0 (the IHE XDS layout of ``docs/dmp-protocol.md`` §6), and ebRS answers.

Classification and identifier ids are derived from the entry's UUID, so the same entry always reads
the same. Times are XDS DTM in UTC (``YYYYMMDDhhmmss``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from sandbox.dmp import constants as c
from sandbox.dmp.codes import (
    CONTENT_TYPE_LABELS,
    FACILITY_TYPE_LABELS,
    FORMAT_SYSTEM,
    PRACTICE_SETTING_LABELS,
)
from sandbox.dmp.constants import NS, qname
from sandbox.models import DmpAssociation, DmpDocument, DmpSubmissionSet
from sandbox.models.dmp import APPROVED

_CONFIDENTIALITY_LABELS = {"N": "Normal", "R": "Restreint", "V": "Très restreint"}
_VISIBILITY_LABELS = {
    "MASQUE_PS": "Masqué aux professionnels de santé",
    "INVISIBLE_PATIENT": "Non visible par le patient",
    "INVISIBLE_REPRESENTANTS_LEGAUX": "Non visible par les représentants légaux",
}


@dataclass(frozen=True)
class RegistryError:
    """One ``rs:RegistryError`` (IHE error code, what it is about, French text)."""

    code: str
    context: str
    location: str = ""


class RegistryFailure(Exception):
    """A request the registry answers with ``status=Failure`` and one registry error (not a SOAP fault)."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text

    @property
    def error(self) -> RegistryError:
        return RegistryError(self.code, self.text)


def dtm(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S")


def rim(tag: str, parent: etree._Element | None = None, **attributes: str) -> etree._Element:
    if parent is None:
        return etree.Element(qname("rim", tag), attributes, nsmap={"rim": NS["rim"]})
    return etree.SubElement(parent, qname("rim", tag), attributes)


def slot(parent: etree._Element, name: str, *values: str) -> None:
    values_list = rim("ValueList", rim("Slot", parent, name=name))
    for value in values:
        rim("Value", values_list).text = value


def localized(parent: etree._Element, tag: str, value: str) -> None:
    rim(
        "LocalizedString",
        rim(tag, parent),
        value=value,
        charset="UTF-8",
        **{"{http://www.w3.org/XML/1998/namespace}lang": "fr-FR"},
    )


def _derived(owner: str, *parts: object) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, '/'.join(map(str, (owner, *parts))))}"


def _classification(
    parent: etree._Element, owner: str, scheme: str, node: str, system: str, label: str, n: int = 0
) -> None:
    element = rim(
        "Classification",
        parent,
        classificationScheme=scheme,
        classifiedObject=owner,
        nodeRepresentation=node,
        id=_derived(owner, scheme, n),
    )
    slot(element, "codingScheme", system)
    localized(element, "Name", label)


def _identifier(parent: etree._Element, owner: str, scheme: str, value: str, name: str) -> None:
    element = rim(
        "ExternalIdentifier",
        parent,
        identificationScheme=scheme,
        value=value,
        registryObject=owner,
        id=_derived(owner, scheme),
    )
    localized(element, "Name", name)


def _author(parent: etree._Element, owner: str, scheme: str, slots: Iterable[tuple[str, str]]) -> None:
    element = rim(
        "Classification",
        parent,
        classificationScheme=scheme,
        classifiedObject=owner,
        nodeRepresentation="",
        id=_derived(owner, scheme),
    )
    for name, value in slots:
        if value:
            slot(element, name, value)


def document_entry(entry: DmpDocument, patient_id: str) -> etree._Element:
    """The ``rim:ExtrinsicObject`` of one metadata version."""
    owner = entry.entry_uuid
    element = rim(
        "ExtrinsicObject",
        id=owner,
        lid=entry.lid,
        status=entry.status,
        mimeType=entry.mime_type,
        objectType=c.DOCUMENT_ENTRY_TYPE,
    )
    slot(element, "creationTime", dtm(entry.creation_time))
    slot(element, "serviceStartTime", dtm(entry.service_start))
    if entry.service_stop:
        slot(element, "serviceStopTime", dtm(entry.service_stop))
    slot(element, "hash", entry.hash)
    slot(element, "size", str(entry.size))
    slot(element, "languageCode", entry.language)
    slot(element, "repositoryUniqueId", entry.repository_unique_id)
    if entry.source_patient_id:
        slot(element, "sourcePatientId", entry.source_patient_id)
    if entry.reference_ids:
        slot(element, "urn:ihe:iti:xds:2013:referenceIdList", *entry.reference_ids)
    localized(element, "Name", entry.title)
    rim("Description", element)
    rim("VersionInfo", element, versionName=str(entry.version))
    _author(
        element,
        owner,
        c.DOCUMENT_AUTHOR,
        [
            ("authorPerson", entry.author_person),
            ("authorInstitution", entry.author_institution),
            ("authorRole", entry.author_role),
            ("authorSpecialty", entry.author_specialty),
        ],
    )
    _classification(element, owner, c.CLASS_CODE, entry.class_code, c.CLASS_SYSTEM, entry.class_label)
    confidentiality = [(entry.confidentiality, c.HL7_CONFIDENTIALITY, _CONFIDENTIALITY_LABELS[entry.confidentiality])]
    confidentiality += [(code, c.VISIBILITY_SYSTEM, _VISIBILITY_LABELS[code]) for code in entry.visibility_codes]
    for n, (code, system, label) in enumerate(confidentiality):
        _classification(element, owner, c.CONFIDENTIALITY_CODE, code, system, label, n)
    for n, (code, system, label) in enumerate(entry.event_codes):
        _classification(element, owner, c.EVENT_CODE, code, system, label, n)
    _classification(
        element, owner, c.FORMAT_CODE, entry.format_code, entry.format_scheme or FORMAT_SYSTEM, entry.format_code
    )
    facility_label = FACILITY_TYPE_LABELS.get(entry.facility_type_code, entry.facility_type_code)
    _classification(
        element, owner, c.FACILITY_TYPE_CODE, entry.facility_type_code, c.FACILITY_TYPE_SYSTEM, facility_label
    )
    practice_label = PRACTICE_SETTING_LABELS.get(entry.practice_setting_code, entry.practice_setting_code)
    _classification(
        element, owner, c.PRACTICE_SETTING_CODE, entry.practice_setting_code, c.PRACTICE_SETTING_SYSTEM, practice_label
    )
    _classification(element, owner, c.TYPE_CODE, entry.type_code, c.LOINC, entry.type_label)
    _identifier(element, owner, c.DOCUMENT_PATIENT_ID, patient_id, "XDSDocumentEntry.patientId")
    _identifier(element, owner, c.DOCUMENT_UNIQUE_ID, entry.unique_id, "XDSDocumentEntry.uniqueId")
    return element


def submission_set(package: DmpSubmissionSet, patient_id: str) -> etree._Element:
    """The ``rim:RegistryPackage`` of a submission set, classified as such."""
    owner = package.entry_uuid
    element = rim("RegistryPackage", id=owner, status=APPROVED)
    slot(element, "submissionTime", dtm(package.submission_time))
    localized(element, "Name", package.title)
    rim(
        "Classification",
        element,
        classificationNode=c.SUBMISSION_SET_NODE,
        classifiedObject=owner,
        id=_derived(owner, "node"),
    )
    _author(
        element,
        owner,
        c.SUBMISSION_AUTHOR,
        [("authorPerson", package.author_person), ("authorInstitution", package.author_institution)],
    )
    label = package.content_type_label or CONTENT_TYPE_LABELS.get(package.content_type_code, package.content_type_code)
    _classification(element, owner, c.CONTENT_TYPE_CODE, package.content_type_code, c.CONTENT_TYPE_SYSTEM, label)
    _identifier(element, owner, c.SUBMISSION_UNIQUE_ID, package.unique_id, "XDSSubmissionSet.uniqueId")
    _identifier(element, owner, c.SUBMISSION_SOURCE_ID, package.source_id, "XDSSubmissionSet.sourceId")
    _identifier(element, owner, c.SUBMISSION_PATIENT_ID, patient_id, "XDSSubmissionSet.patientId")
    return element


def association(link: DmpAssociation) -> etree._Element:
    element = rim(
        "Association",
        associationType=link.type,
        sourceObject=link.source,
        targetObject=link.target,
        id=link.entry_uuid,
        status=link.status,
    )
    if link.submission_set_status:
        slot(element, "SubmissionSetStatus", link.submission_set_status)
    if link.previous_version:
        slot(element, "PreviousVersion", link.previous_version)
    return element


def error_list(parent: etree._Element, errors: Iterable[RegistryError]) -> None:
    errors = list(errors)
    if not errors:
        return
    listing = etree.SubElement(parent, qname("rs", "RegistryErrorList"), highestSeverity=c.SEVERITY_ERROR)
    for error in errors:
        etree.SubElement(
            listing,
            qname("rs", "RegistryError"),
            errorCode=error.code,
            codeContext=error.context,
            severity=c.SEVERITY_ERROR,
            location=error.location,
        )


def registry_response(errors: Iterable[RegistryError] = (), *, status: str | None = None) -> etree._Element:
    """``rs:RegistryResponse``: Success, or Failure with its errors (ITI-57, and inside ITI-43)."""
    errors = list(errors)
    element = etree.Element(
        qname("rs", "RegistryResponse"), status=status or (c.FAILURE if errors else c.SUCCESS), nsmap={"rs": NS["rs"]}
    )
    error_list(element, errors)
    return element
