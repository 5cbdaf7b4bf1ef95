"""Every save of a produced document, of a feeding order or of a business ack marks the document's
outcome stale (``stats.services``), in the same transaction as the save."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from dmp.models import BusinessAck, FeedingOrder
from documents.models import Document, Provenance
from stats.services import mark_order_stale, mark_stale


@receiver(post_save, sender=Document, dispatch_uid="stats-document-saved")
@receiver(post_delete, sender=Document, dispatch_uid="stats-document-deleted")
def document_changed(sender: type, instance: Document, **kwargs: object) -> None:
    if instance.provenance == Provenance.PRODUCED:
        mark_stale([instance.pk])


@receiver(post_save, sender=FeedingOrder, dispatch_uid="stats-order-saved")
def order_saved(sender: type, instance: FeedingOrder, **kwargs: object) -> None:
    mark_stale([instance.document_id])


@receiver(post_save, sender=BusinessAck, dispatch_uid="stats-ack-saved")
def ack_saved(sender: type, instance: BusinessAck, **kwargs: object) -> None:
    mark_order_stale(instance.order_id)
