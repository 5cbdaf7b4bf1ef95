"""The export column of a document line and the sending history of a document page."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _

from dmp.models import BusinessAck, FeedingChannel, FeedingOrder, OrderState, Purpose
from dmp.selectors.feeding import latest_orders, orders_of
from dmp.services.feeding import WITHDRAWAL_REASONS, refused_by_recipient
from dmp.services.sending import mailed_recipients
from documents.models import Channel, Document, ExportState, ExportStatus, Provenance, Status

register = template.Library()

WAITING = {OrderState.SCHEDULED, OrderState.SENDING}

# What the user can do about a sending that did not go through, beside its reason.
RETRY_WHEN_SOLVED = _("Une fois la cause levée, cliquez sur « Réessayer ».")
RETRY_THEN_SUPPORT = _(
    "Cliquez sur « Réessayer » ; si l'échec se répète, prévenez le support informatique en citant ce motif."
)
DMP_REJECTED = _(
    "Le DMP n'a pas accepté ce document : corrigez le document (« Corriger (nouvelle version) ») ou "
    "renvoyez-le (« Envoyer maintenant » sur sa page) ; si le refus se répète, prévenez le support "
    "informatique en citant ce motif."
)
MAIL_UNDELIVERED = _(
    "Message non distribué : vérifiez l'adresse MSSanté du destinataire, puis renvoyez le document "
    "(« Envoyer maintenant » sur sa page)."
)
# A business acknowledgement that says no is a refusal, never a "receipt".
REFUSALS = {
    BusinessAck.Event.Z01: _("document refusé par le DMP"),
    BusinessAck.Event.Z02: _("message MSSanté non distribué"),
    BusinessAck.Event.Z03: _("lecture MSSanté non confirmée"),
}


@register.simple_tag
def mailed_recipients_count(document: Document) -> int:
    """How many MSSanté recipients a deletion of this document would be told to (SC.MSS/UX.38); 0: none."""
    sent = mailed_recipients(document)
    return len(sent.mss_recipients) + int(sent.mss_patient) if sent else 0


@register.inclusion_tag("dmp/_feeding.html")
def feeding(document: Document) -> dict:
    return feeding_context(document)


def feeding_context(document: Document, error: str = "") -> dict:
    orders = latest_orders(document)
    exports = list(document.exports.all())
    in_flight = any(order.state in WAITING for order in orders) or any(e.state == "sent" for e in exports)
    sent = {order.channel for order in orders if order.state == OrderState.SENT}
    lines = [(export, _export_step(export, sent)) for export in exports]
    return {"document": document, "orders": orders, "exports": lines, "poll": in_flight, "error": error}


def _export_step(export: ExportStatus, sent_channels: set[str]) -> str:
    """A failed line whose order the PFI accepted was refused by its recipient (the DMP, a mail server)."""
    if export.state != ExportState.FAILED:
        return ""
    if export.channel == Channel.DMP:
        return str(DMP_REJECTED) if FeedingChannel.DMP in sent_channels else ""
    return str(MAIL_UNDELIVERED) if FeedingChannel.MSS in sent_channels else ""


@register.filter
def next_step(order: FeedingOrder) -> str:
    """What to do about an order the checks refused or that failed (the PFI's error, or unreachable)."""
    if order.state == OrderState.REFUSED:
        return str(RETRY_WHEN_SOLVED)
    if order.state == OrderState.FAILED:
        return str(RETRY_THEN_SUPPORT)
    return ""


@register.filter
def ack_words(ack: BusinessAck) -> str:
    """The business acknowledgement in words: a receipt or a read, or the refusal it is."""
    return ack.get_event_display() if ack.success else str(REFUSALS.get(ack.event, _("refus")))


@register.inclusion_tag("dmp/_history.html")
def feeding_history(document: Document) -> dict:
    sendable = document.status == Status.VALIDATED and document.provenance == Provenance.PRODUCED
    orders = orders_of(document)
    busy = {order.channel for order in orders if order.state in WAITING | {OrderState.HELD}}
    channels = [FeedingChannel.DMP]
    if document.mss_recipients or document.mss_to_patient:
        channels.append(FeedingChannel.MSS)
    return {
        "document": document,
        "orders": orders,
        "send_channels": [c for c in channels if sendable and c not in busy and not _fed(orders, c)],
        "withdrawable": _held_by_dmp(orders)
        and not any(o.purpose == Purpose.DELETE and o.state in WAITING | {OrderState.SENT} for o in orders),
        "reasons": [(reason.value, reason.label) for reason in WITHDRAWAL_REASONS],
    }


def _held_by_dmp(orders: list[FeedingOrder]) -> bool:
    """Whether the DMP holds a version of the document: its latest accepted DMP order is a publication the DMP
    did not reject (a rejected replacement leaves the version before it in the DMP)."""
    accepted = [
        o
        for o in orders
        if o.channel == FeedingChannel.DMP
        and o.state == OrderState.SENT
        and not (o.purpose == Purpose.PUBLISH and refused_by_recipient(o))
    ]
    latest = max(accepted, key=lambda o: (o.sent_at is not None, o.sent_at, o.pk), default=None)
    return latest is not None and latest.purpose == Purpose.PUBLISH


def _fed(orders: list, channel: str) -> bool:
    """Successfully fed: the current version's publication was accepted and not refused by its recipient."""
    return any(
        o.channel == channel
        and o.purpose == Purpose.PUBLISH
        and o.state == OrderState.SENT
        and not refused_by_recipient(o)
        for o in orders
    )
