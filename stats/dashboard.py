"""The dashboard's figures: the indicators of a period narrowed to a site and a type, as a table (one line
per indicator and type, one column per month) and as charts (one per family, months on the x axis).

Across sites and professions, counts add up and rates are recomputed from the summed numerators and
denominators (the sites' visits are disjoint), never averaged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from documents.types import SEGUR_TYPES
from stats.indicators import CATALOGUE, Period, Row
from stats.indicators.common import as_month

# (title, Chart.js type, [(code, legend)]): a rate chart shows percentages.
CHARTS = (
    ("Alimentation du DMP (documents)", "bar",
     [("DMP_OK", "réussis"), ("DMP_KO", "en échec"), ("DMP_HISTO_OK", "historiques réussis")]),
    ("MSSanté vers les correspondants (documents)", "bar", [("MSS_PRO_OK", "réussis"), ("MSS_PRO_KO", "en échec")]),
    ("MSSanté vers le patient (documents)", "bar", [("MSS_PATIENT_OK", "réussis"), ("MSS_PATIENT_KO", "en échec")]),
    ("Envois avec INS qualifiée, par canal (documents)", "bar",
     [("DMP_OK", "DMP réussis"), ("DMP_KO", "DMP en échec"), ("MSS_PRO_INS_OK", "MSSanté pro réussis"),
      ("MSS_PRO_INS_KO", "MSSanté pro en échec"), ("MSS_PATIENT_INS_OK", "MSSanté patient réussis"),
      ("MSS_PATIENT_INS_KO", "MSSanté patient en échec")]),
    ("Séjours clôturés dont le document a été envoyé (%)", "line",
     [("DMP_SEJOURS_TAUX", "au DMP"), ("MSS_PRO_SEJOURS_TAUX", "aux correspondants"),
      ("MSS_PATIENT_SEJOURS_TAUX", "au patient")]),
    ("Séjours où le patient a été informé de l'alimentation du DMP (%)", "line",
     [("INFO_ALIM_SEJOURS_NON_OPPOSE", "non opposé"), ("INFO_ALIM_SEJOURS_OPPOSE", "opposé")]),
)  # fmt: skip


@dataclass
class Cell:
    numerator: int = 0
    denominator: int | None = None

    def add(self, row: Row) -> None:
        self.numerator += row.numerator
        if row.denominator is not None:
            self.denominator = (self.denominator or 0) + row.denominator

    @property
    def percent(self) -> Decimal | None:
        if not self.denominator:
            return None
        return (Decimal(100 * self.numerator) / self.denominator).quantize(Decimal("0.1"), ROUND_HALF_UP)

    @property
    def is_rate(self) -> bool:
        return self.denominator is not None


@dataclass
class Line:
    code: str
    label: str
    type_code: str
    type_label: str
    cells: list[Cell] = field(default_factory=list)


def select(rows: Iterable[Row], *, finess: str = "", type_code: str = "") -> list[Row]:
    """The rows of one site and one type (either may be empty: all); a type keeps only the figures split
    by type."""
    return [row for row in rows if finess in ("", row.finess) and type_code in ("", row.type_code)]


def months(period: Period) -> list[date]:
    return [as_month(piece.since) for piece in period.months()]


def _cells(rows: Iterable[Row]) -> dict[tuple[str, str], dict[date, Cell]]:
    cells: dict[tuple[str, str], dict[date, Cell]] = defaultdict(lambda: defaultdict(Cell))
    for row in rows:
        cells[row.code, row.type_code][row.month].add(row)
    return cells


def table(rows: list[Row], period: Period) -> list[Line]:
    """One line per indicator and type (in the catalogue's order), one cell per month of the period."""
    columns = months(period)
    order = {code: position for position, code in enumerate(CATALOGUE)}
    lines = []
    for (code, type_code), per_month in sorted(_cells(rows).items(), key=lambda i: (order[i[0][0]], i[0][1])):
        segur = SEGUR_TYPES.get(type_code)
        empty = 0 if any(cell.is_rate for cell in per_month.values()) else None  # a rate without visits: "–"
        cells = [per_month.get(month, Cell(denominator=empty)) for month in columns]
        lines.append(Line(code, CATALOGUE[code], type_code, segur.label if segur else type_code, cells))
    return lines


def _plotted(cell: Cell, kind: str) -> float | int | None:
    if kind != "line":
        return cell.numerator
    return None if cell.percent is None else float(cell.percent)


def charts(rows: list[Row], period: Period) -> list[dict[str, object]]:
    """Chart.js data of each family: all the types and sites selected together, per month."""
    columns = months(period)
    per_code: dict[str, dict[date, Cell]] = defaultdict(lambda: defaultdict(Cell))
    for row in rows:  # all types together
        per_code[row.code][row.month].add(row)
    drawn = []
    for number, (title, kind, series) in enumerate(CHARTS):
        datasets = []
        for code, legend in series:
            cells = [per_code[code].get(month, Cell()) for month in columns]
            datasets.append({"label": legend, "data": [_plotted(cell, kind) for cell in cells]})
        labels = [f"{month:%m/%Y}" for month in columns]
        drawn.append({"id": f"chart-{number}", "title": title, "type": kind, "labels": labels, "datasets": datasets})
    return drawn
