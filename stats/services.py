"""Keeping ``DocumentOutcome`` equal to the operational tables: mark stale, refresh, rebuild.

The outcome of a document on a route (docs/statistics.md, "Success and failure of a sending") is read
from its publish orders and their business acks, all versions and retries together:

* ``<route>_ok_at``: the moment of its first success (the PFI took the order, state ``sent``, and a
  positive business ack of the route came back);
* ``<route>_ko_at``: the moment of its last failure outside historical orders (the PFI refused the order
  or could not be reached, state ``failed``, when it was addressed to the route; or it was sent and a
  business ack of the route says no);
* ``<route>_historical``: whether a successful order was a historical one.

The moment of an order is its ``sent_at`` (ACK AA), else its ``due_at`` (its last attempt).
One pass joins the orders with their acks and folds them per document for the three routes at once.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.db.models.expressions import RawSQL

from dmp.mdm import PATIENT_MAIL_DOMAIN
from dmp.models import BusinessAck, FeedingOrder
from documents.models import Document, Status
from stats.indicators.common import DOCUMENT_FINESS, PARIS, named_sql, produced_segur_documents
from stats.models import DocumentOutcome, StaleOutcome

# Which acks ``a`` speak for a route, and which failed orders ``o`` were addressed to it.
ROUTES = {
    "dmp": ("dmp", "a.event = 'Z01'", "TRUE"),
    "pro": ("mss", "a.event IN ('Z02', 'Z03') AND a.recipient NOT LIKE %(patient_like)s", "o.mss_recipients <> '[]'"),
    "patient": ("mss", "a.event IN ('Z02', 'Z03') AND a.recipient LIKE %(patient_like)s", "o.mss_patient"),
}
LOCK = 14_0001  # one refresh or rebuild at a time (pg_advisory_xact_lock)


def _route_columns(route: str) -> str:
    channel, ack, addressed = ROUTES[route]
    ok = f"o.channel = '{channel}' AND o.state = 'sent' AND {ack} AND a.success"
    ko = (
        f"o.channel = '{channel}' AND o.kind <> 'historical' AND ((o.state = 'failed' AND {addressed}) "
        f"OR (o.state = 'sent' AND {ack} AND NOT a.success))"
    )
    return (
        f"min(coalesce(o.sent_at, o.due_at)) FILTER (WHERE {ok}) AS {route}_ok_at, "
        f"max(coalesce(o.sent_at, o.due_at)) FILTER (WHERE {ko}) AS {route}_ko_at, "
        f"coalesce(bool_or(o.kind = 'historical') FILTER (WHERE {ok}), FALSE) AS {route}_historical"
    )


ROUTE_FIELDS = [f"{route}_{what}" for route in ROUTES for what in ("ok_at", "ko_at", "historical", "month")]
OUTCOMES = """
INSERT INTO {outcome} (document_id, episode_id, patient_id, finess, type_code, validated, {route_fields})
SELECT d.id, d.episode_id, d.patient_id, d.finess, d.type_code, d.validated, {route_values}
FROM ({documents}) d LEFT JOIN (
    SELECT o.document_id, {route_columns}
    FROM {orders} o LEFT JOIN {acks} a ON a.order_id = o.id
    WHERE o.purpose = 'publish' {orders_filter}
    GROUP BY o.document_id
) s ON s.document_id = d.id
"""
TAKEN = "stats_taken"  # the stale documents this refresh took (a temporary table, dropped at commit)
TAKEN_IDS = "SELECT document_id FROM stats_taken"


def _documents(stale_only: bool) -> QuerySet[Document]:
    documents = produced_segur_documents()
    if stale_only:
        documents = documents.filter(pk__in=RawSQL(TAKEN_IDS, ()))  # noqa: S611
    validated = ExpressionWrapper(Q(status__in=[Status.VALIDATED, Status.REPLACED]), output_field=BooleanField())
    return (
        documents.annotate(finess=DOCUMENT_FINESS, validated=validated)
        .values("id", "episode_id", "patient_id", "finess", "type_code", "validated")
        .order_by()
    )


def _route_value(name: str) -> str:
    """The outcome column ``name`` from the orders' fold ``s``; a month is the Paris month of the success,
    else of the failure (grouped on as a plain column: the planner knows it has few values)."""
    if name.endswith("historical"):
        return f"coalesce(s.{name}, FALSE)"
    if name.endswith("month"):
        route = name.removesuffix("_month")
        return f"date_trunc('month', coalesce(s.{route}_ok_at, s.{route}_ko_at) AT TIME ZONE %(zone)s)::date"
    return f"s.{name}"


def _insert_outcomes(*, stale_only: bool) -> int:
    """Compute the outcome rows of every produced Ségur document, or of the taken ones only."""
    documents, named = named_sql(_documents(stale_only), "document")
    values = ", ".join(_route_value(name) for name in ROUTE_FIELDS)
    statement = OUTCOMES.format(
        outcome=DocumentOutcome._meta.db_table, orders=FeedingOrder._meta.db_table, acks=BusinessAck._meta.db_table,
        route_fields=", ".join(ROUTE_FIELDS), route_values=values,
        route_columns=", ".join(_route_columns(route) for route in ROUTES),
        documents=documents,
        orders_filter="AND o.document_id IN (" + TAKEN_IDS + ")" if stale_only else "",
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(statement, named | {"patient_like": f"%@{PATIENT_MAIL_DOMAIN}", "zone": str(PARIS)})
        return cursor.rowcount


def mark_stale(document_ids: Iterable[int]) -> None:
    """These documents' outcomes must be recomputed (called on every save of a document, order or ack)."""
    StaleOutcome.objects.bulk_create([StaleOutcome(document_id=pk) for pk in set(document_ids)], ignore_conflicts=True)


def mark_order_stale(order_id: int) -> None:
    """The document of this order (a business ack was recorded for it)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {StaleOutcome._meta.db_table} (document_id) "  # noqa: S608 (our table names)
            f"SELECT document_id FROM {FeedingOrder._meta.db_table} WHERE id = %s ON CONFLICT DO NOTHING",
            [order_id],
        )


@transaction.atomic
def refresh_outcomes() -> int:
    """Recompute the outcome rows of the stale documents (a deleted one loses its row); how many were stale."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK])
        cursor.execute(f"CREATE TEMPORARY TABLE {TAKEN} (document_id bigint PRIMARY KEY) ON COMMIT DROP")
        cursor.execute(
            f"WITH taken AS (DELETE FROM {StaleOutcome._meta.db_table} RETURNING document_id) "  # noqa: S608
            f"INSERT INTO {TAKEN} SELECT document_id FROM taken"
        )
        taken = cursor.rowcount
        if taken:
            cursor.execute(f"ANALYZE {TAKEN}")
            cursor.execute(f"DELETE FROM {DocumentOutcome._meta.db_table} WHERE document_id IN ({TAKEN_IDS})")  # noqa: S608
            _insert_outcomes(stale_only=True)
        cursor.execute(f"DROP TABLE {TAKEN}")  # now: the caller's transaction may go on (a test's, a request's)
    return taken


@transaction.atomic
def rebuild_outcomes() -> int:
    """Recompute every outcome row (after a bulk load that bypassed the model's saves); how many rows."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK])
        cursor.execute(f"DELETE FROM {StaleOutcome._meta.db_table}")  # noqa: S608
        cursor.execute(f"TRUNCATE {DocumentOutcome._meta.db_table}")
    rows = _insert_outcomes(stale_only=False)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {DocumentOutcome._meta.db_table}")
    return rows
