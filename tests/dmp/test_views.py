"""Feeding in the UI: the document line, cancel/release/send/withdraw, habilitations, and historical feeding."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dmp.models import FeedingOrder, OrderKind, OrderState
from dmp.selectors.feeding import historical_candidates
from dmp.services.feeding import send_history
from documents.models import Document
from dpi.models import AuditEvent
from patients.models import IdentityStatus
from tests.factories import EpisodeFactory, MembershipFactory, PatientFactory

pytestmark = pytest.mark.django_db


def _order(document, channel: str = "dmp") -> FeedingOrder:
    return FeedingOrder.objects.filter(document=document, channel=channel).latest("pk")


def _older(document, days: int) -> Document:
    """Pretend the document was written ``days`` ago (created_at is set by the database)."""
    Document.objects.filter(pk=document.pk).update(created_at=timezone.now() - timedelta(days=days))
    return document


def test_document_line_shows_the_pending_order_with_its_due_time_and_cancel(client, doctor, qualified_episode, letter):
    document = letter(qualified_episode)
    client.force_login(doctor)
    page = client.get(reverse("documents:detail", args=[document.pk])).content.decode()
    order = _order(document)
    assert 'data-testid="order-dmp"' in page and 'data-testid="countdown"' in page
    assert timezone.localtime(order.due_at).strftime("%d/%m/%Y %H:%M") in page
    assert reverse("dmp:order_cancel", args=[order.pk]) in page
    assert 'hx-trigger="every 5s"' in page  # the line refreshes itself while the order waits


def test_cancel_then_release_through_htmx_return_the_new_line(client, doctor, qualified_episode, letter):
    order = _order(letter(qualified_episode))
    client.force_login(doctor)
    line = client.post(reverse("dmp:order_cancel", args=[order.pk]), headers={"HX-Request": "true"}).content.decode()
    assert 'data-state="cancelled"' in line and reverse("dmp:order_release", args=[order.pk]) in line
    line = client.post(reverse("dmp:order_release", args=[order.pk]), headers={"HX-Request": "true"}).content.decode()
    assert 'data-state="scheduled"' in line
    changes = AuditEvent.objects.filter(actor=doctor).values_list("change", flat=True)
    assert {"feeding_cancelled", "feeding_released"} <= set(changes)


def test_a_user_without_habilitation_cannot_touch_the_order(client, qualified_episode, letter, user_without_unit):
    order = _order(letter(qualified_episode))
    client.force_login(user_without_unit)
    for name in ("dmp:order_cancel", "dmp:order_release"):
        assert client.post(reverse(name, args=[order.pk])).status_code == 403
    assert client.post(reverse("dmp:document_send", args=[order.document_id, "dmp"])).status_code == 403
    assert client.get(reverse("dmp:feeding_line", args=[order.document_id])).status_code == 403
    order.refresh_from_db()
    assert order.state == OrderState.SCHEDULED


def test_order_actions_need_post(client, doctor, qualified_episode, letter):
    order = _order(letter(qualified_episode))
    client.force_login(doctor)
    assert client.get(reverse("dmp:order_cancel", args=[order.pk])).status_code == 405


def test_cancelling_a_sent_order_is_refused_with_a_message(client, doctor, qualified_episode, letter):
    order = _order(letter(qualified_episode))
    FeedingOrder.objects.filter(pk=order.pk).update(state=OrderState.SENT)
    client.force_login(doctor)
    response = client.post(reverse("dmp:order_cancel", args=[order.pk]), follow=True)
    assert "ne peut plus être annulé" in response.content.decode()


def test_send_now_offered_for_a_cancelled_document_and_orders_it_by_hand(client, doctor, qualified_episode, letter):
    document = letter(qualified_episode)
    FeedingOrder.objects.filter(document=document).update(state=OrderState.CANCELLED, reason="x")
    client.force_login(doctor)
    page = client.get(reverse("documents:detail", args=[document.pk])).content.decode()
    assert 'data-testid="send-dmp"' in page
    client.post(reverse("dmp:document_send", args=[document.pk, "dmp"]))
    order = _order(document)
    assert (order.state, order.created_by, order.kind) == (OrderState.SCHEDULED, doctor, OrderKind.AUTOMATIC)
    assert AuditEvent.objects.filter(change="feeding_sent_by_hand", detail__order=order.pk).exists()


# --- historical feeding -------------------------------------------------------------------------------


@pytest.fixture
def history(qualified_episode, letter, care_unit):
    """Two earlier visits with letters never sent, one too old, and the current visit's letter."""
    patient = qualified_episode.patient
    earlier = EpisodeFactory(
        patient=patient,
        care_unit=care_unit,
        admitted_at=timezone.now() - timedelta(days=400),
        discharged_at=timezone.now() - timedelta(days=390),
    )
    documents = {
        "earlier": _older(letter(earlier, hold_sending=True), 380),
        "older": _older(letter(earlier, hold_sending=True, title="Lettre 2"), 1000),
        "too_old": _older(letter(earlier, hold_sending=True, title="Lettre ancienne"), 365 * 5 + 10),
        "current": letter(qualified_episode, hold_sending=True),
    }
    FeedingOrder.objects.filter(document__patient=patient).update(state=OrderState.CANCELLED, reason="x")
    return documents


def test_historical_candidates_are_earlier_documents_within_five_years_never_fed(history, qualified_episode):
    assert set(historical_candidates(qualified_episode.patient)) == {history["earlier"], history["older"]}


def test_documents_sent_to_the_dmp_or_of_an_unqualified_patient_are_no_candidates(history, qualified_episode):
    FeedingOrder.objects.filter(document=history["earlier"]).update(state=OrderState.SENT)
    assert history["earlier"] not in set(historical_candidates(qualified_episode.patient))
    patient = qualified_episode.patient
    patient.identity_status = IdentityStatus.VALIDEE
    patient.save()
    assert not historical_candidates(patient).exists()


def test_historical_batch_orders_the_selection_now_as_historical(client, doctor, history, qualified_episode):
    client.force_login(doctor)
    patient = qualified_episode.patient
    page = client.get(reverse("patients:file", args=[patient.pk])).content.decode()
    assert 'data-testid="historical-link"' in page
    response = client.post(reverse("dmp:historical", args=[patient.pk]), {"document": [history["earlier"].pk]})
    assert response.status_code == 302
    order = _order(history["earlier"])
    assert (order.kind, order.state) == (OrderKind.HISTORICAL, OrderState.SCHEDULED)
    assert order.due_at <= timezone.now()
    assert _order(history["older"]).kind == OrderKind.AUTOMATIC  # not chosen: untouched
    assert AuditEvent.objects.filter(change="historical_feeding_ordered", patient_id=patient.pk).exists()


def test_historical_batch_refuses_a_document_outside_the_list(doctor, history, qualified_episode):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        send_history(patient_documents=[history["too_old"]], acting_user=doctor)


def test_historical_page_needs_a_habilitation(client, history, qualified_episode):
    stranger = MembershipFactory().user
    client.force_login(stranger)
    assert client.get(reverse("dmp:historical", args=[qualified_episode.patient.pk])).status_code == 403


def test_patient_without_history_shows_no_historical_panel(client, doctor, care_unit):
    patient = PatientFactory(ins="279035121518989", identity_status=IdentityStatus.QUALIFIEE)
    EpisodeFactory(patient=patient, care_unit=care_unit)
    client.force_login(doctor)
    page = client.get(reverse("patients:file", args=[patient.pk])).content.decode()
    assert 'data-testid="historical-link"' not in page
