"""The identity-vigilance work list (issue 15 §5): MSSanté documents refused for their identity, not handled,
beside the closest local identities; filed by hand through the manual import (a different INS never filed) or
marked handled; the possible duplicates. Only for the ``mss.identity_vigilance`` permission, refusals audited."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from documents.models import Document, Provenance
from dpi.models import AuditEvent, Role
from mss.models import PendingImport, Trace
from tests.factories import MembershipFactory, PatientFactory, RoleFactory, UserFactory
from tests.support.engine import send

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def vigilant(unit):  # noqa: F811
    """A member of the identity-vigilance team: the permission, and a role over the establishment to file."""
    role = RoleFactory(code="identitovigilance", label="Identitovigilance", scope=Role.Scope.LEGAL_ENTITY)
    user = MembershipFactory(care_unit=unit, role=role).user
    user.user_permissions.add(Permission.objects.get(codename="identity_vigilance"))
    return user


@pytest.fixture
def doctor_of_unit(unit):  # noqa: F811
    return MembershipFactory(care_unit=unit, role=RoleFactory()).user


@pytest.fixture
def refused(route, patient, document_for):  # noqa: F811
    """A document whose birth date differs from the qualified identity carrying its INS: AE 904."""
    ack = send(document_for(patient, alter="birth_date", title="CR à vérifier"))
    assert ack.application_code == "904"
    return Trace.objects.get(event=Trace.Event.REFUSED)


def refusals_rows(user) -> AuditEvent:
    return AuditEvent.objects.filter(action=AuditEvent.Action.PATIENT_REFUSED, actor=user)


def test_the_team_sees_the_refusal_and_anyone_else_is_refused_with_an_audit_row(
    refused,
    vigilant,
    doctor_of_unit,
    patient,  # noqa: F811
):
    page = client_for(vigilant).get(reverse("vigilance:worklist"))
    assert page.status_code == 200
    assert 'data-testid="vigilance-refusal"' in page.text and "904" in page.text and "MARTIN" in page.text
    listed = AuditEvent.objects.get(action=AuditEvent.Action.PATIENT_OPEN, actor=vigilant, patient_id=patient.pk)
    assert listed.detail["list"] == "identity_vigilance"
    for url in (reverse("vigilance:worklist"), reverse("vigilance:refusal", args=[refused.pk])):
        assert client_for(doctor_of_unit).get(url).status_code == 403
    rows = refusals_rows(doctor_of_unit)
    assert [row.detail["reason"] for row in rows] == ["not_identity_vigilance"] * 2
    assert {row.patient_id for row in rows} == {None, patient.pk}


def test_the_refusal_shows_the_documents_traits_beside_the_closest_identities(refused, vigilant, patient):  # noqa: F811
    homonym = PatientFactory(birth_name="MARTIN", first_names="JEANNE", birth_date=date(1980, 5, 5), sex="F")
    stranger = PatientFactory(birth_name="DURAND", first_names="PAUL", birth_date=date(1950, 1, 1))
    page = client_for(vigilant).get(reverse("vigilance:refusal", args=[refused.pk])).text
    assert page.count('data-testid="candidate"') == 2 and "DURAND" not in page
    assert "05/05/1980" in page and "04/05/1980" in page  # the document's birth date, the file's
    assert 'data-testid="trait-differs"' in page
    rows = AuditEvent.objects.filter(action=AuditEvent.Action.PATIENT_OPEN, actor=vigilant, detail__trace=refused.pk)
    assert set(rows.values_list("patient_id", flat=True)) == {patient.pk, homonym.pk}
    assert not AuditEvent.objects.filter(patient_id=stranger.pk).exists()
    shown_ins = AuditEvent.objects.filter(action=AuditEvent.Action.INS_READ, actor=vigilant)
    assert set(shown_ins.values_list("patient_id", flat=True)) == {p.pk for p in (patient, homonym) if p.ins}


def test_marking_handled_records_who_and_when_audited_and_leaves_the_list(refused, vigilant, patient):  # noqa: F811
    client = client_for(vigilant)
    assert client.post(reverse("vigilance:handled", args=[refused.pk]), {"note": "appelé"}).status_code == 302
    refused.refresh_from_db()
    assert refused.handled_by == vigilant and refused.handled_at is not None
    row = AuditEvent.objects.get(action=AuditEvent.Action.DOCUMENT_CHANGE, actor=vigilant)
    assert (row.patient_id, row.change) == (patient.pk, AuditEvent.Change.IDENTITY_REFUSAL_HANDLED)
    assert row.detail == {"error_code": "904", "note": "appelé"}
    assert 'data-testid="vigilance-refusal"' not in client.get(reverse("vigilance:worklist")).text
    client.post(reverse("vigilance:handled", args=[refused.pk]))
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DOCUMENT_CHANGE).count() == 1  # once only


def test_actions_without_the_permission_are_refused_audited_and_change_nothing(refused, doctor_of_unit, patient):  # noqa: F811
    client = client_for(doctor_of_unit)
    for name in ("vigilance:handled", "vigilance:file"):
        assert client.post(reverse(name, args=[refused.pk])).status_code == 403
    assert [row.patient_id for row in refusals_rows(doctor_of_unit)] == [patient.pk, patient.pk]
    refused.refresh_from_db()
    assert refused.handled_at is None and not PendingImport.objects.exists()


def test_filing_by_hand_goes_through_the_import_and_marks_the_refusal_handled(refused, vigilant, patient):  # noqa: F811
    client = client_for(vigilant)
    staged = client.post(reverse("vigilance:file", args=[refused.pk]))
    pending = PendingImport.objects.get(user=vigilant, refused_trace=refused)
    assert staged.url == reverse("mss:import_document", args=[pending.pk])
    assert 'data-testid="refused-origin"' in client.get(staged.url).text
    confirm = {"patient": patient.pk}
    assert client.post(staged.url, confirm).status_code == 200  # a trait differs: to confirm first
    refused.refresh_from_db()
    assert refused.handled_at is None
    client.post(staged.url, confirm | {"accept_identity_differences": "on"})
    document = Document.objects.get(patient=patient, provenance=Provenance.MSS)
    refused.refresh_from_db()
    assert refused.handled_by == vigilant
    row = AuditEvent.objects.get(action=AuditEvent.Action.DOCUMENT_CHANGE, object_type="mss.Trace")
    assert row.detail["filed_as"] == document.pk and row.patient_id == patient.pk


def test_a_document_with_another_ins_is_never_filed_by_hand(route, patient, document_for, vigilant):  # noqa: F811
    assert send(document_for(patient, alter="ins")).application_code == "904"  # same traits, another INS
    refused = Trace.objects.get(event=Trace.Event.REFUSED)
    client = client_for(vigilant)
    staged = client.post(reverse("vigilance:file", args=[refused.pk]))
    answer = client.post(staged.url, {"patient": patient.pk, "accept_identity_differences": "on"})
    assert "ce document concerne un autre patient" in answer.text
    assert not Document.objects.exists()
    refused.refresh_from_db()
    assert refused.handled_at is None


def test_possible_duplicates_are_listed_in_pairs_with_links_to_the_files(vigilant):
    first = PatientFactory(birth_name="HÉLÈNE-DURAND", first_names="ANNE", birth_date=date(1970, 3, 2))
    second = PatientFactory(birth_name="HELENE DURAND", first_names="ANNE MARIE", birth_date=date(1970, 3, 2))
    PatientFactory(birth_name="HELENE DURAND", first_names="ANNE", birth_date=date(1971, 3, 2))
    merged = PatientFactory(birth_name="HELENE DURAND", first_names="ANNE", birth_date=date(1970, 3, 2))
    merged.merged_into = first
    merged.save()
    page = client_for(vigilant).get(reverse("vigilance:worklist")).text
    assert page.count('data-testid="duplicate-pair"') == 1
    assert reverse("patients:file", args=[first.pk]) in page and reverse("patients:file", args=[second.pk]) in page


def test_a_user_without_unit_but_with_the_permission_sees_the_list(refused):
    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="identity_vigilance"))
    assert client_for(user).get(reverse("vigilance:worklist")).status_code == 200
