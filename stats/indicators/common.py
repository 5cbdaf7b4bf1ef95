"""What every family of indicators shares: the period, the row, the Ségur types, the closed stays.

Months are calendar months in Europe/Paris (an event at 23:30 UTC on 31 July is in August), whatever
the server's or the session's time zone.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.db.models import Case, F, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce, NullIf, TruncMonth

from documents.models import Document, Provenance
from documents.types import SEGUR_TYPES
from patients.models import Episode

PARIS = ZoneInfo("Europe/Paris")

LETTER, OPERATIVE_REPORT, PRESCRIPTION, CONSULTATION_REPORT = "11490-0", "34874-8", "57833-6", "11488-4"
SEGUR_CODES = tuple(SEGUR_TYPES)
HOSPITAL_KINDS = (Episode.Kind.INPATIENT, Episode.Kind.AMBULATORY)


@dataclass(frozen=True)
class Period:
    """``[since, until)``, both aware; ``since`` is the first instant of a Paris month or day."""

    since: datetime
    until: datetime

    @classmethod
    def from_dates(cls, first: date, last: date) -> Period:
        """From ``first`` to ``last`` included, in Paris days."""
        since = datetime(first.year, first.month, first.day, tzinfo=PARIS)
        end = date.fromordinal(last.toordinal() + 1)
        return cls(since, datetime(end.year, end.month, end.day, tzinfo=PARIS))

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        after = (year + month // 12, month % 12 + 1)
        return cls(datetime(year, month, 1, tzinfo=PARIS), datetime(*after, 1, tzinfo=PARIS))

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(datetime(year, 1, 1, tzinfo=PARIS), datetime(year + 1, 1, 1, tzinfo=PARIS))

    def months(self) -> Iterator[Period]:
        """The period cut at Paris month boundaries (the first and last pieces may be partial)."""
        start = self.since.astimezone(PARIS)
        while start < self.until:
            whole = Period.month(start.year, start.month)
            yield Period(max(start, whole.since), min(whole.until, self.until))
            start = whole.until


@dataclass(frozen=True)
class Row:
    """One figure: an indicator for a FINESS géographique, a document type (or profession) and a month."""

    code: str
    finess: str
    month: date
    numerator: int
    denominator: int | None = None  # None: a count, not a rate
    type_code: str = ""
    profession: str = ""

    @property
    def value(self) -> Decimal | None:
        if self.denominator is None:
            return Decimal(self.numerator)
        if not self.denominator:
            return None
        return (Decimal(self.numerator) / Decimal(self.denominator)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def month_of(expression: object) -> TruncMonth:
    return TruncMonth(expression, tzinfo=PARIS)


def as_month(value: datetime) -> date:
    """The first day of the Paris month TruncMonth returned."""
    return value.astimezone(PARIS).date()


def in_period(field: str, period: Period) -> Q:
    return Q(**{f"{field}__gte": period.since, f"{field}__lt": period.until})


def document_finess(path: str = "") -> Coalesce:
    """The FINESS of a document (reached by ``path``, e.g. ``"order__document__"``): its own (set when
    produced or received), else its unit's, else its stay's."""
    return Coalesce(
        NullIf(f"{path}finess_eg", Value("")),
        f"{path}care_unit__site__finess_eg",
        f"{path}episode__care_unit__site__finess_eg",
        Value(""),
    )


DOCUMENT_FINESS = document_finess()


def produced_segur_documents() -> QuerySet[Document]:
    """Documents of the Ségur list written in the DPI (the ones fed to the DMP and mailed)."""
    return Document.objects.filter(provenance=Provenance.PRODUCED, type_code__in=SEGUR_CODES)


# When a visit counts as closed: its discharge; a consultation with no discharge recorded, its date.
CLOSED_AT = Case(
    When(kind=Episode.Kind.OUTPATIENT, then=Coalesce("discharged_at", "admitted_at")), default=F("discharged_at")
)


def closed_visits(period: Period) -> QuerySet[Episode]:
    """Visits (not cancelled, not pre-admissions) closed during the period, with their FINESS and month."""
    return (
        Episode.objects.filter(cancelled=False, pre_admission=False)
        .annotate(closed_at=CLOSED_AT)
        .filter(in_period("closed_at", period))
        .annotate(finess=F("care_unit__site__finess_eg"), month=month_of("closed_at"))
    )


def named_sql(queryset: QuerySet, prefix: str) -> tuple[str, dict[str, object]]:
    """The queryset's SQL with named parameters ``%(<prefix>_<n>)s``, to inline it in a statement of our own
    (a CTE) whose other parameters are named too."""
    sql, params = queryset.query.sql_with_params()
    named = {f"{prefix}_{n}": value for n, value in enumerate(params)}
    return sql % tuple(f"%({name})s" for name in named), named
