"""Rate of the hospital's correspondents with an MSSanté address who were sent a document of a type
(DSR 3.2.7, "Taux de correspondants de santé ayant un mail MSSanté à qui a été envoyé un [type de document]").

* **Denominator**: the active correspondents (:class:`directory.models.Correspondent`) with an MSSanté
  address, as they are at the computation; one figure for the hospital, the same on every line.
* **Numerator**, per FINESS géographique, type and Paris month: the distinct such correspondents whose
  address acknowledged receiving (ZAM Z02 or Z03 positive, the unit of success of docs/statistics.md) a
  document of that type sent by a publication order, in that month. A correspondent sent several
  documents of the type in the month counts once; in two months, once in each.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, Exists, OuterRef, QuerySet
from django.db.models.functions import Coalesce, Lower

from directory.models import Correspondent
from dmp.models import BusinessAck, FeedingChannel, Purpose
from stats.indicators.common import SEGUR_CODES, Period, Row, as_month, document_finess, in_period, month_of

CODE = "MSS_CORRESPONDANTS_TAUX"
MAIL_RECEIPTS = (BusinessAck.Event.Z02, BusinessAck.Event.Z03)


def _with_address() -> QuerySet[Correspondent]:
    return Correspondent.objects.filter(active=True).exclude(mss_address="")


def rows(period: Period) -> Iterator[Row]:
    denominator = _with_address().count()
    if not denominator:
        return
    known = _with_address().annotate(mailbox=Lower("mss_address")).filter(mailbox=OuterRef("mailbox"))
    receipts = (
        BusinessAck.objects.filter(
            success=True,
            event__in=MAIL_RECEIPTS,
            order__channel=FeedingChannel.MSS,
            order__purpose=Purpose.PUBLISH,
            order__document__type_code__in=SEGUR_CODES,
        )
        .annotate(mailbox=Lower("recipient"), at=Coalesce("event_at", "received_at"))
        .filter(Exists(known), in_period("at", period))
        .values_list(document_finess("order__document__"), "order__document__type_code", month_of("at"))
        .annotate(sent=Count("mailbox", distinct=True))
        .order_by()
    )
    for finess, type_code, month, sent in receipts:
        yield Row(CODE, finess, as_month(month), sent, denominator, type_code=type_code)
