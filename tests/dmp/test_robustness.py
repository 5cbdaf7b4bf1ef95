"""What the review of the feeding found: stuck orders, lease take-over, double withdrawals, ZAMs racing the
worker, INS changes, refusals by the DMP. Runs against the sandbox PFI over MLLP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from dmp.models import BusinessAck, DeletionReason, FeedingOrder, OrderState
from dmp.services.feeding import record_business_ack, release_order, run_order, withdraw_from_dmp
from dmp.services.feeding.runner import _claim, _conclude
from documents.models import DocumentVersion, ExportState
from documents.services import Recipients, delete_document, start_correction, validate_document
from dpi.hl7.models import Message
from sandbox.models import PfiMessage
from tests.support.feeding import PRO_ADDRESS, set_pfi_mode
from tests.support.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def _order(document, channel: str = "dmp", purpose: str = "publish") -> FeedingOrder:
    return FeedingOrder.objects.filter(document=document, channel=channel, purpose=purpose).latest("pk")


def _run(order: FeedingOrder) -> FeedingOrder:
    run_order(order.pk)
    order.refresh_from_db()
    return order


def _line(document, channel: str = "dmp", recipient: str = ""):
    return document.exports.get(channel=channel, recipient=recipient)


def test_unexpected_error_fails_the_order_visibly_instead_of_leaving_it_sending(qualified_episode, letter, no_delay):
    document = letter(qualified_episode, recipients=Recipients((PRO_ADDRESS,)))
    order = _order(document, "mss")
    FeedingOrder.objects.filter(pk=order.pk).update(trigger="T10", replaced_version=None)  # e.g. its parent purged
    order = _run(order)
    assert order.state == OrderState.FAILED and order.reason.startswith("Erreur interne")
    assert _line(document, "mss_pro", PRO_ADDRESS).state == ExportState.FAILED


def test_unreadable_cda_is_refused_with_its_reason(qualified_episode, letter, no_delay):
    document = letter(qualified_episode, recipients=Recipients((PRO_ADDRESS,)))
    DocumentVersion.objects.filter(pk=document.current_version_id).update(cda=b"<not-a-cda/>")
    order = _run(_order(document, "mss"))
    assert order.state == OrderState.REFUSED and "CDA de la version illisible" in order.reason


def test_a_run_past_its_lease_cannot_conclude_over_the_run_that_took_it_over(qualified_episode, letter, no_delay):
    order = _order(letter(qualified_episode))
    slow, slow_token = _claim(order.pk)
    FeedingOrder.objects.filter(pk=order.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    taker, taker_token = _claim(order.pk)
    assert _conclude(slow, slow_token, OrderState.FAILED, "late") is None
    assert _conclude(taker, taker_token, OrderState.SENT, "").state == OrderState.SENT


def test_order_taken_over_after_a_crash_is_not_resent_when_the_journal_has_the_pfi_ack(
    qualified_episode, letter, no_delay, pfi
):
    order = _order(letter(qualified_episode))
    FeedingOrder.objects.filter(pk=order.pk).update(
        state=OrderState.SENDING, lease_until=timezone.now() - timedelta(seconds=1), attempts=1
    )
    Message.objects.create(
        direction=Message.Direction.OUTBOUND, control_id=order.control_id, status=Message.Status.PROCESSED,
        ack_code="AA", raw=b"MSH|", size=4,
    )  # fmt: skip
    assert _run(order).state == OrderState.SENT
    assert not PfiMessage.objects.exists()


def test_two_withdrawal_requests_send_one_deletion(qualified_episode, letter, doctor, no_delay, pfi):
    document = letter(qualified_episode)
    _run(_order(document))
    first = withdraw_from_dmp(document=document, reason=DeletionReason.ERROR, acting_user=doctor)
    second = withdraw_from_dmp(document=document, reason=DeletionReason.ERROR, acting_user=doctor)
    assert first.pk == second.pk and _run(first).state == OrderState.SENT
    with pytest.raises(ValidationError):
        withdraw_from_dmp(document=document, reason=DeletionReason.ERROR, acting_user=doctor)
    assert PfiMessage.objects.filter(trigger="T04").count() == 1


def test_withdrawal_cancels_a_newer_version_waiting_for_the_dmp(qualified_episode, letter, doctor, no_delay, pfi):
    document = letter(qualified_episode)
    _run(_order(document))
    start_correction(document=document, acting_user=doctor)
    FeedingOrder.objects.update(due_at=timezone.now() + timedelta(hours=1))
    validate_document(document=document, acting_user=doctor)
    waiting = _order(document)
    withdraw_from_dmp(document=document, reason=DeletionReason.PATIENT_REQUEST, acting_user=doctor)
    waiting.refresh_from_db()
    assert waiting.state == OrderState.CANCELLED


def test_withdrawal_reason_of_the_producing_software_is_not_a_user_choice(qualified_episode, letter, doctor, no_delay):
    document = letter(qualified_episode)
    with pytest.raises(ValidationError):
        withdraw_from_dmp(document=document, reason=DeletionReason.DELETED_HERE, acting_user=doctor)


def test_document_whose_ins_changed_since_validation_is_not_fed(qualified_episode, letter, no_delay, pfi):
    document = letter(qualified_episode)
    patient = qualified_episode.patient
    patient.ins = "180012B01234512"
    patient.save()
    order = _run(_order(document))
    assert order.state == OrderState.REFUSED and "INS du document" in order.reason
    assert not PfiMessage.objects.exists()


def test_document_refused_by_the_dmp_can_be_sent_again_as_a_new_message(
    qualified_episode, letter, doctor, no_delay, pfi
):
    set_pfi_mode("dmp_reject")
    document = letter(qualified_episode)
    order = _run(_order(document))
    wait_until(lambda: BusinessAck.objects.filter(order=order).exists())
    assert _line(document).state == ExportState.FAILED
    first_control_id = order.control_id
    set_pfi_mode("normal")
    release_order(order=order, acting_user=doctor)
    order = _run(order)
    assert order.state == OrderState.SENT and order.control_id != first_control_id
    wait_until(lambda: _line(document).state == ExportState.ACKNOWLEDGED)


def test_zam_arriving_before_the_worker_concludes_is_applied_by_the_conclusion(qualified_episode, letter, no_delay):
    document = letter(qualified_episode)
    order, token = _claim(_order(document).pk)
    zam = Message.objects.create(direction=Message.Direction.INBOUND, control_id="Z", raw=b"MSH|", size=4)
    record_business_ack(
        order=order, event="Z01", success=False, recipient="", error="DMP fermé (DMPClosed)", event_at=None,
        message=zam,
    )  # fmt: skip
    assert _line(document).state == ExportState.PENDING  # not applied while the order is being sent
    _conclude(order, token, OrderState.SENT, "")
    assert _line(document).state == ExportState.FAILED and _line(document).reason == "DMP fermé (DMPClosed)"


def test_deleting_a_mailed_document_sends_no_deletion_mail_unless_asked(
    qualified_episode, letter, doctor, no_delay, pfi
):
    document = letter(qualified_episode, recipients=Recipients((PRO_ADDRESS,)))
    _run(_order(document, "mss"))
    delete_document(document=document, acting_user=doctor)
    assert not FeedingOrder.objects.filter(document=document, purpose="delete").exists()


def test_version_sent_while_its_document_was_deleted_is_withdrawn_at_once(qualified_episode, letter, doctor, no_delay):
    document = letter(qualified_episode)
    order, token = _claim(_order(document).pk)
    delete_document(document=document, acting_user=doctor)  # during the send: nothing to withdraw yet
    assert not FeedingOrder.objects.filter(document=document, purpose="delete").exists()
    _conclude(order, token, OrderState.SENT, "")
    withdrawal = _order(document, purpose="delete")
    assert (withdrawal.state, withdrawal.deletion_reason) == (OrderState.SCHEDULED, DeletionReason.DELETED_HERE)


def test_circumstantial_rejection_ar_is_tried_again_later(qualified_episode, letter, no_delay, pfi):
    set_pfi_mode("ar")
    order = _run(_order(letter(qualified_episode)))
    assert (order.state, order.attempts) == (OrderState.SCHEDULED, 1)
    assert order.due_at > timezone.now() and order.reason
