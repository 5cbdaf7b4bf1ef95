"""Read queries on feeding orders: delays, what is due, what a document's line shows, historical candidates."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from dmp.models import FeedingChannel, FeedingDelay, FeedingOrder, OrderState, Purpose
from documents.models import Document, Provenance, Status
from dpi.models import CareUnit
from patients.models import IdentityStatus, Patient
from patients.selectors import current_episode

HISTORY_YEARS = 5


def feeding_delay(type_code: str, care_unit: CareUnit | None) -> timedelta:
    """The most specific rule: type and unit, then type, then unit, then ``DMP_FEEDING_DELAY_MINUTES``."""
    unit_id = care_unit.pk if care_unit else None
    rules = FeedingDelay.objects.filter(
        Q(type_code__in=[type_code, ""]) & (Q(care_unit_id=unit_id) | Q(care_unit__isnull=True))
    )
    best = sorted(rules, key=lambda rule: (rule.type_code == "", rule.care_unit_id is None))
    minutes = best[0].delay_minutes if best else settings.DMP_FEEDING_DELAY_MINUTES
    return timedelta(minutes=minutes)


def due_order_ids(limit: int = 500) -> list[int]:
    """Scheduled orders whose time has come, and sends whose worker vanished (lease expired)."""
    now = timezone.now()
    claimable = Q(state=OrderState.SCHEDULED, due_at__lte=now) | Q(state=OrderState.SENDING, lease_until__lt=now)
    return list(FeedingOrder.objects.filter(claimable).order_by("due_at", "pk").values_list("pk", flat=True)[:limit])


def last_sent(document: Document, channel: str) -> FeedingOrder | None:
    """The latest order of ``document`` the PFI accepted on ``channel`` (publication or deletion)."""
    return (
        FeedingOrder.objects.filter(document=document, channel=channel, state=OrderState.SENT)
        .select_related("version")
        .order_by("-sent_at", "-pk")
        .first()
    )


def orders_of(document: Document) -> list[FeedingOrder]:
    """Every order of a document, newest first, for its detail page."""
    return list(
        document.feeding_orders.select_related("version", "created_by").prefetch_related("acks").order_by("-pk")
    )


def historical_candidates(patient: Patient) -> QuerySet[Document]:
    """Documents of earlier episodes never sent to the DMP, created before today, within the last five years.

    Empty unless the patient's INS is qualified (the DMP needs it).
    """
    if patient.identity_status != IdentityStatus.QUALIFIEE or not patient.ins:
        return Document.objects.none()
    today = timezone.localdate()
    start = timezone.now() - timedelta(days=365 * HISTORY_YEARS + 1)
    fed = FeedingOrder.objects.filter(
        document=OuterRef("pk"), channel=FeedingChannel.DMP, purpose=Purpose.PUBLISH, state=OrderState.SENT
    )
    pending = FeedingOrder.objects.filter(
        document=OuterRef("pk"),
        channel=FeedingChannel.DMP,
        state__in=[OrderState.SCHEDULED, OrderState.SENDING, OrderState.HELD],
    )
    documents = Document.objects.filter(
        patient=patient,
        provenance=Provenance.PRODUCED,
        status=Status.VALIDATED,
        created_at__date__lt=today,
        created_at__gte=start,
    ).exclude(Exists(fed) | Exists(pending))
    episode = current_episode(patient)
    if episode is not None:  # "earlier episodes": not the current visit nor its episode of care
        documents = documents.exclude(episode=episode)
        if episode.care_episode_id:
            documents = documents.exclude(episode__care_episode_id=episode.care_episode_id)
    return documents.select_related("episode").order_by("-act_date")


def latest_orders(document: Document) -> list[FeedingOrder]:
    """The newest order of each channel (from the prefetched ``feeding_orders`` when there are)."""
    latest: dict[str, FeedingOrder] = {}
    for order in sorted(document.feeding_orders.all(), key=lambda order: order.pk):
        latest[order.channel] = order
    return [latest[channel] for channel in FeedingChannel.values if channel in latest]
