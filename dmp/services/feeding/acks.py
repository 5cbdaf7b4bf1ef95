"""Business acknowledgements (ZAM) from the PFI and the export lines they move."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils.translation import gettext as _

from dmp import mdm
from dmp.models import (
    BusinessAck,
    FeedingChannel,
    FeedingOrder,
    OrderState,
    Purpose,
)
from dmp.selectors.feeding import last_sent
from dmp.services.feeding.exports import set_export
from documents.models import Channel, ExportState
from dpi.hl7.models import Message

logger = logging.getLogger(__name__)

# --- business acknowledgements -----------------------------------------------------------------------


@transaction.atomic
def record_business_ack(
    *, order: FeedingOrder, event: str, success: bool, recipient: str, error: str, event_at, message: Message
) -> BusinessAck:
    """A ZAM from the PFI: keep it, and move the document's export line for that channel and recipient.

    The order row is locked first, as the worker concluding the same order does, so both take
    their locks in the same order; a ZAM arriving before that conclusion is applied by it.
    """
    order = FeedingOrder.objects.select_for_update(of=("self",)).select_related("document").get(pk=order.pk)
    ack = BusinessAck.objects.create(
        order=order, event=event, success=success, recipient=recipient, error=error, event_at=event_at, message=message
    )
    if order.state == OrderState.SENT and _is_latest(order):
        apply_ack(order, ack)
    return ack


def apply_ack(order: FeedingOrder, ack: BusinessAck) -> None:
    channel, address = _export_key(order, ack.event, ack.recipient)
    if not ack.success:
        state, reason = ExportState.FAILED, ack.error or _("Refus sans motif")
    elif ack.event == BusinessAck.Event.Z03:
        state, reason = ExportState.READ, ""
    elif order.purpose == Purpose.DELETE:
        state, reason = ExportState.WITHDRAWN, ""
    else:
        state, reason = ExportState.ACKNOWLEDGED, ""
    set_export(order.document, channel, address, state, reason)


def _is_latest(order: FeedingOrder) -> bool:
    """Whether ``order`` is the one whose line is shown: a ZAM for an older version is only kept."""
    latest = last_sent(order.document, order.channel)
    return latest is None or latest.pk == order.pk


def _export_key(order: FeedingOrder, event: str, recipient: str) -> tuple[str, str]:
    if order.channel == FeedingChannel.DMP or event == BusinessAck.Event.Z01:
        return Channel.DMP, ""
    if recipient.endswith("@" + mdm.PATIENT_MAIL_DOMAIN):
        return Channel.MSS_PATIENT, recipient
    return Channel.MSS_PRO, recipient
