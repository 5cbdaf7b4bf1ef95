"""Stored query parameters are written in ITI-18 syntax, exactly (docs/dmp-protocol.md §6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from dmp.clients.namespaces import tag
from dmp.clients.registry import (
    FIND_DOCUMENTS,
    adhoc_query_request,
    find_documents_parameters,
    listed,
    quoted,
)
from dmp.clients.types import APPROVED, DEPRECATED, Code, DocumentQuery

PATIENT_ID = "'279035121518989^^^&1.2.250.1.213.1.4.10&ISO'"
PARIS = timezone(timedelta(hours=1))


def parameters(patient, **criteria) -> dict[str, str]:
    return dict(find_documents_parameters(patient, DocumentQuery(**criteria)))


def test_default_query_is_the_patient_and_approved_entries(patient):
    assert parameters(patient) == {
        "$XDSDocumentEntryPatientId": PATIENT_ID,
        "$XDSDocumentEntryStatus": "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')",
    }


def test_several_statuses_are_one_list(patient):
    assert parameters(patient, statuses=(APPROVED, DEPRECATED))["$XDSDocumentEntryStatus"] == (
        "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved','urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated')"
    )


@pytest.mark.parametrize(
    ("field", "parameter"),
    [
        ("type_codes", "$XDSDocumentEntryTypeCode"),
        ("class_codes", "$XDSDocumentEntryClassCode"),
        ("practice_settings", "$XDSDocumentEntryPracticeSettingCode"),
        ("facility_types", "$XDSDocumentEntryHealthcareFacilityTypeCode"),
        ("format_codes", "$XDSDocumentEntryFormatCode"),
        ("event_codes", "$XDSDocumentEntryEventCodeList"),
        ("confidentiality_codes", "$XDSDocumentEntryConfidentialityCode"),
    ],
)
def test_codes_are_code_caret_scheme_lists(patient, field, parameter):
    codes = (Code("11490-0", "2.16.840.1.113883.6.1", "Lettre"), Code("34874-8", "2.16.840.1.113883.6.1"))

    assert parameters(patient, **{field: codes})[parameter] == (
        "('11490-0^^^2.16.840.1.113883.6.1','34874-8^^^2.16.840.1.113883.6.1')"
    )


def test_author_is_a_like_pattern_in_a_list(patient):
    assert parameters(patient, author_person="%MARTIN%")["$XDSDocumentEntryAuthorPerson"] == "('%MARTIN%')"


@pytest.mark.parametrize(
    ("field", "parameter"),
    [
        ("creation_from", "$XDSDocumentEntryCreationTimeFrom"),
        ("creation_to", "$XDSDocumentEntryCreationTimeTo"),
        ("service_start_from", "$XDSDocumentEntryServiceStartTimeFrom"),
        ("service_start_to", "$XDSDocumentEntryServiceStartTimeTo"),
        ("service_stop_from", "$XDSDocumentEntryServiceStopTimeFrom"),
        ("service_stop_to", "$XDSDocumentEntryServiceStopTimeTo"),
    ],
)
def test_times_are_utc_digits_unquoted(patient, field, parameter):
    moment = datetime(2026, 3, 1, 0, 30, 5, tzinfo=PARIS)  # 23:30:05 UTC the day before

    assert parameters(patient, **{field: moment})[parameter] == "20260228233005"


def test_naive_times_are_refused(patient):
    with pytest.raises(ValueError, match="aware"):
        parameters(patient, creation_from=datetime(2026, 1, 1))  # noqa: DTZ001 (the point of the test)


def test_no_status_is_refused(patient):
    with pytest.raises(ValueError):
        parameters(patient, statuses=())


def test_a_quote_in_a_value_is_doubled():
    assert quoted("D'ARC") == "'D''ARC'"
    assert listed(["%D'ARC%"]) == "('%D''ARC%')"


def test_request_is_a_leaf_class_adhoc_query_with_one_value_per_slot(patient):
    request = adhoc_query_request(FIND_DOCUMENTS, find_documents_parameters(patient, DocumentQuery()))

    assert request.tag == tag("query", "AdhocQueryRequest")
    option = request.find(tag("query", "ResponseOption"))
    assert (option.get("returnType"), option.get("returnComposedObjects")) == ("LeafClass", "true")
    query = request.find(tag("rim", "AdhocQuery"))
    assert query.get("id") == "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"
    slots = {
        slot.get("name"): [value.text for value in slot.iter(tag("rim", "Value"))]
        for slot in query.iterfind(tag("rim", "Slot"))
    }
    assert slots == {
        "$XDSDocumentEntryPatientId": [PATIENT_ID],
        "$XDSDocumentEntryStatus": [f"('{APPROVED}')"],
    }


def test_times_in_utc_need_no_conversion(patient):
    moment = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)

    assert parameters(patient, service_start_from=moment)["$XDSDocumentEntryServiceStartTimeFrom"] == "20261201100000"
