"""Admins manage structures, users, memberships and roles; every change is audited; audit export."""

from __future__ import annotations

import csv

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dpi.models import AuditEvent, Membership
from tests.factories import CareUnitFactory, EpisodeFactory, MembershipFactory, RoleFactory, UserFactory

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
    assert event.change == "added"


def test_deleting_a_membership_keeps_its_content_in_the_audit(admin_client):
    membership = MembershipFactory()
    admin_client.post(reverse("admin:dpi_membership_delete", args=[membership.pk]), {"post": "yes"})
    assert not Membership.objects.exists()
    event = AuditEvent.objects.get(action=AuditEvent.Action.HABILITATION_CHANGE)
    assert event.change == "deleted"
    assert event.before["role"] == str(membership.role_id)


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
    assert event.before["first_name"] == "Anne"
    assert event.after["first_name"] == "Annie"


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
    assert body.splitlines()[0].startswith("at;request_id;action;change;actor_username")
    assert "login.failure;;intrus" in body  # no change kind for a login


def test_audit_export_neutralises_a_login_typed_as_a_formula(admin_client):
    AuditEvent.objects.create(action=AuditEvent.Action.LOGIN_FAILURE, actor_username='=HYPERLINK("http://x")')
    ids = list(AuditEvent.objects.values_list("pk", flat=True))
    response = admin_client.post(
        reverse("admin:dpi_auditevent_changelist"), {"action": "export_csv", "_selected_action": ids}
    )
    rows = list(csv.reader(b"".join(response.streaming_content).decode().splitlines(), delimiter=";"))
    assert rows[1][rows[0].index("actor_username")] == '\'=HYPERLINK("http://x")'


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


# --- readings of patient data in the admin ---------------------------------------------------------

PATIENT_MODELS = {"patients.Patient", "patients.Episode", "documents.Document"}
# Admin pages of models tied to a patient that do not audit readings, with the reason.
READINGS_EXEMPT = {
    "hl7.Message": "the journal of raw messages names patients by PID-3 only (no resolved patient); staff "
    "reading it is the interface engineer's job, and replays are audited (hl7.replay)",
}


def _tied_to_a_patient(model) -> bool:
    if model._meta.label in PATIENT_MODELS:
        return True
    return any(
        field.related_model is not None and field.related_model._meta.label in PATIENT_MODELS
        for field in model._meta.get_fields()
        if field.many_to_one or field.one_to_one and field.concrete
    )


def test_every_admin_of_a_model_tied_to_a_patient_audits_its_readings_or_says_why_not():
    from django.contrib import admin

    silent = sorted(
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label != "sandbox"  # the simulators' own records, not the DPI's patients
        and _tied_to_a_patient(model)
        and getattr(model_admin, "patient_path", None) is None
        and model._meta.label not in READINGS_EXEMPT
    )
    assert not silent, f"set patient_path on these admins or list them in READINGS_EXEMPT: {silent}"


def test_opening_a_patient_or_a_consent_in_the_admin_leaves_a_reading_row(admin_client):
    from consent.models import ConsentDecision, Source, State, Subject

    episode = EpisodeFactory()
    decision = ConsentDecision.objects.create(
        episode=episode,
        subject=Subject.FEEDING,
        state=State.INFORMED_OPPOSED,
        collected_at=timezone.now(),
        source=Source.UI,
    )
    admin_client.get(reverse("admin:patients_patient_change", args=[episode.patient.pk]))
    admin_client.get(reverse("admin:consent_consentdecision_change", args=[decision.pk]))
    admin_client.get(reverse("admin:patients_patient_changelist"))  # a list opens no one's file
    rows = AuditEvent.objects.filter(action=AuditEvent.Action.PATIENT_OPEN).order_by("pk")
    assert [(row.patient_id, row.object_type, row.detail["channel"]) for row in rows] == [
        (episode.patient.pk, "patients.Patient", "admin"),
        (episode.patient.pk, "consent.ConsentDecision", "admin"),
    ]
