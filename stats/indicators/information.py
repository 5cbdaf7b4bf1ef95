"""Patient information on the use of the DMP, and opposition, over closed visits.

The state of a visit is its *effective* state, as :mod:`consent.selectors` decides it: the latest
decision recorded (by collection time) on any visit of its episode of care, whether it came from the
DPI's screen, a PAM message or the API (NB 1). Both subjects are counted: feeding (``ALIM``) and
consultation (``CONSULT``).
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Case, Count, OuterRef, Q, Subquery, When

from consent.models import ConsentDecision, State, Subject
from patients.models import Episode
from stats.indicators.common import HOSPITAL_KINDS, Period, Row, as_month, closed_visits

SUBJECTS = {"ALIM": Subject.FEEDING, "CONSULT": Subject.CONSULTATION}
FAMILIES = {"SEJOURS": Q(kind__in=HOSPITAL_KINDS), "CONSULTATIONS": Q(kind=Episode.Kind.OUTPATIENT)}


def effective_state(subject: str) -> Case:
    """The effective state of the visit of the outer query for ``subject`` (NULL: never recorded): the
    latest decision of its episode of care, or of the visit alone when it has none. Two subqueries rather
    than one with an OR, which no index serves."""
    order = ("-collected_at", "-recorded_at", "-pk")
    decisions = ConsentDecision.objects.filter(subject=subject).order_by(*order).values("state")
    own = Subquery(decisions.filter(episode=OuterRef("pk"))[:1])
    shared = Subquery(decisions.filter(episode__care_episode=OuterRef("care_episode"))[:1])
    return Case(When(care_episode__isnull=True, then=own), default=shared)


def rows(period: Period) -> Iterator[Row]:
    """``INFO_<subject>_<visits>_NON_OPPOSE`` and ``..._OPPOSE``: informed and not opposed (or opposed)
    over all the visits of the family closed in the month."""
    for family, kinds in FAMILIES.items():
        visits = closed_visits(period).filter(kinds)
        for label, subject in SUBJECTS.items():
            counts = (
                visits.annotate(state=effective_state(subject))
                .values_list("finess", "month")
                .annotate(
                    visits=Count("pk"),
                    not_opposed=Count("pk", filter=Q(state=State.INFORMED_NOT_OPPOSED)),
                    opposed=Count("pk", filter=Q(state=State.INFORMED_OPPOSED)),
                )
                .order_by()
            )
            for finess, month, total, not_opposed, opposed in counts:
                code = f"INFO_{label}_{family}"
                yield Row(f"{code}_NON_OPPOSE", finess, as_month(month), not_opposed, total)
                yield Row(f"{code}_OPPOSE", finess, as_month(month), opposed, total)
