"""DMP consultation: users who consulted, per profession; documents integrated and downloaded; the share
of closed stays and of consultations where a user integrated a DMP document.

The facts are the DMP consultation's own statistics selectors (:mod:`dmp.selectors.statistics`),
called per Paris month; only the rates per visit are computed here.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, Exists, OuterRef, Q

from dmp.selectors import statistics
from documents.models import Document
from patients.models import Episode
from stats.indicators.common import HOSPITAL_KINDS, Period, Row, as_month, closed_visits, month_of


def user_rows(period: Period) -> Iterator[Row]:
    """``DMP_CONSULT_UTILISATEURS``: users with a successful consultation transaction, over the active
    users of their profession at the FINESS."""
    for month in period.months():
        first_day = as_month(month.since)
        for usage in statistics.users_per_profession(since=month.since, until=month.until):
            yield Row("DMP_CONSULT_UTILISATEURS", usage.finess_eg, first_day, usage.users, usage.total_users,
                      profession=usage.profession)  # fmt: skip


def integrated_rows(period: Period) -> Iterator[Row]:
    """``DMP_INTEGRES``: documents integrated from the DMP, per type, in the month of their integration."""
    rows = (
        statistics.integrated_documents(since=period.since, until=period.until)
        .values_list("finess_eg", "type_code", month_of("dmp_link__integrated_at"))
        .annotate(documents=Count("pk"))
        .order_by()
    )
    for finess, type_code, month, documents in rows:
        yield Row("DMP_INTEGRES", finess, as_month(month), documents, type_code=type_code)


def downloaded_rows(period: Period) -> Iterator[Row]:
    """``DMP_TELECHARGES``: documents retrieved from the DMP (successful TD3.2), all types together (the
    transaction does not say the types)."""
    for month in period.months():
        for finess, documents in statistics.downloaded_per_finess(since=month.since, until=month.until).items():
            yield Row("DMP_TELECHARGES", finess, as_month(month.since), documents or 0)


def integration_rate_rows(period: Period) -> Iterator[Row]:
    """``DMP_INTEGRATION_SEJOURS_TAUX`` and ``DMP_INTEGRATION_CONSULTATIONS_TAUX``: closed visits where
    a document was integrated from the DMP (into that visit, at any time); any type (empty type column)
    and per type integrated."""
    integrated = Document.objects.filter(dmp_link__isnull=False, episode=OuterRef("pk"))
    families = (("SEJOURS", Q(kind__in=HOSPITAL_KINDS)), ("CONSULTATIONS", Q(kind=Episode.Kind.OUTPATIENT)))
    for family, kinds in families:
        code = f"DMP_INTEGRATION_{family}_TAUX"
        visits = closed_visits(period).filter(kinds)
        totals = visits.values_list("finess", "month").annotate(
            visits=Count("pk"), with_integration=Count("pk", filter=Q(Exists(integrated)))
        )
        denominators = {}
        for finess, month, total, with_integration in totals.order_by():
            denominators[finess, month] = total
            yield Row(code, finess, as_month(month), with_integration, total)
        per_type = (
            visits.filter(documents__dmp_link__isnull=False)
            .values_list("finess", "month", "documents__type_code")
            .annotate(with_integration=Count("pk", distinct=True))
            .order_by()
        )
        for finess, month, type_code, with_integration in per_type:
            yield Row(code, finess, as_month(month), with_integration, denominators[finess, month],
                      type_code=type_code)  # fmt: skip


def rows(period: Period) -> Iterator[Row]:
    yield from user_rows(period)
    yield from integrated_rows(period)
    yield from downloaded_rows(period)
    yield from integration_rate_rows(period)
