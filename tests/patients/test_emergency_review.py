"""The review of emergency accesses (issue 15 §5): the DPO sees all, a unit head those opened by the members of
their units, anyone else is refused with an audit row; "marquer comme revu" records who and when, audited."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from dpi.models import AuditEvent
from patients.models import EmergencyAccess
from patients.services import start_emergency_access
from tests.factories import CareUnitFactory, MembershipFactory, PatientFactory, RoleFactory, UserFactory

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def with_permission(user, codename: str):
    user.user_permissions.add(Permission.objects.get(codename=codename))
    return user


@pytest.fixture
def accesses(care_unit):
    """One emergency access opened from ``care_unit``, one from another unit."""
    ours = MembershipFactory(care_unit=care_unit, role=RoleFactory(may_break_glass=True)).user
    theirs = MembershipFactory(care_unit=CareUnitFactory(), role=RoleFactory(may_break_glass=True)).user
    return {
        "ours": start_emergency_access(
            user=ours, patient=PatientFactory(birth_name="URGENT"), reason="Arrêt cardiaque"
        ),
        "theirs": start_emergency_access(user=theirs, patient=PatientFactory(birth_name="AILLEURS"), reason="Chute"),
    }


@pytest.fixture
def unit_head(care_unit):
    return with_permission(
        MembershipFactory(care_unit=care_unit, role=RoleFactory()).user, "review_unit_emergency_access"
    )


@pytest.fixture
def dpo(db):
    return with_permission(UserFactory(), "review_emergency_access")


def listed(user) -> str:
    return client_for(user).get(reverse("patients:emergency_review")).text


def test_the_dpo_sees_every_access_with_who_patient_reason_start_and_end(accesses, dpo):
    page = listed(dpo)
    assert page.count('data-testid="emergency-access"') == 2
    access = accesses["ours"]
    for shown in ("URGENT", "AILLEURS", "Arrêt cardiaque", access.user.username,
                  f"{access.started_at:%d/%m/%Y}", "(4 h)"):  # fmt: skip
        assert shown in page


def test_a_unit_head_sees_the_accesses_opened_by_the_members_of_their_units(accesses, unit_head):
    page = listed(unit_head)
    assert "URGENT" in page and "AILLEURS" not in page
    rows = AuditEvent.objects.filter(action=AuditEvent.Action.PATIENT_OPEN, actor=unit_head)
    assert list(rows.values_list("patient_id", flat=True)) == [accesses["ours"].patient_id]


def test_anyone_else_is_refused_with_an_audit_row(accesses, doctor):
    assert client_for(doctor).get(reverse("patients:emergency_review")).status_code == 403
    row = AuditEvent.objects.get(action=AuditEvent.Action.PATIENT_REFUSED, actor=doctor)
    assert row.detail["reason"] == "not_reviewer" and row.detail["view"] == "patients:emergency_review"


def test_marking_reviewed_records_who_and_when_audited_and_leaves_the_pending_list(accesses, unit_head):
    access = accesses["ours"]
    client = client_for(unit_head)
    assert client.post(reverse("patients:emergency_reviewed", args=[access.pk])).status_code == 302
    access.refresh_from_db()
    assert access.reviewed_by == unit_head and access.reviewed_at is not None
    row = AuditEvent.objects.get(action=AuditEvent.Action.EMERGENCY_ACCESS, actor=unit_head)
    assert row.patient_id == access.patient_id and row.change == "reviewed"
    assert "URGENT" not in listed(unit_head)
    assert 'data-testid="reviewed"' in client.get(reverse("patients:emergency_review"), {"tous": "1"}).text
    client.post(reverse("patients:emergency_reviewed", args=[access.pk]))
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EMERGENCY_ACCESS, actor=unit_head).count() == 1


def test_a_unit_head_cannot_mark_another_units_access_refused_and_audited(accesses, unit_head):
    other = accesses["theirs"]
    assert client_for(unit_head).post(reverse("patients:emergency_reviewed", args=[other.pk])).status_code == 403
    row = AuditEvent.objects.get(action=AuditEvent.Action.PATIENT_REFUSED, actor=unit_head)
    assert row.patient_id == other.patient_id and row.object_id == str(other.pk)
    assert EmergencyAccess.objects.get(pk=other.pk).reviewed_at is None
