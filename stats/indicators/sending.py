"""Documents sent through the PFI: DMP feeding, MSSanté to professionals, MSSanté to the patient.

Success and failure are read from what came back, never from the fact of sending:

* an order **succeeded** on a route when the PFI took it (ACK AA: state ``sent``) and a positive
  business ack of that route came back (ZAM Z01 for the DMP; Z02 or Z03 for a mail, from a professional's
  address or from the patient's);
* an order **failed** when the PFI refused it or could not be reached (state ``failed``), or when the
  PFI took it but the route's business acks are all negative (DMP rejection, undelivered mail).

The unit is the **document**: all its versions and retries together. A document with a success counts
once as a success, in the month of its first success, whatever failed before; a document with no
success but a failure counts once as a failure, in the month of its last failure. The moment of an
order is its ``sent_at`` (ACK AA), else its ``due_at`` (its last attempt). Orders refused by the DPI's
own checks (opposition, INS not qualified...) never left: neither success nor failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Count, Exists, Max, Min, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from dmp.mdm import PATIENT_MAIL_DOMAIN
from dmp.models import BusinessAck, FeedingChannel, FeedingOrder, OrderKind, OrderState, Purpose
from patients.models import Episode, IdentityStatus
from stats.indicators.common import (
    CONSULTATION_REPORT,
    DOCUMENT_FINESS,
    HOSPITAL_KINDS,
    LETTER,
    OPERATIVE_REPORT,
    PRESCRIPTION,
    SEGUR_CODES,
    Period,
    Row,
    as_month,
    closed_visits,
    in_period,
    month_of,
    produced_segur_documents,
    stay_documents,
)

Event = BusinessAck.Event
PATIENT_ADDRESS = Q(recipient__endswith="@" + PATIENT_MAIL_DOMAIN)
ORDER_AT = Coalesce("sent_at", "due_at")


@dataclass(frozen=True)
class Route:
    prefix: str  # of the indicator codes
    channel: str
    events: tuple[str, ...]
    recipients: Q  # which business acks speak for this route
    addressed: Q  # which failed orders were addressed to this route


DMP = Route("DMP", FeedingChannel.DMP, (Event.Z01,), Q(), Q())
MSS_PRO = Route("MSS_PRO", FeedingChannel.MSS, (Event.Z02, Event.Z03), ~PATIENT_ADDRESS, ~Q(mss_recipients=[]))
MSS_PATIENT = Route("MSS_PATIENT", FeedingChannel.MSS, (Event.Z02, Event.Z03), PATIENT_ADDRESS, Q(mss_patient=True))
ROUTES = (DMP, MSS_PRO, MSS_PATIENT)


def _acks(route: Route, *, success: bool) -> Exists:
    return Exists(
        BusinessAck.objects.filter(order=OuterRef("pk"), event__in=route.events, success=success).filter(
            route.recipients
        )
    )


def succeeded(route: Route) -> Q:
    return Q(state=OrderState.SENT) & _acks(route, success=True)


def failed(route: Route) -> Q:
    refused_after_sending = Q(state=OrderState.SENT) & _acks(route, success=False) & ~_acks(route, success=True)
    return (route.addressed & Q(state=OrderState.FAILED)) | refused_after_sending


def orders(route: Route) -> QuerySet[FeedingOrder]:
    """The publication orders of the route's channel for the document of the outer query."""
    return FeedingOrder.objects.filter(document=OuterRef("pk"), channel=route.channel, purpose=Purpose.PUBLISH)


def _moment(route: Route, condition: Q, aggregate: type[Min] | type[Max]) -> Subquery:
    return Subquery(
        orders(route).filter(condition).values("document").annotate(at=aggregate(ORDER_AT)).values("at")[:1]
    )


def reached(route: Route) -> Exists:
    """The document of the outer query has a successful order on the route."""
    return Exists(orders(route).filter(succeeded(route)))


def sending_rows(route: Route, period: Period, *, qualified_ins: bool = False) -> Iterator[Row]:
    """``<prefix>_OK``, ``<prefix>_KO`` (flow: automatic and manual orders) and ``<prefix>_HISTO_OK``."""
    documents = produced_segur_documents()
    suffix = ""
    if qualified_ins:
        documents = documents.filter(patient__identity_status=IdentityStatus.QUALIFIEE).exclude(patient__ins="")
        suffix = "_INS"
    flow_failure = failed(route) & ~Q(kind=OrderKind.HISTORICAL)
    rows = (
        documents.annotate(
            ok_at=_moment(route, succeeded(route), Min),
            ko_at=_moment(route, flow_failure, Max),
            historical=Exists(orders(route).filter(succeeded(route), kind=OrderKind.HISTORICAL)),
        )
        .annotate(at=Coalesce("ok_at", "ko_at"))
        .filter(in_period("at", period))
        .values_list(DOCUMENT_FINESS, "type_code", month_of("at"))
        .annotate(
            ok=Count("pk", filter=Q(ok_at__isnull=False, historical=False)),
            ko=Count("pk", filter=Q(ok_at__isnull=True)),
            historical_ok=Count("pk", filter=Q(ok_at__isnull=False, historical=True)),
        )
        .order_by()
    )
    for finess, type_code, month, ok, ko, historical_ok in rows:
        common = {"finess": finess, "month": as_month(month), "type_code": type_code}
        yield Row(f"{route.prefix}{suffix}_OK", numerator=ok, **common)
        yield Row(f"{route.prefix}{suffix}_KO", numerator=ko, **common)
        if route is DMP:
            yield Row("DMP_HISTO_OK", numerator=historical_ok, **common)


# NB 3: the stays each type's rate is computed over.
def eligible_stays(type_code: str) -> Q:
    hospital = Q(kind__in=HOSPITAL_KINDS)
    return {
        LETTER: hospital,
        OPERATIVE_REPORT: hospital & Q(surgical=True),
        PRESCRIPTION: hospital & Exists(stay_documents(PRESCRIPTION)),
        CONSULTATION_REPORT: Q(kind=Episode.Kind.OUTPATIENT) & Exists(stay_documents(CONSULTATION_REPORT)),
    }[type_code]


def stay_rate_rows(period: Period) -> Iterator[Row]:
    """``<prefix>_SEJOURS_TAUX`` per type, and ``MSS_PATIENT_PATIENTS_TAUX``: the eligible visits (NB 3)
    closed in the month, and those with a document of the type that reached the route (at any time)."""
    for type_code in SEGUR_CODES:
        sent = {route.prefix: Exists(stay_documents(type_code).filter(reached(route))) for route in ROUTES}
        rows = (
            closed_visits(period)
            .filter(eligible_stays(type_code))
            .values_list("finess", "month")
            .annotate(
                stays=Count("pk"),
                patients=Count("patient", distinct=True),
                patients_sent=Count("patient", distinct=True, filter=Q(sent["MSS_PATIENT"])),
                **{prefix: Count("pk", filter=Q(condition)) for prefix, condition in sent.items()},
            )
            .order_by()
        )
        for finess, month, stays, patients, patients_sent, *per_route in rows:
            common = {"finess": finess, "month": as_month(month), "type_code": type_code}
            for route, numerator in zip(ROUTES, per_route, strict=True):
                yield Row(f"{route.prefix}_SEJOURS_TAUX", numerator=numerator, denominator=stays, **common)
            yield Row("MSS_PATIENT_PATIENTS_TAUX", numerator=patients_sent, denominator=patients, **common)


def rows(period: Period) -> Iterator[Row]:
    for route in ROUTES:
        yield from sending_rows(route, period)
    yield from sending_rows(MSS_PRO, period, qualified_ins=True)
    yield from stay_rate_rows(period)
