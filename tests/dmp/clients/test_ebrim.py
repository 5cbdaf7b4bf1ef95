"""Registry answers are read into the plain dataclasses, every metadata of an entry included."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dmp.clients import ebrim
from dmp.clients.errors import DmpProtocolError, DmpRefused
from dmp.clients.namespaces import tag
from dmp.clients.types import APPROVED, Author, Code
from dpi.xmlsafe import parse_xml
from tests.dmp.clients.fakes import fixture

ENTRY = "urn:uuid:0b1c5c1e-0000-4000-8000-000000000002"
SUBMISSION_SET = "urn:uuid:5e000000-0000-4000-8000-000000000001"


@pytest.fixture
def result():
    response = parse_xml(fixture("registry_objects.xml"))
    ebrim.check_status(response)
    return ebrim.query_result(response.find(tag("rim", "RegistryObjectList")))


def test_document_entry_identifiers_and_slots(result):
    (entry,) = result.documents

    assert entry.entry_uuid == ENTRY
    assert entry.logical_id == "urn:uuid:0b1c5c1e-0000-4000-8000-000000000001"
    assert entry.unique_id == "1.2.250.1.999.1.2.42.1"
    assert entry.repository_unique_id == "1.2.250.1.213.1.1.9.2"
    assert entry.status == APPROVED
    assert entry.version == "2"
    assert entry.patient_id == "279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH"
    assert entry.title == "Lettre de liaison de sortie"
    assert entry.comments == "Sortie du 25 novembre"
    assert entry.mime_type == "text/xml"
    assert entry.hash == "da39a3ee5e6b4b0d3255bfef95601890afd80709"
    assert entry.size == 48213
    assert entry.language == "fr-FR"
    assert entry.reference_ids == (
        "ORD-77^^^&1.2.250.1.999.1.5&ISO^urn:ihe:iti:xds:2013:order",
        "1.2.250.1.999.1.6.9^^^^urn:ihe:iti:xds:2016:studyInstanceUID",
    )


def test_document_entry_times_are_utc_whatever_their_precision(result):
    (entry,) = result.documents

    assert entry.creation_time == datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
    assert entry.service_start == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    assert entry.service_stop == datetime(2026, 11, 25, tzinfo=UTC)


def test_document_entry_codes_with_scheme_and_label(result):
    (entry,) = result.documents

    assert entry.class_code == Code("10", "1.2.250.1.213.1.1.4.1", "Compte rendu")
    assert entry.type_code == Code(
        "11490-0", "2.16.840.1.113883.6.1", "Lettre de liaison à la sortie d'un établissement de soins"
    )
    assert entry.format_code == Code(
        "urn:ihe:iti:xds-sd:pdf:2008", "1.3.6.1.4.1.19376.1.2.3", "Document à corps non structuré en PDF/A-1"
    )
    assert entry.practice_setting == Code("ETABLISSEMENT", "1.2.250.1.213.1.1.4.9", "Etablissement de santé")
    assert entry.facility_type == Code("SA01", "1.2.250.1.71.4.2.4", "Etablissement public de santé")
    assert entry.confidentiality == (
        Code("N", "2.16.840.1.113883.5.25", "Normal"),
        Code("MASQUE_PS", "1.2.250.1.213.1.1.4.13", "Masqué aux professionnels de santé"),
    )
    assert entry.event_codes == (
        Code("J18.9", "2.16.840.1.113883.6.3", "Pneumopathie"),
        Code("GLP", "1.2.250.1.213.2.5", "Glycémie"),
    )
    assert entry.masked_to_professionals
    assert not entry.invisible_to_patient
    assert not entry.invisible_to_legal_representatives


def test_document_entry_authors(result):
    (entry,) = result.documents

    assert entry.authors == (
        Author(
            person="810100001236^MARTIN^Claire^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS",
            person_id="810100001236",
            person_name="Claire MARTIN",
            institution="Hôpital Nord",
            institution_id="1000897406",
            role="Médecin responsable",
            specialty=Code("G15_10/SM26", "1.2.250.1.213.1.1.4.5", "Médecine générale"),
        ),
        Author(
            person="^DURAND^Paul",
            person_id="",
            person_name="Paul DURAND",
            institution="Clinique Sud",
            institution_id="1000000017",  # the older XON.3 place
        ),
    )


def test_submission_sets_and_not_folders(result):
    (submission_set,) = result.submission_sets

    assert submission_set.entry_uuid == SUBMISSION_SET
    assert submission_set.unique_id == "1.2.250.1.999.1.4.1"
    assert submission_set.source_id == "1.2.250.1.999.1"
    assert submission_set.submission_time == datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    assert submission_set.content_type == Code("SA01", "1.2.250.1.71.4.2.4", "Etablissement public de santé")
    assert [author.person_id for author in submission_set.authors] == ["810100001236"]
    assert submission_set.status == APPROVED


def test_associations(result):
    assert [(a.type, a.source, a.target, a.status) for a in result.associations] == [
        ("urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember", SUBMISSION_SET, ENTRY, APPROVED),
        ("urn:ihe:iti:2007:AssociationType:RPLC", ENTRY, "urn:uuid:0b1c5c1e-0000-4000-8000-000000000000", APPROVED),
    ]


def test_failure_is_the_refusal_of_the_first_registry_error():
    response = parse_xml(fixture("registry_failure.xml"))

    with pytest.raises(DmpRefused) as raised:
        ebrim.check_status(response)

    assert raised.value.code == "XDSStoredQueryParamNumber"
    assert raised.value.detail == "$XDSDocumentEntryPatientId est obligatoire"
    assert str(raised.value) == "La recherche envoyée au DMP est incomplète ou contradictoire."
    assert ebrim.registry_errors(response)[0].location == "FindDocuments"


def test_unknown_status_is_unreadable():
    response = parse_xml(b'<query:AdhocQueryResponse xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"/>')

    with pytest.raises(DmpProtocolError):
        ebrim.check_status(response)


@pytest.mark.parametrize("value", ["2026-11-25", "202611251", "20261325", "2026112512000000"])
def test_unreadable_times_are_protocol_errors(value):
    with pytest.raises(DmpProtocolError):
        ebrim.parse_time(value)


def test_an_object_without_id_is_unreadable():
    response = parse_xml(
        b'<rim:RegistryObjectList xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">'
        b'<rim:Association associationType="x" sourceObject="a" targetObject="b"/></rim:RegistryObjectList>'
    )

    with pytest.raises(DmpProtocolError):
        ebrim.query_result(response)
