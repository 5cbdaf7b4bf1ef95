"""CSV exports (audit trail, MSSanté traces): streamed, ``;`` for French spreadsheets, formula-safe.

A cell that starts like a spreadsheet formula (``=``, ``+``, ``-``, ``@``, tab, CR) is prefixed with
a quote: a login typed by anyone, or a mail subject, must not become a live formula in the file the
DPO opens.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence

from django.http import StreamingHttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    def write(self, value: str) -> str:
        return value


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_response(header: Sequence[str], rows: Iterable[Sequence[object]], filename: str) -> StreamingHttpResponse:
    """A streamed CSV download: ``header`` then ``rows``, each cell made safe."""
    writer = csv.writer(_Echo(), delimiter=";")
    lines = (writer.writerow([safe_cell(cell) for cell in row]) for row in _with_header(header, rows))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _with_header(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterable[Sequence[object]]:
    yield header
    yield from rows
