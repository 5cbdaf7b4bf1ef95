"""MSSanté sendings a user asks for after validation (issue 13 §3).

* **Later, to chosen recipients (MSS/va1.23):** a validated document this DPI produced is sent again, now,
  to recipients the user chooses (correspondents, other addresses, the patient). The CDA is not changed: the
  sending list is technical (hl7v2-interfaces §3); a new MSSanté order of kind *additional* carries it.
* **Deletion told to the recipients (SC.MSS/UX.38):** when a produced document that was mailed is deleted,
  the user may have its MSSanté recipients told: an MDM^T04 of the version last mailed, to the recipients of
  that sending. Never for a document the DPI did not produce (it has no sending).

A correction needs nothing here: the new version goes, as a T10 "annule et remplace", to the recipients
checked on the writing page, which start with those of the previous version.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from dmp.models import FeedingChannel, FeedingOrder, OrderKind, OrderState, Purpose
from dmp.selectors.feeding import last_sent
from dmp.services.feeding import audit_order, check_sendable, enqueue, order_deletion, order_fields, sync_exports
from documents.models import Document, Provenance
from documents.recipients import sending_addresses
from documents.services import Recipients
from dpi.models import AuditEvent, User


@transaction.atomic
def send_to_recipients(
    *, document: Document, recipients: Recipients, acting_user: User, request: HttpRequest | None = None
) -> FeedingOrder:
    """Send the current version now to the chosen recipients, whatever was sent before."""
    check_sendable(acting_user, document)
    addresses = sending_addresses(recipients.professionals, recipients.correspondents)
    if not addresses and not recipients.patient:
        raise ValidationError(_("Choisissez au moins un destinataire ayant une adresse MSSanté."))
    order = FeedingOrder.objects.create(
        version=document.current_version,
        channel=FeedingChannel.MSS,
        purpose=Purpose.PUBLISH,
        mss_recipients=addresses,
        mss_patient=recipients.patient,
        mss_patient_may_reply=recipients.patient and recipients.patient_may_reply,
        **order_fields(document, OrderKind.ADDITIONAL, acting_user, timezone.now(), OrderState.SCHEDULED),
    )
    sync_exports(order)
    enqueue(order)
    audit_order(
        order,
        acting_user,
        AuditEvent.Change.MSS_SENT_BY_HAND,
        request,
        recipients=addresses,
        patient=recipients.patient,
    )
    return order


def mailed_recipients(document: Document) -> FeedingOrder | None:
    """The MSSanté sending a deletion would be told to: the last one the PFI accepted, if a publication."""
    if document.provenance != Provenance.PRODUCED:
        return None
    sent = last_sent(document, FeedingChannel.MSS)
    return sent if sent is not None and sent.purpose == Purpose.PUBLISH else None


def on_document_deleted(
    *, document: Document, acting_user: User | None, notify_mss: bool = False, **signal: object
) -> FeedingOrder | None:
    """Receiver of :data:`documents.signals.document_deleted`: what waits is cancelled and the DMP copy
    withdrawn (:func:`~dmp.services.feeding.order_deletion`), then the MSSanté recipients are told if the user
    asked to (``notify_mss``)."""
    order = order_deletion(document=document, acting_user=acting_user)
    if notify_mss:
        notify_deletion(document=document, acting_user=acting_user)
    return order


def notify_deletion(*, document: Document, acting_user: User | None) -> FeedingOrder | None:
    """An MDM^T04 to the recipients of the last MSSanté sending (inside the deletion's transaction)."""
    sent = mailed_recipients(document)
    if sent is None:
        return None
    order = FeedingOrder.objects.create(
        version=sent.version,
        channel=FeedingChannel.MSS,
        purpose=Purpose.DELETE,
        mss_recipients=list(sent.mss_recipients),
        mss_patient=sent.mss_patient,
        mss_patient_may_reply=sent.mss_patient_may_reply,
        **order_fields(document, OrderKind.MANUAL, acting_user, timezone.now(), OrderState.SCHEDULED),
    )
    sync_exports(order)
    enqueue(order)
    return order
