"""Rates of closed visits whose document of a type reached the DMP, a professional or the patient by
MSSanté, over the visits NB 3 names for that type; and the rate of patients sent one by MSSanté.

A document *reached* a route when one of its orders succeeded there (docs/statistics.md: the PFI's AA
and a positive business ack of the route), at any time up to the computation: its outcome row
(:mod:`stats.services`) has a first success on that route. One statement: the validated documents'
outcomes folded per visit and type, joined to the closed visits of the period crossed with the four types
and filtered by each type's eligibility.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db import connection

from patients.models import Episode
from stats.indicators.common import (
    CONSULTATION_REPORT,
    HOSPITAL_KINDS,
    LETTER,
    OPERATIVE_REPORT,
    PRESCRIPTION,
    SEGUR_CODES,
    Period,
    Row,
    as_month,
    closed_visits,
    named_sql,
)
from stats.models import DocumentOutcome

ROUTES = ("DMP", "MSS_PRO", "MSS_PATIENT")
STATEMENT = """
WITH per_visit AS (
    SELECT episode_id, type_code, bool_or(dmp_ok_at IS NOT NULL) AS dmp, bool_or(pro_ok_at IS NOT NULL) AS pro,
        bool_or(patient_ok_at IS NOT NULL) AS patient
    FROM {outcomes}
    WHERE validated
    GROUP BY 1, 2
)
SELECT v.finess, v.month, t.type_code, count(*),
    count(*) FILTER (WHERE s.dmp), count(*) FILTER (WHERE s.pro), count(*) FILTER (WHERE s.patient),
    count(DISTINCT v.patient_id), count(DISTINCT v.patient_id) FILTER (WHERE s.patient)
FROM visits v CROSS JOIN unnest(%(types)s::text[]) AS t(type_code)
    LEFT JOIN per_visit s ON s.episode_id = v.pk AND s.type_code = t.type_code
WHERE (t.type_code = %(letter)s AND v.kind = ANY(%(hospital)s))
    OR (t.type_code = %(operative)s AND v.kind = ANY(%(hospital)s) AND v.surgical)
    OR (t.type_code = %(prescription)s AND v.kind = ANY(%(hospital)s) AND s.episode_id IS NOT NULL)
    OR (t.type_code = %(consultation)s AND v.kind = %(outpatient)s AND s.episode_id IS NOT NULL)
GROUP BY 1, 2, 3
"""


def rows(period: Period) -> Iterator[Row]:
    """``<route>_SEJOURS_TAUX`` per type and ``MSS_PATIENT_PATIENTS_TAUX``."""
    visits = closed_visits(period).values("pk", "finess", "month", "kind", "surgical", "patient_id").order_by()
    visits_sql, named = named_sql(visits, "visit")
    params = {
        "types": list(SEGUR_CODES), "letter": LETTER,
        "operative": OPERATIVE_REPORT, "prescription": PRESCRIPTION, "consultation": CONSULTATION_REPORT,
        "hospital": list(HOSPITAL_KINDS), "outpatient": Episode.Kind.OUTPATIENT,
    }  # fmt: skip
    statement = STATEMENT.format(outcomes=DocumentOutcome._meta.db_table)
    statement = statement.replace("WITH per_visit AS", f"WITH visits AS MATERIALIZED ({visits_sql}), per_visit AS", 1)
    with connection.cursor() as cursor:
        cursor.execute(statement, params | named)
        fetched = cursor.fetchall()
    for finess, month, type_code, visits_count, *reached, patients, patients_sent in fetched:
        common = {"finess": finess, "month": as_month(month), "type_code": type_code}
        for route, numerator in zip(ROUTES, reached, strict=True):
            yield Row(f"{route}_SEJOURS_TAUX", numerator=numerator, denominator=visits_count, **common)
        yield Row("MSS_PATIENT_PATIENTS_TAUX", numerator=patients_sent, denominator=patients, **common)
