"""TD3.1 stored queries and TD3.3 visibility updates, through HTTPS, as the registry sees them
(docs/dmp-protocol.md §6 and §8)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import etree

from dmp.clients import ebrim, registry
from dmp.clients.errors import DmpRefused
from dmp.clients.namespaces import NS, tag
from dmp.clients.types import DEPRECATED, DocumentQuery, VisibilityChange
from tests.dmp.clients.fakes import Answer, fixture, soap

QUERY_ACTION = "urn:ihe:iti:2007:RegistryStoredQueryResponse"
UNIQUE_ID = "1.2.250.1.999.1.2.42.1"
ENTRY = "urn:uuid:0b1c5c1e-0000-4000-8000-000000000002"
LID = "urn:uuid:0b1c5c1e-0000-4000-8000-000000000001"


def registry_answer(body: bytes, action: str = QUERY_ACTION) -> Answer:
    return Answer(body=soap(action, body))


def update_answer(status: str = "Success", errors: str = "") -> Answer:
    body = (
        f'<rs:RegistryResponse xmlns:rs="{NS["rs"]}" '
        f'status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:{status}">{errors}</rs:RegistryResponse>'
    )
    return Answer(body=soap("urn:ihe:iti:2010:UpdateDocumentSetResponse", body))


def entry_with(*, entry_id: str, version: str, visibility: str, status: str | None = None) -> bytes:
    """The fixture's entry, as another version: its MASQUE_PS classification holds ``visibility``."""
    response = etree.fromstring(fixture("registry_objects.xml"))
    extrinsic = response.find(f".//{tag('rim', 'ExtrinsicObject')}")
    extrinsic.set("id", entry_id)
    if status:
        extrinsic.set("status", status)
    extrinsic.find(tag("rim", "VersionInfo")).set("versionName", version)
    for classification in extrinsic.iter(tag("rim", "Classification")):
        if classification.get("nodeRepresentation") == "MASQUE_PS":
            classification.set("nodeRepresentation", visibility)
    return etree.tostring(response)


def with_a_replaced_version_first() -> bytes:
    """The fixture's answer, with a deprecated version of the entry before the current one."""
    response = etree.fromstring(fixture("registry_objects.xml"))
    current = response.find(f".//{tag('rim', 'ExtrinsicObject')}")
    replaced = etree.fromstring(entry_with(entry_id="urn:uuid:old", version="1", visibility="N", status=DEPRECATED))
    current.addprevious(replaced.find(f".//{tag('rim', 'ExtrinsicObject')}"))
    return etree.tostring(response)


def query_of(received) -> tuple[str, dict[str, list[str]]]:
    query = received.envelope.find(f".//{tag('rim', 'AdhocQuery')}")
    slots = {
        slot.get("name"): [v.text for v in slot.iter(tag("rim", "Value"))] for slot in query.iter(tag("rim", "Slot"))
    }
    return query.get("id"), slots


def test_find_documents_sends_the_query_and_reads_the_answer(fake_dmp, config, actor, patient):
    fake_dmp.answer(registry_answer(fixture("registry_objects.xml")))

    result = registry.find_documents(actor, patient, DocumentQuery(author_person="%MARTIN%"), config=config)

    assert [entry.unique_id for entry in result.documents] == [UNIQUE_ID]
    assert len(result.submission_sets) == 1
    assert len(result.associations) == 2
    query_id, slots = query_of(fake_dmp.received[0])
    assert query_id == registry.FIND_DOCUMENTS
    assert slots["$XDSDocumentEntryAuthorPerson"] == ["('%MARTIN%')"]
    envelope = fake_dmp.received[0].envelope
    assert envelope.findtext(f".//{tag('wsa', 'Action')}") == "urn:ihe:iti:2007:RegistryStoredQuery"
    assert envelope.findtext(f".//{tag('wsa', 'To')}") == config.registry_url


def test_registry_failure_is_a_refusal(fake_dmp, config, actor, patient):
    fake_dmp.answer(registry_answer(fixture("registry_failure.xml")))

    with pytest.raises(DmpRefused) as raised:
        registry.find_documents(actor, patient, DocumentQuery(), config=config)

    assert raised.value.code == "XDSStoredQueryParamNumber"


def test_find_submission_sets_since_a_date(fake_dmp, config, actor, patient):
    fake_dmp.answer(registry_answer(fixture("registry_objects.xml")))

    result = registry.find_submission_sets(
        actor, patient, since=datetime(2026, 11, 1, tzinfo=UTC), until=datetime(2026, 12, 1, tzinfo=UTC), config=config
    )

    assert [s.unique_id for s in result.submission_sets] == ["1.2.250.1.999.1.4.1"]
    assert query_of(fake_dmp.received[0]) == (
        registry.FIND_SUBMISSION_SETS,
        {
            "$XDSSubmissionSetPatientId": ["'279035121518989^^^&1.2.250.1.213.1.4.10&ISO'"],
            "$XDSSubmissionSetStatus": ["('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')"],
            "$XDSSubmissionSetSubmissionTimeFrom": ["20261101000000"],
            "$XDSSubmissionSetSubmissionTimeTo": ["20261201000000"],
        },
    )


def test_get_associations_of_submission_sets(fake_dmp, config, actor, patient):
    fake_dmp.answer(registry_answer(fixture("registry_objects.xml")))

    registry.get_associations(actor, patient, ["urn:uuid:a", "urn:uuid:b"], config=config)

    assert query_of(fake_dmp.received[0]) == (registry.GET_ASSOCIATIONS, {"$uuid": ["('urn:uuid:a','urn:uuid:b')"]})


@pytest.mark.parametrize(
    ("function", "query_id"),
    [
        (registry.get_documents, registry.GET_DOCUMENTS),
        (registry.get_documents_and_associations, registry.GET_DOCUMENTS_AND_ASSOCIATIONS),
    ],
)
@pytest.mark.parametrize(
    ("criteria", "parameter"),
    [
        ({"unique_ids": ["1.2.3"]}, "$XDSDocumentEntryUniqueId"),
        ({"entry_uuids": ["urn:uuid:e"]}, "$XDSDocumentEntryEntryUUID"),
    ],
)
def test_get_documents_by_one_kind_of_id(fake_dmp, config, actor, patient, function, query_id, criteria, parameter):
    fake_dmp.answer(registry_answer(fixture("registry_objects.xml")))

    function(actor, patient, config=config, **criteria)

    (value,) = criteria.values()
    assert query_of(fake_dmp.received[0]) == (query_id, {parameter: [f"('{value[0]}')"]})


def test_nothing_asked_nothing_sent(fake_dmp, config, actor, patient):
    assert registry.get_documents(actor, patient, config=config).documents == ()
    assert registry.get_associations(actor, patient, [], config=config).associations == ()
    assert fake_dmp.received == []


def test_both_kinds_of_id_at_once_are_refused(config, actor, patient):
    with pytest.raises(ValueError):
        registry.get_documents(actor, patient, unique_ids=["1"], entry_uuids=["urn:uuid:e"], config=config)


# --- TD3.3 -----------------------------------------------------------------------------------------


@pytest.fixture
def updated(fake_dmp, config, actor, patient):
    """Unmask the fixture's entry (MASQUE_PS) and hide it from the patient; returns (result, ITI-57 request)."""
    fake_dmp.answer(
        registry_answer(with_a_replaced_version_first()),
        update_answer(),
        registry_answer(entry_with(entry_id="urn:uuid:new", version="3", visibility="INVISIBLE_PATIENT")),
    )
    change = VisibilityChange(masked_to_professionals=False, invisible_to_patient=True)

    result = registry.update_visibility(actor, patient, unique_id=UNIQUE_ID, change=change, config=config)

    reread, update, *_ = fake_dmp.received
    assert query_of(reread) == (registry.GET_DOCUMENTS, {"$XDSDocumentEntryUniqueId": [f"('{UNIQUE_ID}')"]})
    return result, update.envelope


def test_update_returns_the_entry_read_again(updated):
    result, _ = updated

    assert (result.entry_uuid, result.version) == ("urn:uuid:new", "3")
    assert result.invisible_to_patient
    assert not result.masked_to_professionals


def test_update_is_an_iti57_submission(updated, config):
    _, envelope = updated

    assert envelope.findtext(f".//{tag('wsa', 'Action')}") == "urn:ihe:iti:2010:UpdateDocumentSet"
    request = envelope.find(tag("env", "Body"))[0]
    assert request.tag == tag("lcm", "SubmitObjectsRequest")
    assert [child.tag for child in request.find(tag("rim", "RegistryObjectList"))] == [
        tag("rim", "RegistryPackage"),
        tag("rim", "ExtrinsicObject"),
        tag("rim", "Association"),
    ]


def test_update_copies_the_entry_with_a_new_id_the_same_lid_and_the_new_visibility(updated):
    _, envelope = updated
    extrinsic = envelope.find(f".//{tag('rim', 'ExtrinsicObject')}")
    new_id = extrinsic.get("id")

    assert new_id.startswith("urn:uuid:") and new_id != ENTRY
    assert extrinsic.get("lid") == LID
    entry = ebrim.document_entry(extrinsic)
    assert [(c.code, c.scheme) for c in entry.confidentiality] == [
        ("N", "2.16.840.1.113883.5.25"),
        ("INVISIBLE_PATIENT", "1.2.250.1.213.1.1.4.13"),
    ]
    assert entry.title == "Lettre de liaison de sortie"
    assert entry.type_code.code == "11490-0"
    assert len(entry.authors) == 2
    assert entry.unique_id == UNIQUE_ID
    children = list(extrinsic.iterchildren(tag("rim", "Classification"), tag("rim", "ExternalIdentifier")))
    assert {c.get("classifiedObject") or c.get("registryObject") for c in children} == {new_id}
    ids = [c.get("id") for c in children]
    assert len(set(ids)) == len(ids)
    assert not set(ids) & {f"urn:uuid:c0000000-0000-4000-8000-0000000000{n:02d}" for n in range(1, 12)}


def test_update_submission_set_and_association(updated, config):
    _, envelope = updated
    package = envelope.find(f".//{tag('rim', 'RegistryPackage')}")
    set_id = package.get("id")
    submission_set = ebrim.submission_set(package)

    assert submission_set.source_id == config.oid_root
    assert submission_set.unique_id.startswith(f"{config.oid_root}.4.")
    assert len(submission_set.unique_id) <= 64
    assert abs((datetime.now(UTC) - submission_set.submission_time).total_seconds()) < 60
    (author,) = submission_set.authors
    assert author.person == "810100001236^MARTIN^Claire^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS"
    assert author.specialty.code == "G15_10/SM26"
    assert submission_set.content_type.code == "SA01"
    assert (
        ebrim.external_identifier(package, ebrim.SUBMISSION_SET_PATIENT_ID)
        == "279035121518989^^^&1.2.250.1.213.1.4.10&ISO"
    )
    nodes = [c.get("classificationNode") for c in package.iter(tag("rim", "Classification"))]
    assert ebrim.SUBMISSION_SET_NODE in nodes
    link = envelope.find(f".//{tag('rim', 'Association')}")
    new_id = envelope.find(f".//{tag('rim', 'ExtrinsicObject')}").get("id")
    assert (link.get("associationType"), link.get("sourceObject"), link.get("targetObject")) == (
        ebrim.HAS_MEMBER,
        set_id,
        new_id,
    )
    assert ebrim.slot_values(link, "SubmissionSetStatus") == ["Original"]
    assert ebrim.slot_values(link, "PreviousVersion") == ["2"]


def test_a_change_that_changes_nothing_sends_nothing(fake_dmp, config, actor, patient):
    fake_dmp.answer(registry_answer(fixture("registry_objects.xml")))

    entry = registry.update_visibility(
        actor, patient, unique_id=UNIQUE_ID, change=VisibilityChange(masked_to_professionals=True), config=config
    )

    assert entry.masked_to_professionals
    assert len(fake_dmp.received) == 1


def test_a_concurrent_change_is_refused_with_its_message(fake_dmp, config, actor, patient):
    error = (
        '<rs:RegistryErrorList><rs:RegistryError errorCode="XDSMetadataVersionError" codeContext="Version 3 courante"'
        ' severity="urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"/></rs:RegistryErrorList>'
    )
    fake_dmp.answer(registry_answer(fixture("registry_objects.xml")), update_answer("Failure", error))

    with pytest.raises(DmpRefused) as raised:
        registry.update_visibility(
            actor, patient, unique_id=UNIQUE_ID, change=VisibilityChange(invisible_to_patient=True), config=config
        )

    assert raised.value.code == "XDSMetadataVersionError"
    assert raised.value.detail == "Version 3 courante"
    assert "modifié entre-temps" in str(raised.value)


def test_an_entry_with_no_current_version_cannot_be_updated(fake_dmp, config, actor, patient):
    fake_dmp.answer(
        registry_answer(entry_with(entry_id="urn:uuid:old", version="1", visibility="N", status=DEPRECATED))
    )

    with pytest.raises(DmpRefused) as raised:
        registry.update_visibility(
            actor, patient, unique_id=UNIQUE_ID, change=VisibilityChange(invisible_to_patient=True), config=config
        )

    assert raised.value.code == "XDSDocumentUniqueIdError"
