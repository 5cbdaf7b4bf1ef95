"""Admins manage structures, users, memberships and roles; every change is audited; audit export."""

from __future__ import annotations

import csv

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from dpi.models import AuditEvent, Membership
from tests.factories import CareUnitFactory, MembershipFactory, RoleFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_adding_a_membership_in_the_admin_is_audited(admin_client):
    user, unit, role = UserFactory(), CareUnitFactory(), RoleFactory()
    response = admin_client.post(
        reverse("admin:dpi_membership_add"), {"user": user.pk, "care_unit": unit.pk, "role": role.pk}
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user=user)
    event = AuditEvent.objects.get(action=AuditEvent.Action.HABILITATION_CHANGE)
    assert event.object_id == str(membership.pk)
    assert event.detail["change"] == "added"


def test_deleting_a_membership_keeps_its_content_in_the_audit(admin_client):
    membership = MembershipFactory()
    admin_client.post(reverse("admin:dpi_membership_delete", args=[membership.pk]), {"post": "yes"})
    assert not Membership.objects.exists()
    event = AuditEvent.objects.get(action=AuditEvent.Action.HABILITATION_CHANGE)
    assert event.detail["change"] == "deleted"
    assert event.detail["before"]["role"] == str(membership.role_id)


def test_changing_a_user_records_before_and_after(admin_client):
    user = UserFactory(first_name="Anne")
    admin_client.post(
        reverse("admin:dpi_user_change", args=[user.pk]),
        {
            "username": user.username,
            "first_name": "Annie",
            "last_name": user.last_name,
            "national_id_type": "RPPS",
            "rpps": user.rpps,
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "08:00:00",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    event = AuditEvent.objects.get(action=AuditEvent.Action.USER_CHANGE)
    assert event.detail["before"]["first_name"] == "Anne"
    assert event.detail["after"]["first_name"] == "Annie"


def test_logout_everywhere_closes_every_session_of_the_user(admin_client):
    user = UserFactory()
    other = Client()
    other.force_login(user)
    other.get(reverse("home"))
    assert Session.objects.count() == 2
    admin_client.post(
        reverse("admin:dpi_user_changelist"), {"action": "logout_everywhere", "_selected_action": [user.pk]}
    )
    assert other.get(reverse("home")).status_code == 302


def test_user_list_searches_by_rpps(admin_client):
    user = UserFactory()
    UserFactory()
    response = admin_client.get(reverse("admin:dpi_user_changelist"), {"q": user.rpps})
    assert response.context["cl"].result_count == 1


def test_audit_trail_exports_as_csv(admin_client):
    AuditEvent.objects.create(action=AuditEvent.Action.LOGIN_FAILURE, actor_username="intrus")
    ids = list(AuditEvent.objects.values_list("pk", flat=True))
    response = admin_client.post(
        reverse("admin:dpi_auditevent_changelist"), {"action": "export_csv", "_selected_action": ids}
    )
    body = b"".join(response.streaming_content).decode()
    assert response["Content-Type"].startswith("text/csv")
    assert body.splitlines()[0].startswith("at;action;actor_username")
    assert "login.failure;intrus" in body


def test_audit_export_neutralises_a_login_typed_as_a_formula(admin_client):
    AuditEvent.objects.create(action=AuditEvent.Action.LOGIN_FAILURE, actor_username='=HYPERLINK("http://x")')
    ids = list(AuditEvent.objects.values_list("pk", flat=True))
    response = admin_client.post(
        reverse("admin:dpi_auditevent_changelist"), {"action": "export_csv", "_selected_action": ids}
    )
    rows = list(csv.reader(b"".join(response.streaming_content).decode().splitlines(), delimiter=";"))
    assert rows[1][2] == '\'=HYPERLINK("http://x")'


def test_audit_trail_cannot_be_edited_or_deleted_in_the_admin(admin_client):
    event = AuditEvent.objects.create(action=AuditEvent.Action.LOGIN_FAILURE)
    assert admin_client.get(reverse("admin:dpi_auditevent_change", args=[event.pk])).status_code == 200
    admin_client.post(reverse("admin:dpi_auditevent_delete", args=[event.pk]), {"post": "yes"})
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_exporting_the_audit_trail_is_itself_audited(admin_client):
    AuditEvent.objects.create(action=AuditEvent.Action.LOGIN_FAILURE, actor_username="intrus")
    ids = list(AuditEvent.objects.values_list("pk", flat=True))
    response = admin_client.post(
        reverse("admin:dpi_auditevent_changelist"),
        {"action": "export_csv", "select_across": "1", "index": "0", "_selected_action": ids},
    )
    assert len(b"".join(response.streaming_content).decode().splitlines()) == 2  # without the export's own row
    event = AuditEvent.objects.get(action=AuditEvent.Action.TRACE_EXPORT)
    assert event.actor.is_superuser and event.detail["file"] == "audit.csv" and event.detail["rows"] == 1
