"""Patient information on the use of the DMP, and opposition, over closed visits.

The state of a visit is its *effective* state, as :mod:`consent.selectors` decides it: the latest
decision recorded (by collection time) on any visit of its episode of care, or on the visit alone when it
has none, whether it came from the DPI's screen, a PAM message or the API (NB 1). Both subjects are
counted: feeding (``ALIM``) and consultation (``CONSULT``).

One statement: the latest decision per visit and per episode of care and subject (``DISTINCT ON``, same
order as the selectors: collection time, then recording time, then id, latest first), hash-joined to the
closed visits, counted per FINESS, month and family (hospital stays, consultations) for both subjects.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db import connection

from consent.models import ConsentDecision, State, Subject
from patients.models import Episode
from stats.indicators.common import HOSPITAL_KINDS, Period, Row, as_month, closed_visits, named_sql

SUBJECTS = {"ALIM": Subject.FEEDING, "CONSULT": Subject.CONSULTATION}
FAMILIES = ("SEJOURS", "CONSULTATIONS")
ORDER = "collected_at DESC, recorded_at DESC, id DESC"
STATEMENT = """
WITH visits AS MATERIALIZED ({visits}),
own AS (
    SELECT DISTINCT ON (episode_id, subject) episode_id, subject, state
    FROM {decisions} ORDER BY episode_id, subject, {order}
),
shared AS (
    SELECT DISTINCT ON (e.care_episode_id, d.subject) e.care_episode_id, d.subject, d.state
    FROM {decisions} d JOIN {episodes} e ON e.id = d.episode_id
    WHERE e.care_episode_id IS NOT NULL
    ORDER BY e.care_episode_id, d.subject, d.{order_d}
),
effective AS (
    SELECT v.finess, v.month, v.kind = %(outpatient)s AS consultation,
        CASE WHEN v.care_episode_id IS NULL THEN own_f.state ELSE shared_f.state END AS feeding,
        CASE WHEN v.care_episode_id IS NULL THEN own_c.state ELSE shared_c.state END AS consulting
    FROM visits v
        LEFT JOIN own own_f ON own_f.episode_id = v.pk AND own_f.subject = %(feeding)s
        LEFT JOIN own own_c ON own_c.episode_id = v.pk AND own_c.subject = %(consulting)s
        LEFT JOIN shared shared_f ON shared_f.care_episode_id = v.care_episode_id AND shared_f.subject = %(feeding)s
        LEFT JOIN shared shared_c ON shared_c.care_episode_id = v.care_episode_id AND shared_c.subject = %(consulting)s
    WHERE v.kind = ANY(%(kinds)s)
)
SELECT finess, month, consultation, count(*),
    count(*) FILTER (WHERE feeding = %(not_opposed)s), count(*) FILTER (WHERE feeding = %(opposed)s),
    count(*) FILTER (WHERE consulting = %(not_opposed)s), count(*) FILTER (WHERE consulting = %(opposed)s)
FROM effective
GROUP BY 1, 2, 3
"""


def rows(period: Period) -> Iterator[Row]:
    """``INFO_<subject>_<visits>_NON_OPPOSE`` and ``..._OPPOSE``: informed and not opposed (or opposed)
    over all the visits of the family closed in the month."""
    visits = closed_visits(period).values("pk", "finess", "month", "kind", "care_episode_id").order_by()
    visits_sql, named = named_sql(visits, "visit")
    statement = STATEMENT.format(
        visits=visits_sql, decisions=ConsentDecision._meta.db_table, episodes=Episode._meta.db_table,
        order=ORDER, order_d=ORDER.replace(", ", ", d."),
    )  # fmt: skip
    params = {
        "outpatient": Episode.Kind.OUTPATIENT, "kinds": [*HOSPITAL_KINDS, Episode.Kind.OUTPATIENT],
        "feeding": Subject.FEEDING, "consulting": Subject.CONSULTATION,
        "not_opposed": State.INFORMED_NOT_OPPOSED, "opposed": State.INFORMED_OPPOSED,
    }  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(statement, params | named)
        fetched = cursor.fetchall()
    for finess, month, consultation, total, *answers in fetched:
        family = FAMILIES[consultation]
        for label, (not_opposed, opposed) in zip(SUBJECTS, (answers[:2], answers[2:]), strict=True):
            code = f"INFO_{label}_{family}"
            yield Row(f"{code}_NON_OPPOSE", finess, as_month(month), not_opposed, total)
            yield Row(f"{code}_OPPOSE", finess, as_month(month), opposed, total)
