"""The audit record: request id, listed change kinds, before/after values, rows nobody can change."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.db import IntegrityError, transaction
from django.urls import reverse

from consent.models import Source, State, Subject
from consent.services import record_consent
from dpi.audit_context import bind, current_request_id
from dpi.celery import app
from dpi.models import AuditEvent
from dpi.services import audit
from patients.services import link_care_episode
from tests.factories import EpisodeFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_rows_of_one_request_share_its_id_and_the_next_request_has_another(client, doctor, qualified_episode):
    client.force_login(doctor)
    url = reverse("patients:file", args=[qualified_episode.patient.pk])
    client.get(url)
    first = set(AuditEvent.objects.values_list("action", "request_id"))
    assert {action for action, _id in first} >= {AuditEvent.Action.PATIENT_OPEN, AuditEvent.Action.INS_READ}
    [request_id] = {request_id for _action, request_id in first}
    assert request_id is not None
    client.get(url)
    second = set(AuditEvent.objects.exclude(request_id=request_id).values_list("request_id", flat=True))
    assert len(second) == 1 and None not in second


def test_a_unit_of_work_binds_one_id_and_restores_the_outer_one():
    assert current_request_id() is None
    with bind() as outer:
        first = audit(action=AuditEvent.Action.LOGOUT)
        with bind() as inner:
            assert audit(action=AuditEvent.Action.LOGOUT).request_id == inner != outer
        second = audit(action=AuditEvent.Action.LOGOUT)
    assert first.request_id == second.request_id == outer
    assert audit(action=AuditEvent.Action.LOGOUT).request_id is None


def test_each_celery_task_run_is_a_unit_of_work_of_its_own():
    @app.task(name="tests.audit_twice")
    def audit_twice() -> list[str]:
        return [str(audit(action=AuditEvent.Action.LOGOUT).request_id) for _ in range(2)]

    first, second = audit_twice.apply().get(), audit_twice.apply().get()
    assert first[0] == first[1] != "None" and second[0] == second[1] != first[0]


def test_a_change_kind_is_one_of_the_listed_values():
    row = audit(action=AuditEvent.Action.USER_CHANGE, change=AuditEvent.Change.DEACTIVATED)
    row.refresh_from_db()
    assert row.change == "deactivated" and row.get_change_display() == "désactivation"
    with pytest.raises(ValueError):
        audit(action=AuditEvent.Action.USER_CHANGE, change="renamed")  # type: ignore[arg-type]


def test_an_audit_row_cannot_be_updated_nor_deleted_in_the_database():
    row = audit(action=AuditEvent.Action.PATIENT_OPEN, patient_id=1)
    row.patient_id = 2
    with pytest.raises(IntegrityError), transaction.atomic():
        row.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.filter(pk=row.pk).update(detail={"forged": True})
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.filter(pk=row.pk).delete()
    row.refresh_from_db()
    assert (row.patient_id, row.detail) == (1, {})


def test_deleting_a_user_keeps_their_rows_with_the_frozen_login():
    user = UserFactory(username="ancien", rpps="10000000001")
    audit(action=AuditEvent.Action.LOGOUT, actor=user)
    user.delete()
    row = AuditEvent.objects.get()
    assert (row.actor, row.actor_username, row.actor_rpps) == (None, "ancien", "10000000001")


def test_the_journal_admin_is_read_only(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    row = audit(action=AuditEvent.Action.LOGOUT)
    assert client.get(reverse("admin:dpi_auditevent_add")).status_code == 403
    assert client.post(reverse("admin:dpi_auditevent_delete", args=[row.pk]), {"post": "yes"}).status_code == 403
    page = client.get(reverse("admin:dpi_auditevent_change", args=[row.pk])).content.decode()
    assert 'name="_save"' not in page


def test_the_journal_lists_the_change_kind_and_filters_on_a_request_id(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    with bind() as request_id:
        audit(action=AuditEvent.Action.USER_CHANGE, change=AuditEvent.Change.DEACTIVATED, detail={"n": 1})
    audit(action=AuditEvent.Action.USER_CHANGE, change=AuditEvent.Change.ADDED)
    response = client.get(reverse("admin:dpi_auditevent_changelist"), {"request_id": str(request_id)})
    assert [row.change for row in response.context["cl"].result_list] == [AuditEvent.Change.DEACTIVATED]
    assert '<td class="field-what">modification d&#x27;utilisateur<br><small>désactivation</small></td>' in (
        response.content.decode()
    )


def test_the_journal_export_has_the_request_id_the_change_kind_and_the_values(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    with bind() as request_id:
        row = audit(action=AuditEvent.Action.USER_CHANGE, change=AuditEvent.Change.CHANGED,
                    before={"last_name": "Dupont"}, after={"last_name": "Durand"})  # fmt: skip
    response = client.post(
        reverse("admin:dpi_auditevent_changelist"), {"action": "export_csv", "_selected_action": [row.pk]}
    )
    header, line = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()[:2]
    cells = dict(zip(header.split(";"), line.split(";"), strict=True))
    assert (cells["request_id"], cells["change"]) == (str(request_id), "changed")
    assert '"Dupont"' in cells["before"] and '"Durand"' in cells["after"]


def test_a_consent_change_records_the_state_before_and_after(qualified_episode):
    record_consent(episode=qualified_episode, subject=Subject.FEEDING, state=State.INFORMED_OPPOSED, source=Source.UI)
    row = AuditEvent.objects.get(action=AuditEvent.Action.CONSENT_CHANGE)
    assert row.change == AuditEvent.Change.CHANGED
    assert (row.before, row.after) == ({"state": State.NOT_INFORMED}, {"state": State.INFORMED_OPPOSED})
    assert row.object_type == "patients.Episode" and row.object_id == str(qualified_episode.pk)


def test_an_identity_change_records_the_care_episode_before_and_after(doctor, qualified_episode):
    other = EpisodeFactory(patient=qualified_episode.patient, care_unit=qualified_episode.care_unit)
    before = qualified_episode.care_episode_id
    link_care_episode(episode=qualified_episode, same_as=other, acting_user=doctor)
    row = AuditEvent.objects.get(action=AuditEvent.Action.IDENTITY_CHANGE)
    assert (row.before, row.after) == ({"care_episode": before}, {"care_episode": other.care_episode_id})


def test_the_migration_moves_the_free_text_change_kind_of_existing_rows(editable_audit_trail):
    migration = importlib.import_module("dpi.migrations.0011_audit_request_change_before_after")
    admin_row = AuditEvent.objects.create(
        action=AuditEvent.Action.USER_CHANGE, detail={"change": "changed", "before": {"a": "1"}, "after": {"a": "2"}}
    )
    contact_row = AuditEvent.objects.create(
        action=AuditEvent.Action.CONTACT_CHANGE, detail={"change": "added", "before": "old@x.fr", "step": "verified"}
    )
    unknown = AuditEvent.objects.create(action=AuditEvent.Action.USER_CHANGE, detail={"change": "unheard_of"})
    migration.move_change_out_of_detail(apps, None)
    for row in (admin_row, contact_row, unknown):
        row.refresh_from_db()
    assert (admin_row.change, admin_row.before, admin_row.after, admin_row.detail) == (
        "changed", {"a": "1"}, {"a": "2"}, {},
    )  # fmt: skip
    assert (contact_row.change, contact_row.before, contact_row.detail) == (
        "added", None, {"before": "old@x.fr", "step": "verified"},
    )  # fmt: skip
    assert (unknown.change, unknown.detail) == ("", {"change": "unheard_of"})
