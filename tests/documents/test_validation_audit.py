"""One validation is one audit row: what was saved, the version, and the sendings it ordered, inside it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from documents.models import Document, Status
from dpi.models import AuditEvent
from tests.documents.test_views import FORM

pytestmark = pytest.mark.django_db


def _document_rows(document) -> list[dict]:
    rows = AuditEvent.objects.filter(action=AuditEvent.Action.DOCUMENT_CHANGE, object_id=str(document.pk))
    return [{"change": row.change, **row.detail} for row in rows.order_by("pk")]


def test_writing_and_validating_a_letter_with_a_mail_recipient_writes_one_row(client, doctor, qualified_episode):
    client.force_login(doctor)
    url = reverse("documents:new", args=[qualified_episode.patient.pk, "11490-0"])
    client.post(url, {**FORM, "mss_recipients": "dr.x@test.mssante.fr", "validate": "1"})
    document = Document.objects.get()
    [row] = _document_rows(document)
    assert row["change"] == "validated" and row["version"] == 1
    assert row["draft"] == "draft_created" and row["hold_sending"] is False
    assert [(order["channel"], order["state"]) for order in row["feeding"]] == [
        ("dmp", "scheduled"),
        ("mss", "scheduled"),
    ]
    orders = {order.pk for order in document.feeding_orders.all()}
    assert {order["order"] for order in row["feeding"]} == orders
    assert all(order["due_at"].endswith(("+01:00", "+02:00")) for order in row["feeding"])  # Paris time


def test_validating_an_edited_draft_writes_one_row(client, doctor, qualified_episode):
    client.force_login(doctor)
    client.post(reverse("documents:new", args=[qualified_episode.patient.pk, "11490-0"]), FORM)
    document = Document.objects.get()
    before = len(_document_rows(document))
    client.post(
        reverse("documents:edit", args=[document.pk]), {**FORM, "suites": "Contrôle à 15 jours", "validate": "1"}
    )
    rows = _document_rows(document)[before:]
    assert [(row["change"], row.get("draft")) for row in rows] == [("validated", "draft_updated")]


def test_a_validation_refused_keeps_the_saved_draft_and_its_row(client, doctor, qualified_episode):
    client.force_login(doctor)
    client.post(
        reverse("documents:new", args=[qualified_episode.patient.pk, "11490-0"]),
        {**FORM, "synthese": "", "validate": "1"},
    )
    document = Document.objects.get()
    assert document.status == Status.DRAFT
    assert [row["change"] for row in _document_rows(document)] == ["draft_created"]
