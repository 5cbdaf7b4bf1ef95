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
from django.db.models import BooleanField, ExpressionWrapper, Q

from dmp.mdm import PATIENT_MAIL_DOMAIN
from dmp.models import BusinessAck, FeedingChannel, FeedingOrder
from patients.models import IdentityStatus
from stats.indicators.common import (
    DOCUMENT_FINESS,
    PARIS,
    Period,
    Row,
    produced_segur_documents,
)

Event = BusinessAck.Event


@dataclass(frozen=True)
class Route:
    prefix: str  # of the indicator codes
    channel: str
    events: tuple[str, ...]
    recipients_sql: str  # which business acks ``a`` speak for this route
    addressed_sql: str  # which failed orders ``o`` were addressed to this route


PATIENT_LIKE = f"'%%@{PATIENT_MAIL_DOMAIN}'"
DMP = Route("DMP", FeedingChannel.DMP, (Event.Z01,), "TRUE", "TRUE")
MSS_PRO = Route(
    "MSS_PRO", FeedingChannel.MSS, (Event.Z02, Event.Z03),
    f"a.recipient NOT LIKE {PATIENT_LIKE}", "o.mss_recipients <> '[]'::jsonb",
)  # fmt: skip
MSS_PATIENT = Route(
    "MSS_PATIENT", FeedingChannel.MSS, (Event.Z02, Event.Z03),
    f"a.recipient LIKE {PATIENT_LIKE}", "o.mss_patient",
)  # fmt: skip
ROUTES = (DMP, MSS_PRO, MSS_PATIENT)


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


def rows(period: Period) -> Iterator[Row]:
    for route in ROUTES:
        yield from sending_rows(route, period)
