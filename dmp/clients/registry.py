"""TD3.1 (ITI-18 registry stored queries) and TD3.3a/b (ITI-57 visibility update) against the DMP registry.

Queries return a :class:`~dmp.clients.types.QueryResult`; a registry ``Failure`` is a
:class:`~dmp.clients.errors.DmpRefused` whose code is the first ``errorCode``. Parameter values
follow ITI-18 (docs/dmp-protocol.md §6): quoted strings (a quote doubled), lists in parentheses,
codes ``code^^^scheme``, UTC times ``YYYYMMDDhhmmss`` unquoted.
"""

from __future__ import annotations

import copy
import secrets
import time
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from lxml import etree

from dmp.clients import ebrim, soap
from dmp.clients.config import DmpClientConfig, resolve
from dmp.clients.errors import refused, unreadable
from dmp.clients.namespaces import nsmap, tag
from dmp.clients.types import (
    APPROVED,
    DELETED,
    DEPRECATED,
    INVISIBLE_TO_LEGAL_REPRESENTATIVES,
    INVISIBLE_TO_PATIENT,
    MASKED_TO_PROFESSIONALS,
    VISIBILITY_SYSTEM,
    Actor,
    Code,
    DocumentEntry,
    DocumentQuery,
    PatientRef,
    QueryResult,
    VisibilityChange,
)
from dmp.clients.vihf import SECTEUR_ACTIVITE_SYSTEM

STORED_QUERY = soap.Operation("urn:ihe:iti:2007:RegistryStoredQuery", tag("query", "AdhocQueryResponse"))
UPDATE_DOCUMENT_SET = soap.Operation("urn:ihe:iti:2010:UpdateDocumentSet", tag("rs", "RegistryResponse"))
FIND_DOCUMENTS = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"
GET_DOCUMENTS = "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4"
FIND_SUBMISSION_SETS = "urn:uuid:f26abbcb-ac74-4422-8a30-edb644bbc1a9"
GET_ASSOCIATIONS = "urn:uuid:a7ae438b-4bc2-4642-93e9-be891f7bb155"
GET_DOCUMENTS_AND_ASSOCIATIONS = "urn:uuid:bab9529a-4a10-40b3-a01f-f68a615d247a"

# The visibility codes TD3.3 sets (TRE_A07), with their labels; the CDA's N/R/V is never touched.
VISIBILITY = (
    ("invisible_to_patient", INVISIBLE_TO_PATIENT, "Non visible par le patient"),
    (
        "invisible_to_legal_representatives",
        INVISIBLE_TO_LEGAL_REPRESENTATIVES,
        "Non visible par les représentants légaux",
    ),
    ("masked_to_professionals", MASKED_TO_PROFESSIONALS, "Masqué aux professionnels de santé"),
)
IDNPS_AUTHORITY = "1.2.250.1.71.4.2.1"  # national identifiers of health professionals
AUTHOR_SPECIALTY_SYSTEM = "1.2.250.1.213.1.1.4.5"  # JDV_J01-XdsAuthorSpecialty-CISIS
SUBMISSION_SET_ARC = "4"  # DPI_OID_ROOT.4.n: uniqueIds of the submission sets the DPI sends (docs/decisions.md)


# --- TD3.1: stored queries -------------------------------------------------------------------------


def find_documents(
    actor: Actor, patient: PatientRef, query: DocumentQuery, *, config: DmpClientConfig | None = None
) -> QueryResult:
    """FindDocuments: the patient's entries matching ``query`` (those this professional may see)."""
    return _stored_query(actor, patient, FIND_DOCUMENTS, find_documents_parameters(patient, query), config)


def get_documents(
    actor: Actor,
    patient: PatientRef,
    *,
    unique_ids: Sequence[str] = (),
    entry_uuids: Sequence[str] = (),
    config: DmpClientConfig | None = None,
) -> QueryResult:
    """GetDocuments by uniqueId or by entryUUID (one of them); nothing asked, nothing sent."""
    return _by_entry(actor, patient, GET_DOCUMENTS, unique_ids, entry_uuids, config)


def find_submission_sets(
    actor: Actor,
    patient: PatientRef,
    *,
    since: datetime,
    until: datetime | None = None,
    config: DmpClientConfig | None = None,
) -> QueryResult:
    """FindSubmissionSets submitted from ``since`` (inclusive) to ``until`` (exclusive): what is new."""
    parameters = [
        ("$XDSSubmissionSetPatientId", quoted(patient.xds_patient_id)),
        ("$XDSSubmissionSetStatus", listed([APPROVED])),
        ("$XDSSubmissionSetSubmissionTimeFrom", ebrim.format_time(since)),
    ]
    if until is not None:
        parameters.append(("$XDSSubmissionSetSubmissionTimeTo", ebrim.format_time(until)))
    return _stored_query(actor, patient, FIND_SUBMISSION_SETS, parameters, config)


def get_associations(
    actor: Actor, patient: PatientRef, uuids: Sequence[str], *, config: DmpClientConfig | None = None
) -> QueryResult:
    """GetAssociations of the objects ``uuids`` (e.g. the HasMember of new submission sets)."""
    if not uuids:
        return QueryResult()
    return _stored_query(actor, patient, GET_ASSOCIATIONS, [("$uuid", listed(uuids))], config)


def get_documents_and_associations(
    actor: Actor,
    patient: PatientRef,
    *,
    entry_uuids: Sequence[str] = (),
    unique_ids: Sequence[str] = (),
    config: DmpClientConfig | None = None,
) -> QueryResult:
    """GetDocumentsAndAssociations: the entries and their associations (RPLC: replacements)."""
    return _by_entry(actor, patient, GET_DOCUMENTS_AND_ASSOCIATIONS, unique_ids, entry_uuids, config)


def find_documents_parameters(patient: PatientRef, query: DocumentQuery) -> list[tuple[str, str]]:
    """The FindDocuments parameters of ``query``, in ITI-18 syntax; empty criteria are not sent."""
    if not query.statuses:
        raise ValueError("FindDocuments needs at least one status")
    prefix = "$XDSDocumentEntry"
    parameters = [(f"{prefix}PatientId", quoted(patient.xds_patient_id)), (f"{prefix}Status", listed(query.statuses))]
    for name, codes in (
        ("ClassCode", query.class_codes),
        ("TypeCode", query.type_codes),
        ("PracticeSettingCode", query.practice_settings),
        ("HealthcareFacilityTypeCode", query.facility_types),
        ("FormatCode", query.format_codes),
        ("EventCodeList", query.event_codes),
        ("ConfidentialityCode", query.confidentiality_codes),
    ):
        if codes:
            parameters.append((f"{prefix}{name}", listed(f"{code.code}^^^{code.scheme}" for code in codes)))
    if query.author_person:
        parameters.append((f"{prefix}AuthorPerson", listed([query.author_person])))
    for name, moment in (
        ("CreationTimeFrom", query.creation_from),
        ("CreationTimeTo", query.creation_to),
        ("ServiceStartTimeFrom", query.service_start_from),
        ("ServiceStartTimeTo", query.service_start_to),
        ("ServiceStopTimeFrom", query.service_stop_from),
        ("ServiceStopTimeTo", query.service_stop_to),
    ):
        if moment is not None:
            parameters.append((f"{prefix}{name}", ebrim.format_time(moment)))
    return parameters


def adhoc_query_request(query_id: str, parameters: Iterable[tuple[str, str]]) -> etree._Element:
    """The ``query:AdhocQueryRequest`` of a stored query (LeafClass: full objects)."""
    request = etree.Element(tag("query", "AdhocQueryRequest"), nsmap=nsmap("query", "rim"))
    etree.SubElement(request, tag("query", "ResponseOption"), returnType="LeafClass", returnComposedObjects="true")
    query = etree.SubElement(request, tag("rim", "AdhocQuery"), id=query_id)
    for name, value in parameters:
        ebrim.add_slot(query, name, [value])
    return request


def quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def listed(values: Iterable[str]) -> str:
    return "(" + ",".join(quoted(value) for value in values) + ")"


def _by_entry(
    actor: Actor,
    patient: PatientRef,
    query_id: str,
    unique_ids: Sequence[str],
    entry_uuids: Sequence[str],
    config: DmpClientConfig | None,
) -> QueryResult:
    if unique_ids and entry_uuids:
        raise ValueError("by uniqueId or by entryUUID, not both (ITI-18)")
    if unique_ids:
        parameter = ("$XDSDocumentEntryUniqueId", listed(unique_ids))
    elif entry_uuids:
        parameter = ("$XDSDocumentEntryEntryUUID", listed(entry_uuids))
    else:
        return QueryResult()
    return _stored_query(actor, patient, query_id, [parameter], config)


def _stored_query(
    actor: Actor,
    patient: PatientRef,
    query_id: str,
    parameters: list[tuple[str, str]],
    config: DmpClientConfig | None,
) -> QueryResult:
    return ebrim.query_result(_query_objects(actor, patient, query_id, parameters, resolve(config)))


def _query_objects(
    actor: Actor, patient: PatientRef, query_id: str, parameters: list[tuple[str, str]], config: DmpClientConfig
) -> etree._Element | None:
    """The ``rim:RegistryObjectList`` a stored query answered (raw: TD3.3 copies an entry from it)."""
    answer = soap.call(
        config,
        url=config.registry_url,
        operation=STORED_QUERY,
        payload=adhoc_query_request(query_id, parameters),
        actor=actor,
        patient=patient,
    )
    ebrim.check_status(answer.body)
    return answer.body.find(tag("rim", "RegistryObjectList"))


# --- TD3.3a/b: visibility (ITI-57) -----------------------------------------------------------------


def update_visibility(
    actor: Actor,
    patient: PatientRef,
    *,
    unique_id: str,
    change: VisibilityChange,
    config: DmpClientConfig | None = None,
) -> DocumentEntry:
    """Mask/unmask a document, make it (in)visible to the patient or the legal representatives.

    The entry is re-read first (its entryUUID and version change at every update), sent back as a new
    version of the same logical document with only its visibility codes changed, and re-read after:
    the updated entry is returned. Nothing is sent when the change changes nothing.
    """
    config = resolve(config)
    current = _current_version(actor, patient, unique_id, config)
    entry = ebrim.document_entry(current)
    wanted = _visibility(entry, change)
    if wanted == _visibility(entry):
        return entry
    answer = soap.call(
        config,
        url=config.registry_url,
        operation=UPDATE_DOCUMENT_SET,
        payload=_update_request(actor, patient, current, entry.version, wanted, config),
        actor=actor,
        patient=patient,
    )
    ebrim.check_status(answer.body)
    return ebrim.document_entry(_current_version(actor, patient, unique_id, config))


def _update_request(
    actor: Actor,
    patient: PatientRef,
    current: etree._Element,
    previous_version: str,
    wanted: set[str],
    config: DmpClientConfig,
) -> etree._Element:
    """The ``lcm:SubmitObjectsRequest`` of ITI-57: submission set, new version, HasMember (§8)."""
    request = etree.Element(tag("lcm", "SubmitObjectsRequest"), nsmap=nsmap("lcm", "rim"))
    objects = etree.SubElement(request, tag("rim", "RegistryObjectList"))
    set_id, version_id = _new_uuid(), _new_uuid()
    objects.append(_submission_set(actor, patient, set_id, config))
    objects.append(_new_version(current, version_id, wanted))
    link = etree.SubElement(
        objects,
        tag("rim", "Association"),
        id=_new_uuid(),
        associationType=ebrim.HAS_MEMBER,
        sourceObject=set_id,
        targetObject=version_id,
    )
    ebrim.add_slot(link, "SubmissionSetStatus", ["Original"])
    ebrim.add_slot(link, "PreviousVersion", [previous_version])
    return request


def _current_version(actor: Actor, patient: PatientRef, unique_id: str, config: DmpClientConfig) -> etree._Element:
    """The entry's current version as the registry sent it (not a replaced or deleted one)."""
    parameters = [("$XDSDocumentEntryUniqueId", listed([unique_id]))]
    objects = _query_objects(actor, patient, GET_DOCUMENTS, parameters, config)
    found = [] if objects is None else objects.findall(tag("rim", "ExtrinsicObject"))
    for extrinsic in found:
        if extrinsic.get("status") not in (DEPRECATED, DELETED):
            return extrinsic
    raise refused("XDSDocumentUniqueIdError", f"GetDocuments returned no current version of {unique_id}")


def _submission_set(actor: Actor, patient: PatientRef, set_id: str, config: DmpClientConfig) -> etree._Element:
    package = etree.Element(tag("rim", "RegistryPackage"), id=set_id)
    ebrim.add_slot(package, "submissionTime", [ebrim.format_time(datetime.now(UTC))])
    author = ebrim.classification(scheme=ebrim.SUBMISSION_SET_AUTHOR, classified=set_id, object_id=_new_uuid())
    ebrim.add_slot(author, "authorPerson", [_xcn(actor)])
    specialty = f"G15_{actor.profession}/{actor.specialty}" if actor.specialty else f"G15_{actor.profession}"
    ebrim.add_slot(author, "authorSpecialty", [f"{specialty}^^{AUTHOR_SPECIALTY_SYSTEM}"])
    package.append(author)
    # [assumed] contentTypeCode: the hospital's activity sector (TRE_R02, a source of JDV_J59), see docs/decisions.md.
    content_type = Code(config.secteur_activite, SECTEUR_ACTIVITE_SYSTEM, "")
    package.append(
        ebrim.classification(scheme=ebrim.CONTENT_TYPE, classified=set_id, object_id=_new_uuid(), code=content_type)
    )
    package.append(
        ebrim.classification(scheme="", classified=set_id, object_id=_new_uuid(), node=ebrim.SUBMISSION_SET_NODE)
    )
    for scheme, value, name in (
        (ebrim.SUBMISSION_SET_UNIQUE_ID, _submission_set_unique_id(config), "XDSSubmissionSet.uniqueId"),
        (ebrim.SUBMISSION_SET_SOURCE_ID, config.oid_root, "XDSSubmissionSet.sourceId"),
        (ebrim.SUBMISSION_SET_PATIENT_ID, patient.xds_patient_id, "XDSSubmissionSet.patientId"),
    ):
        ebrim.add_external_identifier(package, scheme=scheme, object_id=_new_uuid(), value=value, name=name)
    return package


def _new_version(current: etree._Element, version_id: str, wanted: set[str]) -> etree._Element:
    """A copy of the current entry: new id (and new ids inside), same lid, visibility codes ``wanted``."""
    entry = copy.deepcopy(current)
    old_id = entry.get("id")
    entry.set("id", version_id)
    for child in entry.iterchildren(tag("rim", "Classification"), tag("rim", "ExternalIdentifier")):
        child.set("id", _new_uuid())
        for reference in ("classifiedObject", "registryObject"):
            if child.get(reference) == old_id:
                child.set(reference, version_id)
    managed = {code for _, code, _ in VISIBILITY}
    for confidentiality in ebrim.classifications(entry, ebrim.CONFIDENTIALITY_CODE):
        if confidentiality.get("nodeRepresentation") in managed and (
            ebrim.slot_value(confidentiality, "codingScheme") == VISIBILITY_SYSTEM
        ):
            entry.remove(confidentiality)
    kept = entry.findall(tag("rim", "Classification"))
    if not kept:  # a DMP entry always has its class, type, format... codes
        raise unreadable(f"entry {old_id} without any classification")
    anchor = kept[-1]
    for _, code, label in VISIBILITY:
        if code in wanted:
            added = ebrim.classification(
                scheme=ebrim.CONFIDENTIALITY_CODE,
                classified=version_id,
                object_id=_new_uuid(),
                code=Code(code, VISIBILITY_SYSTEM, label),
            )
            anchor.addnext(added)
            anchor = added
    return entry


def _xcn(actor: Actor) -> str:
    """The actor as an XCN with the national id (IDNPS); the display name is "NOM Prénom"."""
    words = actor.display_name.split()
    family = [word for word in words if word.isupper()]
    given = [word for word in words if not word.isupper()]
    return f"{actor.national_id}^{' '.join(family)}^{' '.join(given)}^^^^^^&{IDNPS_AUTHORITY}&ISO^D^^^IDNPS"


def _submission_set_unique_id(config: DmpClientConfig) -> str:
    """A new OID under the hospital's root, short enough for XDS (64 characters at most)."""
    return f"{config.oid_root}.{SUBMISSION_SET_ARC}.{time.time_ns() // 1_000_000}{secrets.randbelow(10**6):06d}"


def _visibility(entry: DocumentEntry, change: VisibilityChange | None = None) -> set[str]:
    """The visibility codes of ``entry``, or those it gets with ``change`` (None keeps a flag)."""
    codes = set()
    for attribute, code, _ in VISIBILITY:
        flag = getattr(change, attribute, None)
        if getattr(entry, attribute) if flag is None else flag:
            codes.add(code)
    return codes


def _new_uuid() -> str:
    return f"urn:uuid:{uuid.uuid4()}"
