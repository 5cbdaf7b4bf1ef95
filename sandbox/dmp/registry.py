"""TD3.1: the registry's stored queries (ITI-18), ``docs/dmp-protocol.md`` §6.

Each query reads its parameters (:mod:`sandbox.dmp.query_values`), refuses unknown or missing ones with
the registry errors of ITI-18, and answers from the caller's :class:`~sandbox.dmp.scope.Scope` of the DMP.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from lxml import etree

from sandbox.dmp import constants as c
from sandbox.dmp import ebrim
from sandbox.dmp.ebrim import RegistryFailure
from sandbox.dmp.identifiers import Ins, parse_cx
from sandbox.dmp.query_values import Code, Parameters, unreadable
from sandbox.dmp.scope import Scope
from sandbox.dmp.soap import malformed
from sandbox.dmp.transactions import Answer, Exchange, Rules, Transaction
from sandbox.models import DmpAssociation, DmpDocument, DmpSubmissionSet
from sandbox.models.dmp import APPROVED, DELETED, DEPRECATED

T = TypeVar("T")

FIND_DOCUMENTS = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"
GET_DOCUMENTS = "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4"
FIND_SUBMISSION_SETS = "urn:uuid:f26abbcb-ac74-4422-8a30-edb644bbc1a9"
GET_ASSOCIATIONS = "urn:uuid:a7ae438b-4bc2-4642-93e9-be891f7bb155"
GET_DOCUMENTS_AND_ASSOCIATIONS = "urn:uuid:bab9529a-4a10-40b3-a01f-f68a615d247a"
STATUSES = (APPROVED, DEPRECATED, DELETED, "urn:asip:ci-sis:2010:StatusType:Archived")
PATIENT_PARAMETERS = ("$XDSDocumentEntryPatientId", "$XDSSubmissionSetPatientId")

# FindDocuments code parameters -> the (code, scheme) pairs of an entry
CODE_FILTERS: dict[str, Callable[[DmpDocument], set[tuple[str, str]]]] = {
    "$XDSDocumentEntryClassCode": lambda e: {(e.class_code, c.CLASS_SYSTEM)},
    "$XDSDocumentEntryTypeCode": lambda e: {(e.type_code, c.LOINC)},
    "$XDSDocumentEntryPracticeSettingCode": lambda e: {(e.practice_setting_code, c.PRACTICE_SETTING_SYSTEM)},
    "$XDSDocumentEntryHealthcareFacilityTypeCode": lambda e: {(e.facility_type_code, c.FACILITY_TYPE_SYSTEM)},
    "$XDSDocumentEntryFormatCode": lambda e: {(e.format_code, e.format_scheme)},
    "$XDSDocumentEntryEventCodeList": lambda e: {(code, system) for code, system, *_label in e.event_codes},
    "$XDSDocumentEntryConfidentialityCode": lambda e: {
        (e.confidentiality, c.HL7_CONFIDENTIALITY),
        *((code, c.VISIBILITY_SYSTEM) for code in e.visibility_codes),
    },
}
# FindDocuments time parameters -> the entry's time ("From" inclusive, "To" exclusive)
TIME_FILTERS: dict[str, Callable[[DmpDocument], datetime | None]] = {
    "$XDSDocumentEntryCreationTime": lambda e: e.creation_time,
    "$XDSDocumentEntryServiceStartTime": lambda e: e.service_start,
    "$XDSDocumentEntryServiceStopTime": lambda e: e.service_stop,
}
FIND_DOCUMENTS_PARAMETERS = {
    "$XDSDocumentEntryPatientId",
    "$XDSDocumentEntryStatus",
    "$XDSDocumentEntryType",
    "$XDSDocumentEntryAuthorPerson",
    *CODE_FILTERS,
    *(f"{name}{bound}" for name in TIME_FILTERS for bound in ("From", "To")),
}
BY_ID_PARAMETERS = {"$XDSDocumentEntryEntryUUID", "$XDSDocumentEntryUniqueId"}


@dataclass
class Found:
    """What a query found, in response order."""

    documents: list[DmpDocument]
    packages: list[DmpSubmissionSet] = field(default_factory=list)
    associations: list[DmpAssociation] = field(default_factory=list)


def patient_of(body: etree._Element) -> Ins | None:
    """The patient a FindDocuments / FindSubmissionSets names (the by-id queries name none)."""
    query = body.find("rim:AdhocQuery", c.NS)
    if query is None:
        return None
    parameters = Parameters(query)
    for name in PATIENT_PARAMETERS:
        try:
            value = parameters.string(name)
        except RegistryFailure:
            return None
        if value:
            return parse_cx(value)
    return None


def stored_query(exchange: Exchange) -> Answer:
    body = exchange.request.body
    query = body.find("rim:AdhocQuery", c.NS)
    if body.tag != c.qname("query", "AdhocQueryRequest") or query is None:
        raise malformed("query:AdhocQueryRequest avec un rim:AdhocQuery attendu.")
    parameters = Parameters(query)
    query_id = query.get("id") or ""
    answer = Answer(etree.Element(c.qname("query", "AdhocQueryResponse")), query_id=query_id)
    answer.parameters = parameters.as_record()
    try:
        return_type = _return_type(body)
        found = _run(query_id, parameters, Scope(exchange.dmp, exchange.caller.national_id))
    except RegistryFailure as error:
        answer.body.set("status", c.FAILURE)
        ebrim.error_list(answer.body, [error.error])
        answer.outcome, answer.outcome_text = error.code, error.text
        return answer
    answer.body.set("status", c.SUCCESS)
    objects = etree.SubElement(answer.body, c.qname("rim", "RegistryObjectList"))
    patient_id = exchange.dmp.patient_id
    elements = [ebrim.document_entry(entry, patient_id) for entry in found.documents]
    elements += [ebrim.submission_set(package, patient_id) for package in found.packages]
    elements += [ebrim.association(link) for link in found.associations]
    for element in elements:
        objects.append(element if return_type == "LeafClass" else ebrim.rim("ObjectRef", id=element.get("id")))
    answer.unique_ids = [entry.unique_id for entry in found.documents]
    return answer


def _return_type(body: etree._Element) -> str:
    option = body.find("query:ResponseOption", c.NS)
    return_type = option.get("returnType") if option is not None else None
    if return_type not in ("LeafClass", "ObjectRef"):
        raise RegistryFailure("XDSRegistryError", "ResponseOption/@returnType : LeafClass ou ObjectRef attendu.")
    return return_type


def _run(query_id: str, parameters: Parameters, scope: Scope) -> Found:
    queries: dict[str, tuple[set[str], Callable[[Parameters, Scope], Found]]] = {
        FIND_DOCUMENTS: (FIND_DOCUMENTS_PARAMETERS, _find_documents),
        GET_DOCUMENTS: (BY_ID_PARAMETERS, lambda p, s: Found(_get_documents(p, s))),
        FIND_SUBMISSION_SETS: (
            {"$XDSSubmissionSetPatientId", "$XDSSubmissionSetStatus"}
            | {f"$XDSSubmissionSetSubmissionTime{bound}" for bound in ("From", "To")},
            _find_submission_sets,
        ),
        GET_ASSOCIATIONS: ({"$uuid"}, _get_associations),
        GET_DOCUMENTS_AND_ASSOCIATIONS: (BY_ID_PARAMETERS, _get_documents_and_associations),
    }
    if query_id not in queries:
        raise RegistryFailure("XDSRegistryError", f"Requête stockée inconnue : {query_id or '(sans id)'}.")
    allowed, run = queries[query_id]
    unknown = sorted(parameters.names() - allowed)
    if unknown:
        raise RegistryFailure("XDSRegistryError", f"Paramètre inconnu pour cette requête : {', '.join(unknown)}.")
    return run(parameters, scope)


def _required(value: T | None, name: str) -> T:
    if value is None:
        raise RegistryFailure("XDSStoredQueryParamNumber", f"Paramètre obligatoire absent : {name}.")
    return value


def _check_patient(parameters: Parameters, name: str) -> None:
    """A readable patient id; one other than the VIHF's was refused before (``dmp:PatientMismatch``)."""
    if parse_cx(_required(parameters.string(name), name)) is None:
        raise unreadable(name, "identifiant patient CX ins^^^&oid&ISO attendu")


def _statuses(parameters: Parameters, name: str) -> set[str]:
    statuses = set(_required(parameters.strings(name), name))
    unknown = statuses - set(STATUSES)
    if unknown:
        raise unreadable(name, f"statut inconnu {', '.join(sorted(unknown))}")
    return statuses


def _find_documents(parameters: Parameters, scope: Scope) -> Found:
    _check_patient(parameters, "$XDSDocumentEntryPatientId")
    statuses = _statuses(parameters, "$XDSDocumentEntryStatus")
    entries = [entry for entry in scope.entries if entry.status in statuses]
    object_types = parameters.strings("$XDSDocumentEntryType")
    if object_types is not None and c.DOCUMENT_ENTRY_TYPE not in object_types:
        entries = []
    for name, codes_of in CODE_FILTERS.items():
        groups = parameters.code_groups(name) or []
        entries = [entry for entry in entries if all(_any_code(group, codes_of(entry)) for group in groups)]
    patterns = parameters.strings("$XDSDocumentEntryAuthorPerson")
    if patterns is not None:
        expressions = [_like(pattern) for pattern in patterns]
        entries = [entry for entry in entries if any(e.fullmatch(entry.author_person) for e in expressions)]
    for name, time_of in TIME_FILTERS.items():
        entries = [entry for entry in entries if _in_range(time_of(entry), parameters, name)]
    return Found(entries)


def _any_code(group: list[Code], codes: set[tuple[str, str]]) -> bool:
    return any((code.code, code.scheme) in codes for code in group)


def _like(pattern: str) -> re.Pattern[str]:
    """An SQL LIKE pattern (``%`` any run, ``_`` one character) as a regular expression."""
    return re.compile("".join(".*" if char == "%" else "." if char == "_" else re.escape(char) for char in pattern))


def _in_range(moment: datetime | None, parameters: Parameters, name: str) -> bool:
    start, end = parameters.time(f"{name}From"), parameters.time(f"{name}To")
    if start is None and end is None:
        return True
    if moment is None:
        return False
    return (start is None or moment >= start) and (end is None or moment < end)


def _get_documents(parameters: Parameters, scope: Scope) -> list[DmpDocument]:
    uuids = parameters.strings("$XDSDocumentEntryEntryUUID")
    unique_ids = parameters.strings("$XDSDocumentEntryUniqueId")
    if (uuids is None) == (unique_ids is None):
        raise RegistryFailure(
            "XDSStoredQueryParamNumber",
            "Un seul des paramètres $XDSDocumentEntryEntryUUID et $XDSDocumentEntryUniqueId est attendu.",
        )
    return scope.by_entry_uuids(uuids) if uuids is not None else scope.by_unique_ids(unique_ids or [])


def _find_submission_sets(parameters: Parameters, scope: Scope) -> Found:
    _check_patient(parameters, "$XDSSubmissionSetPatientId")
    statuses = _statuses(parameters, "$XDSSubmissionSetStatus")
    packages = scope.submission_sets() if APPROVED in statuses else []
    name = "$XDSSubmissionSetSubmissionTime"
    return Found([], packages=[p for p in packages if _in_range(p.submission_time, parameters, name)])


def _get_associations(parameters: Parameters, scope: Scope) -> Found:
    uuids = _required(parameters.strings("$uuid"), "$uuid")
    return Found([], associations=scope.associations(uuids))


def _get_documents_and_associations(parameters: Parameters, scope: Scope) -> Found:
    documents = _get_documents(parameters, scope)
    return Found(documents, associations=scope.associations(entry.entry_uuid for entry in documents))


TRANSACTIONS = {"ITI-18": Transaction("ITI-18", Rules.ACCESS, patient_of, stored_query)}
