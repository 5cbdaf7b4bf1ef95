"""Documents received by MSSanté (``mss.models.Trace``), per FINESS of the receiving unit, type and month.

* ``MSS_RECU_AUTO_OK``: CDA documents integrated automatically on the PFI's request (trace
  ``integrated``, or ``replaced`` for a new version of a document already there);
* ``MSS_RECU_AUTO_KO``: received CDA documents the DPI refused (trace ``refused``: unknown patient,
  identity mismatch, invalid document); the type is empty when no document was created;
* ``MSS_RECU_MANUEL_CDA``: CDA documents a user integrated by hand from an IHE_XDM archive (``imported``).

Non-CDA documents cannot be integrated by hand yet: that indicator is not produced (docs/statistics.md).
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, Value
from django.db.models.functions import Coalesce, NullIf

from mss.models import Trace
from stats.indicators.common import Period, Row, as_month, in_period, month_of

Event = Trace.Event
CODES = {
    Event.INTEGRATED: "MSS_RECU_AUTO_OK",
    Event.REPLACED: "MSS_RECU_AUTO_OK",
    Event.REFUSED: "MSS_RECU_AUTO_KO",
    Event.IMPORTED: "MSS_RECU_MANUEL_CDA",
}


def rows(period: Period) -> Iterator[Row]:
    counts = (
        Trace.objects.filter(in_period("at", period), event__in=CODES)
        .values_list(
            "event", Coalesce("care_unit__site__finess_eg", NullIf("document__finess_eg", Value("")), Value("")),
            Coalesce("document__type_code", Value("")), month_of("at"),
        )
        .annotate(documents=Count("pk"))
        .order_by()
    )  # fmt: skip
    totals: dict[tuple[str, str, str, object], int] = {}
    for event, finess, type_code, month, documents in counts:
        key = (CODES[event], finess, type_code, as_month(month))
        totals[key] = totals.get(key, 0) + documents
    for (code, finess, type_code, month), documents in totals.items():
        yield Row(code, finess, month, documents, type_code=type_code)
