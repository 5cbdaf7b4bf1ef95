"""The indicators as one long CSV: one line per indicator, FINESS, type (or profession) and month.

``;``-separated with a decimal comma, as French spreadsheets expect; UTF-8 **with** a byte order mark,
because Excel reads a CSV without one in the Windows code page and garbles every accent (LibreOffice
and ``encoding="utf-8-sig"`` readers skip it). Cells are made formula-safe by :mod:`dpi.csvexport`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from documents.types import SEGUR_TYPES
from stats.indicators import CATALOGUE, Row

BOM = "\ufeff"
HEADER = (
    "indicateur",
    "libelle",
    "finess_geographique",
    "type_document",
    "libelle_type",
    "profession",
    "mois",
    "numerateur",
    "denominateur",
    "valeur",
)


def header() -> Sequence[str]:
    """The header row, the byte order mark before its first cell."""
    return (BOM + HEADER[0], *HEADER[1:])


def _number(value: object) -> str:
    return "" if value is None else str(value).replace(".", ",")


def csv_rows(rows: Iterable[Row]) -> Iterator[Sequence[object]]:
    for row in rows:
        segur = SEGUR_TYPES.get(row.type_code)
        yield (
            row.code,
            CATALOGUE[row.code],
            row.finess,
            row.type_code,
            segur.label if segur else "",
            row.profession,
            f"{row.month:%Y-%m}",
            row.numerator,
            _number(row.denominator),
            _number(row.value),
        )
