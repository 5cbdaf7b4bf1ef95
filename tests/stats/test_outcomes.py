"""The per-document outcome table follows every save of a document, an order or an ack, so the figures
equal the operational tables without a rebuild; a rebuild gives the same rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dmp.models import BusinessAck, FeedingChannel, FeedingOrder, OrderKind, OrderState
from dmp.services.feeding import record_business_ack
from documents.models import DocumentVersion
from dpi.hl7.ack import new_control_id
from stats.indicators import Period, compute
from stats.indicators.common import LETTER
from stats.models import DocumentOutcome, StaleOutcome
from stats.services import rebuild_outcomes, refresh_outcomes
from tests.factories import CareUnitFactory, EpisodeFactory, SiteFactory
from tests.stats import facts
from tests.stats.test_indicators import generate

pytestmark = pytest.mark.django_db

FINESS = "750000011"
SENT_AT = datetime(2025, 6, 10, 9, tzinfo=UTC)


def dmp_counts() -> dict[str, int]:
    rows = compute(Period.year(2025))
    return {row.code: row.numerator for row in rows if row.code in ("DMP_OK", "DMP_KO") and row.numerator}


@pytest.fixture
def sent_order() -> FeedingOrder:
    """A letter whose DMP order the PFI took (AA), saved as the feeding code saves it, no ZAM yet."""
    episode = EpisodeFactory(care_unit=CareUnitFactory(site=SiteFactory(finess_eg=FINESS)),
                             admitted_at=datetime(2025, 6, 1, tzinfo=UTC), discharged_at=SENT_AT)  # fmt: skip
    document = facts.document(episode, LETTER, finess=FINESS)
    version = DocumentVersion.objects.create(document=document, version_number=1, cda_id_root="1.2.3")
    return FeedingOrder.objects.create(
        document=document, version=version, channel=FeedingChannel.DMP, kind=OrderKind.AUTOMATIC,
        state=OrderState.SENT, due_at=SENT_AT, sent_at=SENT_AT, control_id=new_control_id(),
    )  # fmt: skip


def zam(order: FeedingOrder, *, success: bool) -> BusinessAck:
    return record_business_ack(
        order=order, event=BusinessAck.Event.Z01, success=success, recipient="", error="" if success else "refus",
        event_at=None, message=facts.shared_message(),
    )  # fmt: skip


def test_a_business_ack_recorded_after_a_computation_counts_in_the_next_one(sent_order):
    assert dmp_counts() == {}  # sent, no ZAM yet: neither
    zam(sent_order, success=False)
    assert dmp_counts() == {"DMP_KO": 1}
    zam(sent_order, success=True)
    assert dmp_counts() == {"DMP_OK": 1}
    assert not StaleOutcome.objects.exists()


def test_an_order_put_back_in_the_queue_no_longer_counts_as_sent(sent_order):
    zam(sent_order, success=False)
    assert dmp_counts() == {"DMP_KO": 1}
    sent_order.state = OrderState.SCHEDULED  # the user released it (the DMP had refused it)
    sent_order.save()
    assert dmp_counts() == {}


def test_a_deleted_document_loses_its_outcome(sent_order):
    zam(sent_order, success=True)
    assert dmp_counts() == {"DMP_OK": 1}
    document = sent_order.document
    FeedingOrder.objects.filter(document=document).delete()
    DocumentVersion.objects.filter(document=document).delete()
    document.delete()
    assert dmp_counts() == {}
    assert not DocumentOutcome.objects.exists()


def test_a_rebuild_gives_the_rows_the_refreshes_kept():
    sites = [CareUnitFactory(site=SiteFactory(finess_eg=finess)) for finess in ("750000011", "690000022")]
    generate(sites)
    refresh_outcomes()
    refreshed = list(DocumentOutcome.objects.order_by("pk").values())
    assert refreshed
    assert rebuild_outcomes() == len(refreshed)
    assert list(DocumentOutcome.objects.order_by("pk").values()) == refreshed
    assert dmp_counts()["DMP_OK"] > 0
