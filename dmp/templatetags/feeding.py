"""The export column of a document line and the sending history of a document page."""

from __future__ import annotations

from django import template

from dmp.models import FeedingChannel, OrderState, Purpose
from dmp.selectors.feeding import last_sent, latest_orders, orders_of
from dmp.services.feeding import WITHDRAWAL_REASONS, refused_by_recipient
from documents.models import Document, Provenance, Status

register = template.Library()

WAITING = {OrderState.SCHEDULED, OrderState.SENDING}


@register.inclusion_tag("dmp/_feeding.html")
def feeding(document: Document) -> dict:
    return feeding_context(document)


def feeding_context(document: Document, error: str = "") -> dict:
    orders = latest_orders(document)
    exports = list(document.exports.all())
    in_flight = any(order.state in WAITING for order in orders) or any(e.state == "sent" for e in exports)
    return {"document": document, "orders": orders, "exports": exports, "poll": in_flight, "error": error}


@register.inclusion_tag("dmp/_history.html")
def feeding_history(document: Document) -> dict:
    sendable = document.status == Status.VALIDATED and document.provenance == Provenance.PRODUCED
    orders = orders_of(document)
    busy = {order.channel for order in orders if order.state in WAITING | {OrderState.HELD}}
    channels = [FeedingChannel.DMP]
    if document.mss_recipients or document.mss_to_patient:
        channels.append(FeedingChannel.MSS)
    on_dmp = last_sent(document, FeedingChannel.DMP)
    return {
        "document": document,
        "orders": orders,
        "send_channels": [c for c in channels if sendable and c not in busy and not _fed(orders, c)],
        "withdrawable": on_dmp is not None
        and on_dmp.purpose == Purpose.PUBLISH
        and not any(o.purpose == Purpose.DELETE and o.state in WAITING | {OrderState.SENT} for o in orders),
        "reasons": [(reason.value, reason.label) for reason in WITHDRAWAL_REASONS],
    }


def _fed(orders: list, channel: str) -> bool:
    """Successfully fed: the current version's publication was accepted and not refused by its recipient."""
    return any(
        o.channel == channel
        and o.purpose == Purpose.PUBLISH
        and o.state == OrderState.SENT
        and not refused_by_recipient(o)
        for o in orders
    )
