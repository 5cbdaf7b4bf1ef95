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

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from django.db import connection
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, OuterRef, Q, QuerySet

from dmp.mdm import PATIENT_MAIL_DOMAIN
from dmp.models import BusinessAck, FeedingChannel, FeedingOrder, OrderState, Purpose
from patients.models import Episode, IdentityStatus
from stats.indicators.common import (
    CONSULTATION_REPORT,
    DOCUMENT_FINESS,
    HOSPITAL_KINDS,
    LETTER,
    OPERATIVE_REPORT,
    PARIS,
    PRESCRIPTION,
    SEGUR_CODES,
    Period,
    Row,
    as_month,
    closed_visits,
    produced_segur_documents,
    stay_documents,
)

Event = BusinessAck.Event
PATIENT_ADDRESS = Q(recipient__endswith="@" + PATIENT_MAIL_DOMAIN)


@dataclass(frozen=True)
class Route:
    prefix: str  # of the indicator codes
    channel: str
    events: tuple[str, ...]
    recipients: Q  # which business acks speak for this route
    addressed: Q  # which failed orders were addressed to this route
    recipients_sql: str  # the same two, in SQL over the ack ``a`` and the order ``o``
    addressed_sql: str


PATIENT_LIKE = f"'%%@{PATIENT_MAIL_DOMAIN}'"
DMP = Route("DMP", FeedingChannel.DMP, (Event.Z01,), Q(), Q(), "TRUE", "TRUE")
MSS_PRO = Route(
    "MSS_PRO", FeedingChannel.MSS, (Event.Z02, Event.Z03), ~PATIENT_ADDRESS, ~Q(mss_recipients=[]),
    f"a.recipient NOT LIKE {PATIENT_LIKE}", "o.mss_recipients <> '[]'::jsonb",
)  # fmt: skip
MSS_PATIENT = Route(
    "MSS_PATIENT", FeedingChannel.MSS, (Event.Z02, Event.Z03), PATIENT_ADDRESS, Q(mss_patient=True),
    f"a.recipient LIKE {PATIENT_LIKE}", "o.mss_patient",
)  # fmt: skip
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


def reached(route: Route) -> Exists:
    """The document of the outer query has a successful order on the route."""
    return Exists(orders(route).filter(succeeded(route)))


# One pass over the route's orders and their business acks, grouped by document: the first success,
# the last flow failure, and whether a success came from a historical order; then counted per FINESS,
# type, qualified INS and Paris month of the outcome. In SQL rather than the ORM: Django cannot aggregate
# an aggregate, and per-document subqueries are evaluated again in each clause that names them.
OUTCOMES = """
WITH outcome AS (
    SELECT o.document_id,
        min(coalesce(o.sent_at, o.due_at)) FILTER (WHERE o.state = 'sent' AND a.success) AS ok_at,
        max(coalesce(o.sent_at, o.due_at)) FILTER (WHERE o.kind <> 'historical' AND (
            (o.state = 'failed' AND {addressed}) OR (o.state = 'sent' AND NOT a.success))) AS ko_at,
        coalesce(bool_or(o.kind = 'historical') FILTER (WHERE o.state = 'sent' AND a.success), FALSE) AS historical
    FROM {orders} o LEFT JOIN {acks} a ON a.order_id = o.id AND a.event = ANY(%s) AND {recipients}
    WHERE o.channel = %s AND o.purpose = 'publish'
    GROUP BY o.document_id
)
SELECT d.finess, d.type_code, d.qualified,
    date_trunc('month', coalesce(ok_at, ko_at) AT TIME ZONE %s)::date AS month,
    count(*) FILTER (WHERE ok_at IS NOT NULL AND NOT historical),
    count(*) FILTER (WHERE ok_at IS NULL),
    count(*) FILTER (WHERE ok_at IS NOT NULL AND historical)
FROM outcome JOIN ({documents}) d ON d.pk = outcome.document_id
WHERE coalesce(ok_at, ko_at) >= %s AND coalesce(ok_at, ko_at) < %s
GROUP BY 1, 2, 3, 4
"""


def _documents() -> tuple[str, tuple[object, ...]]:
    """The produced Ségur documents with their FINESS and whether the patient's INS is qualified."""
    qualified = Q(patient__identity_status=IdentityStatus.QUALIFIEE) & ~Q(patient__ins="")
    documents = produced_segur_documents().annotate(
        finess=DOCUMENT_FINESS, qualified=ExpressionWrapper(qualified, output_field=BooleanField())
    )
    return documents.values("pk", "finess", "type_code", "qualified").order_by().query.sql_with_params()


def sending_rows(route: Route, period: Period) -> Iterator[Row]:
    """``<prefix>_OK``, ``<prefix>_KO`` (flow: automatic and manual orders), ``DMP_HISTO_OK``, and for
    professionals the same for patients with a qualified INS (``MSS_PRO_INS_*``)."""
    documents, document_params = _documents()
    statement = OUTCOMES.format(
        orders=FeedingOrder._meta.db_table, acks=BusinessAck._meta.db_table, documents=documents,
        addressed=route.addressed_sql, recipients=route.recipients_sql,
    )  # fmt: skip
    params = [list(route.events), route.channel, str(PARIS), *document_params, period.since, period.until]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        fetched = cursor.fetchall()
    totals: dict[tuple[str, str, str, date], int] = defaultdict(int)
    for finess, type_code, qualified, month, ok, ko, historical_ok in fetched:
        counted = {f"{route.prefix}_OK": ok, f"{route.prefix}_KO": ko}
        if route is DMP:
            counted["DMP_HISTO_OK"] = historical_ok
        if route is MSS_PRO and qualified:
            counted |= {"MSS_PRO_INS_OK": ok, "MSS_PRO_INS_KO": ko}
        for code, number in counted.items():
            totals[code, finess, type_code, month] += number
    for (code, finess, type_code, month), number in totals.items():
        yield Row(code, finess, month, number, type_code=type_code)


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
    yield from stay_rate_rows(period)
