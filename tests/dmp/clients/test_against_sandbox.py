"""End to end: the DPI's clients against the sandbox DMP, two implementations of docs/dmp-protocol.md
written apart. A failure here is a contract mismatch: read the contract before fixing either side.

The sandbox's own fixtures (``dmp_server``, ``dmp_behave``, ``dmp_patient``) come through the conftest."""

from __future__ import annotations

import dataclasses
import datetime

import httpx
import pytest
from django.utils import timezone

from dmp.clients import patients, registry, repository
from dmp.clients.browser import webps_form
from dmp.clients.config import DmpClientConfig
from dmp.clients.errors import DmpRefused, DmpUnavailable
from dmp.clients.types import (
    APPROVED,
    Actor,
    Authorisation,
    DmpStatus,
    DocumentQuery,
    PatientRef,
    VisibilityChange,
)
from patients.models import Patient
from sandbox.dmp.seed import seed_dmp
from sandbox.dmp.server import DmpServer
from sandbox.models import DmpAuthorisation, DmpBehaviour, PatientDmp
from tests.dmp.clients.fakes import config_for
from tests.sandbox.dmp_requests import national_id

pytestmark = pytest.mark.django_db(transaction=True)
HAS_MEMBER = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"


@pytest.fixture
def sandbox_config(test_pki, dmp_server: DmpServer) -> DmpClientConfig:
    return dataclasses.replace(
        config_for(test_pki),
        patients_url=dmp_server.patients_url,
        registry_url=dmp_server.registry_url,
        repository_url=dmp_server.repository_url,
        webps_url=dmp_server.webps_url,
        drimbox_url=dmp_server.drimbox_url,
        timeout_seconds=5.0,
    )


@pytest.fixture
def professional(actor: Actor) -> Actor:
    return dataclasses.replace(actor, national_id=national_id(), authn_instant=timezone.now())


@pytest.fixture
def ins(dmp_patient: Patient) -> PatientRef:
    return PatientRef(ins=dmp_patient.ins, oid=dmp_patient.ins_oid)


@pytest.fixture
def patient_dmp(dmp_patient: Patient) -> PatientDmp:
    return seed_dmp(dmp_patient, count=12)


@pytest.fixture
def authorised(patient_dmp: PatientDmp, professional: Actor) -> PatientDmp:
    DmpAuthorisation.objects.create(
        dmp=patient_dmp, national_id=professional.national_id, until=timezone.now() + datetime.timedelta(days=30)
    )
    return patient_dmp


def test_td02_then_td03_then_td02(sandbox_config, professional, ins, patient_dmp):
    before = patients.test_existence(professional, ins, config=sandbox_config)
    granted = patients.set_authorisation(professional, ins, config=sandbox_config)
    after = patients.test_existence(professional, ins, config=sandbox_config)

    assert (before.status, before.authorisation) == (DmpStatus.OPEN, Authorisation.NONE)
    assert granted.authorisation == Authorisation.VALID
    assert granted.authorisation_until > timezone.now() + datetime.timedelta(days=170)
    assert (after.status, after.authorisation) == (DmpStatus.OPEN, Authorisation.VALID)


def test_td02_for_a_patient_without_dmp(sandbox_config, professional, ins):
    assert patients.test_existence(professional, ins, config=sandbox_config).status == DmpStatus.NONE


def test_td31_without_authorisation_is_refused(sandbox_config, professional, ins, patient_dmp):
    with pytest.raises(DmpRefused) as raised:
        registry.find_documents(professional, ins, DocumentQuery(), config=sandbox_config)

    assert raised.value.code == "dmp:AccessNotAuthorized"


def test_find_documents_and_read_them_again(sandbox_config, professional, ins, authorised):
    found = registry.find_documents(professional, ins, DocumentQuery(), config=sandbox_config)

    assert found.documents
    assert {entry.status for entry in found.documents} == {APPROVED}
    assert all(entry.unique_id and entry.repository_unique_id and entry.type_code for entry in found.documents)
    assert all(entry.authors and entry.authors[0].person_id for entry in found.documents)
    first = found.documents[0]
    again = registry.get_documents(professional, ins, unique_ids=[first.unique_id], config=sandbox_config)
    assert [entry.entry_uuid for entry in again.documents] == [first.entry_uuid]


def test_find_documents_by_type(sandbox_config, professional, ins, authorised):
    every = registry.find_documents(professional, ins, DocumentQuery(), config=sandbox_config).documents
    wanted = every[0].type_code

    found = registry.find_documents(professional, ins, DocumentQuery(type_codes=(wanted,)), config=sandbox_config)

    assert found.documents
    assert {entry.type_code.code for entry in found.documents} == {wanted.code}


def test_new_documents_through_submission_sets(sandbox_config, professional, ins, authorised):
    since = timezone.now() - datetime.timedelta(days=10)

    sets = registry.find_submission_sets(professional, ins, since=since, config=sandbox_config).submission_sets
    links = registry.get_associations(professional, ins, [s.entry_uuid for s in sets], config=sandbox_config)
    targets = [link.target for link in links.associations if link.type == HAS_MEMBER]
    entries = registry.get_documents_and_associations(professional, ins, entry_uuids=targets, config=sandbox_config)

    assert sets and all(s.submission_time >= since for s in sets)
    assert targets
    assert {entry.entry_uuid for entry in entries.documents} <= set(targets)


def test_retrieve_two_documents_and_an_unknown_one(sandbox_config, professional, ins, authorised):
    entries = registry.find_documents(professional, ins, DocumentQuery(), config=sandbox_config).documents[:2]
    wanted = [(entry.repository_unique_id, entry.unique_id) for entry in entries]

    result = repository.retrieve(
        professional, ins, [*wanted, (wanted[0][0], "1.2.250.1.999.9.9.9")], config=sandbox_config
    )

    assert [(d.repository_unique_id, d.unique_id) for d in result.documents] == wanted
    assert all(b"ClinicalDocument" in document.content for document in result.documents)
    assert [error.code for error in result.errors] == ["XDSDocumentUniqueIdError"]


def test_update_visibility(sandbox_config, professional, ins, authorised):
    entry = registry.find_documents(professional, ins, DocumentQuery(), config=sandbox_config).documents[0]
    change = VisibilityChange(invisible_to_patient=not entry.invisible_to_patient)

    updated = registry.update_visibility(
        professional, ins, unique_id=entry.unique_id, change=change, config=sandbox_config
    )

    assert updated.invisible_to_patient != entry.invisible_to_patient
    assert updated.entry_uuid != entry.entry_uuid
    assert updated.logical_id == entry.logical_id
    assert int(updated.version) == int(entry.version) + 1
    assert {c.code for c in updated.confidentiality} - {"INVISIBLE_PATIENT"} == {
        c.code for c in entry.confidentiality
    } - {"INVISIBLE_PATIENT"}


def test_a_failing_dmp_is_transient(sandbox_config, professional, ins, patient_dmp, dmp_behave):
    dmp_behave(DmpBehaviour.Mode.FAULT)

    with pytest.raises(DmpUnavailable) as raised:
        patients.test_existence(professional, ins, config=sandbox_config)

    assert raised.value.code == "dmp:ServiceUnavailable"


def test_a_dmp_that_is_down_is_transient(sandbox_config, professional, ins, patient_dmp, dmp_behave, dmp_server):
    dmp_behave(DmpBehaviour.Mode.DOWN)
    dmp_server.follow_behaviour()

    with pytest.raises(DmpUnavailable):
        patients.test_existence(professional, ins, config=sandbox_config)


def test_a_generic_account_is_refused(sandbox_config, professional, ins, patient_dmp):
    with pytest.raises(DmpRefused) as raised:
        patients.test_existence(
            dataclasses.replace(professional, national_id="3" + "1" * 11), ins, config=sandbox_config
        )

    assert raised.value.code == "dmp:VIHFGenericAccount"


def test_webps_form_opens_the_patients_dmp(sandbox_config, professional, ins, authorised):
    form = webps_form(professional, ins, config=sandbox_config)

    page = httpx.post(form.action, data=form.fields, timeout=5)

    assert page.status_code == 200
