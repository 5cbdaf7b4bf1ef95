"""Creating feeding orders (at validation, by hand, historical, withdrawals) and the user's actions on them."""

from __future__ import annotations

import logging
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from dmp.models import (
    DeletionReason,
    FeedingChannel,
    FeedingOrder,
    OrderKind,
    OrderState,
    Purpose,
)
from dmp.selectors.feeding import feeding_delay, historical_candidates, last_sent
from dmp.services.feeding.exports import sync_exports
from documents.models import Document, DocumentVersion, Provenance, Status
from documents.types import SEGUR_TYPES
from dpi.hl7.ack import new_control_id
from dpi.models import AuditEvent, User
from dpi.services import audit
from patients.access import require_access

logger = logging.getLogger(__name__)

# --- creation --------------------------------------------------------------------------------------


def order_feeding(*, version: DocumentVersion, acting_user: User | None, **signal: object) -> list[FeedingOrder]:
    """At validation, with no user action: a DMP order for a Ségur document, an MSSanté order if recipients.

    Receiver of :data:`documents.signals.version_validated` (inside the validation transaction): the orders
    it returns are written in the validation's audit row (one validation, one row).
    """
    document = version.document
    if document.provenance != Provenance.PRODUCED:
        return []
    due = timezone.now() + feeding_delay(document.type_code, document.care_unit)
    state = OrderState.HELD if document.hold_sending else OrderState.SCHEDULED
    channels = []
    if document.type_code in SEGUR_TYPES:
        channels.append(FeedingChannel.DMP)
    if document.mss_recipients or document.mss_to_patient:
        channels.append(FeedingChannel.MSS)
    return [
        _create_order(version, channel, OrderKind.AUTOMATIC, state=state, due=due, user=acting_user)
        for channel in channels
    ]


def order_deletion(*, document: Document, acting_user: User | None) -> FeedingOrder | None:
    """The document was deleted in the DPI: cancel what waits, withdraw it from the DMP if it is there.

    Called by :func:`dmp.services.sending.on_document_deleted`, which then tells the MSSanté recipients
    when the user asked to.
    """
    _cancel_pending(document, acting_user, _("Document supprimé dans le DPI"))
    return withdraw_last_sent(document, DeletionReason.DELETED_HERE, acting_user)


WITHDRAWAL_REASONS = (DeletionReason.ERROR, DeletionReason.PATIENT_REQUEST)


@transaction.atomic
def withdraw_from_dmp(
    *, document: Document, reason: str, acting_user: User, request: HttpRequest | None = None
) -> FeedingOrder:
    """Delete the document from the DMP (error, patient request): an MDM^T04 of the last version sent.

    Publications still waiting for the DMP are cancelled: they would put the document back.
    """
    require_access(acting_user, document.patient)
    if reason not in WITHDRAWAL_REASONS:
        raise ValidationError(_("Motif de suppression inconnu."))
    _cancel_pending(document, acting_user, _("Document retiré du DMP"), channel=FeedingChannel.DMP)
    order = withdraw_last_sent(document, reason, acting_user)
    if order is None:
        raise ValidationError(_("Ce document n'est pas dans le DMP."))
    audit_order(order, acting_user, AuditEvent.Change.DMP_WITHDRAWAL_ORDERED, request, reason=reason)
    return order


def withdraw_last_sent(document: Document, reason: str, user: User | None) -> FeedingOrder | None:
    """A T04 of the version last accepted by the DMP; an existing deletion is only restarted if it stopped."""
    sent = last_sent(document, FeedingChannel.DMP)
    if sent is None or sent.purpose == Purpose.DELETE:
        return None
    order, created = FeedingOrder.objects.select_for_update(of=("self",)).get_or_create(
        version=sent.version,
        channel=FeedingChannel.DMP,
        purpose=Purpose.DELETE,
        defaults=order_fields(document, OrderKind.MANUAL, user, timezone.now(), OrderState.SCHEDULED)
        | {"deletion_reason": reason},
    )
    if created:
        sync_exports(order)
        enqueue(order)
    elif order.state in RESTARTABLE:
        _reschedule(order)
    return order


@transaction.atomic
def send_now(
    *, document: Document, channel: str, acting_user: User, request: HttpRequest | None = None
) -> FeedingOrder:
    """Send by hand a document not yet successfully fed on ``channel`` (the current version, now)."""
    check_sendable(acting_user, document)
    order = _order_now(document, channel, acting_user)
    audit_order(order, acting_user, AuditEvent.Change.FEEDING_SENT_BY_HAND, request)
    return order


@transaction.atomic
def send_history(
    *, patient_documents: list[Document], acting_user: User, request: HttpRequest | None = None
) -> list[FeedingOrder]:
    """Historical feeding: send a selection of the patient's earlier documents to the DMP in one batch."""
    if not patient_documents:
        return []
    patient = patient_documents[0].patient
    require_access(acting_user, patient)
    allowed = set(historical_candidates(patient).values_list("pk", flat=True))
    if any(document.pk not in allowed or document.patient_id != patient.pk for document in patient_documents):
        raise ValidationError(_("Un des documents choisis ne relève pas de l'alimentation historique."))
    orders = [
        _order_now(document, FeedingChannel.DMP, acting_user, kind=OrderKind.HISTORICAL)
        for document in patient_documents
    ]
    audit(
        action=AuditEvent.Action.DOCUMENT_CHANGE,
        actor=acting_user,
        request=request,
        patient_id=patient.pk,
        change=AuditEvent.Change.HISTORICAL_FEEDING_ORDERED,
        detail={"documents": [d.pk for d in patient_documents]},
    )
    return orders


def _order_now(document: Document, channel: str, user: User, *, kind: str = OrderKind.MANUAL) -> FeedingOrder:
    """The current version's order on ``channel``, due now: created, or restarted if it stopped."""
    version = document.current_version
    order = (
        FeedingOrder.objects.select_for_update(of=("self",))
        .filter(version=version, channel=channel, purpose=Purpose.PUBLISH)
        .exclude(kind=OrderKind.ADDITIONAL)
        .first()
    )
    if order is None:
        return _create_order(version, channel, kind, state=OrderState.SCHEDULED, due=timezone.now(), user=user)
    if order.state in (OrderState.SCHEDULED, OrderState.SENDING):
        raise ValidationError(_("Un envoi de ce document est déjà en cours."))
    if order.state == OrderState.SENT and not refused_by_recipient(order):
        raise ValidationError(_("Cette version a déjà été envoyée."))
    if kind == OrderKind.HISTORICAL:
        order.kind = kind
    order.created_by = user
    _reschedule(order)
    return order


def _create_order(
    version: DocumentVersion, channel: str, kind: str, *, state: str, due: timezone.datetime, user: User | None
) -> FeedingOrder:
    document = version.document
    fields = order_fields(document, kind, user, due, state)
    if channel == FeedingChannel.MSS:
        fields |= {
            "mss_recipients": list(document.mss_recipients),
            "mss_patient": document.mss_to_patient,
            "mss_patient_may_reply": document.patient_may_reply,
        }
    order = FeedingOrder.objects.create(version=version, channel=channel, purpose=Purpose.PUBLISH, **fields)
    sync_exports(order)
    enqueue(order)
    return order


def order_fields(document: Document, kind: str, user: User | None, due: datetime, state: str) -> dict:
    return {
        "document": document,
        "kind": kind,
        "state": state,
        "due_at": due,
        "created_by": user,
        "control_id": new_control_id(),
    }


# Orders a user may restart; a SENT order too when the DMP or a recipient refused it (see refused_by_recipient).
RESTARTABLE = (OrderState.HELD, OrderState.CANCELLED, OrderState.REFUSED, OrderState.FAILED)


def _reschedule(order: FeedingOrder) -> None:
    """Due now, attempts from zero; a refused message is a new message (new MSH-10, event decided again)."""
    if order.state == OrderState.SENT:
        order.control_id, order.trigger, order.replaced_version, order.metadata = new_control_id(), "", None, {}
    order.state, order.reason = OrderState.SCHEDULED, ""
    order.due_at, order.attempts, order.lease_until, order.lease_token = timezone.now(), 0, None, ""
    order.save()
    sync_exports(order)
    enqueue(order)


def refused_by_recipient(order: FeedingOrder) -> bool:
    """A SENT order whose latest business ack is a refusal (DMP rejection, undelivered mail)."""
    if order.state != OrderState.SENT:
        return False
    latest = max(order.acks.all(), key=lambda ack: ack.pk, default=None)  # prefetched on the document page
    return latest is not None and not latest.success


def _cancel_pending(document: Document, user: User | None, reason: str, *, channel: str | None = None) -> None:
    pending = FeedingOrder.objects.select_for_update(of=("self",)).filter(
        document=document, purpose=Purpose.PUBLISH, state__in=[OrderState.SCHEDULED, OrderState.HELD]
    )
    if channel:
        pending = pending.filter(channel=channel)
    for order in pending:
        order.state, order.reason = OrderState.CANCELLED, reason
        order.save(update_fields=["state", "reason"])
        sync_exports(order)


# --- user actions during the delay -----------------------------------------------------------------


@transaction.atomic
def cancel_order(*, order: FeedingOrder, acting_user: User, request: HttpRequest | None = None) -> FeedingOrder:
    """Cancel during the delay (or while held); it can be released later."""
    order = _locked(order, acting_user)
    if order.state not in (OrderState.SCHEDULED, OrderState.HELD):
        state = order.get_state_display()
        raise ValidationError(_("Cet envoi ne peut plus être annulé (%(state)s).") % {"state": state})
    order.state, order.reason = OrderState.CANCELLED, _("Annulé par %(user)s") % {"user": acting_user.display_name}
    order.save(update_fields=["state", "reason"])
    sync_exports(order)
    audit_order(order, acting_user, AuditEvent.Change.FEEDING_CANCELLED, request)
    return order


@transaction.atomic
def release_order(*, order: FeedingOrder, acting_user: User, request: HttpRequest | None = None) -> FeedingOrder:
    """Release a held, cancelled, refused or failed order (or one the DMP refused): it is sent now, re-checked."""
    order = _locked(order, acting_user)
    if order.state not in RESTARTABLE and not refused_by_recipient(order):
        raise ValidationError(_("Cet envoi n'est ni bloqué, ni annulé, ni en échec."))
    previous = order.state
    if order.document.hold_sending:  # the hold was for this sending: later versions follow the usual path
        Document.objects.filter(pk=order.document_id).update(hold_sending=False)
    _reschedule(order)
    audit_order(order, acting_user, AuditEvent.Change.FEEDING_RELEASED, request, previous_state=previous)
    return order


def _locked(order: FeedingOrder, user: User) -> FeedingOrder:
    locked = FeedingOrder.objects.select_for_update(of=("self",)).select_related("document").get(pk=order.pk)
    require_access(user, locked.document.patient)
    return locked


def check_sendable(user: User, document: Document) -> None:
    """The user may open the file, and the document is one the DPI produced and validated."""
    require_access(user, document.patient)
    if document.status != Status.VALIDATED or document.provenance != Provenance.PRODUCED:
        raise ValidationError(_("Seul un document validé produit dans le DPI peut être envoyé."))


def enqueue(order: FeedingOrder) -> None:
    """Ask the worker to run the order when due; the beat sweep catches anything this misses."""
    if order.state != OrderState.SCHEDULED:
        return
    from dmp.tasks import run_feeding_order

    countdown = max((order.due_at - timezone.now()).total_seconds(), 0)
    transaction.on_commit(lambda: run_feeding_order.apply_async((order.pk,), countdown=countdown))


def audit_order(
    order: FeedingOrder, user: User | None, change: AuditEvent.Change, request: HttpRequest | None, **detail: object
) -> None:
    audit(
        action=AuditEvent.Action.DOCUMENT_CHANGE,
        actor=user,
        request=request,
        obj=order.document,
        patient_id=order.document.patient_id,
        change=change,
        detail={"order": order.pk, "channel": order.channel, **detail},
    )
