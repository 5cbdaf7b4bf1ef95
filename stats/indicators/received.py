"""Documents received by MSSanté (``mss.models.Trace``), per FINESS of the receiving unit, type and month.

* ``MSS_RECU_AUTO_OK``: CDA documents integrated automatically on the PFI's request (trace
  ``integrated``, or ``replaced`` for a new version of a document already there);
* ``MSS_RECU_AUTO_KO``: received CDA documents the DPI refused (trace ``refused``: unknown patient,
  identity mismatch, invalid document); the type is empty when no document was created;
* ``MSS_RECU_MANUEL_CDA``: CDA documents a user integrated by hand from an IHE_XDM archive (``imported``);
* ``MSS_RECU_MANUEL_NON_CDA``: files received by MSSanté that are not CDA documents (PDF), filed by hand
  (``documents.received_files``: a document of provenance MSSanté whose version has no CDA), per FINESS
  of the filing unit, type and month of filing.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, Value
from django.db.models.functions import Coalesce, NullIf

from documents.models import DocumentVersion, Provenance
from mss.models import Trace
from stats.indicators.common import Period, Row, as_month, document_finess, in_period, month_of

DOCUMENT_FINESS_OF_VERSION = document_finess("document__")

Event = Trace.Event
CODES = {
    Event.INTEGRATED: "MSS_RECU_AUTO_OK",
    Event.REPLACED: "MSS_RECU_AUTO_OK",
    Event.REFUSED: "MSS_RECU_AUTO_KO",
    Event.IMPORTED: "MSS_RECU_MANUEL_CDA",
}


NON_CDA = "MSS_RECU_MANUEL_NON_CDA"


def rows(period: Period) -> Iterator[Row]:
    yield from _traced(period)
    yield from _non_cda(period)


def _non_cda(period: Period) -> Iterator[Row]:
    filed = (
        DocumentVersion.objects.filter(
            in_period("validated_at", period), document__provenance=Provenance.MSS, cda=b"", version_number=1
        )
        .values_list(DOCUMENT_FINESS_OF_VERSION, "document__type_code", month_of("validated_at"))
        .annotate(documents=Count("pk"))
        .order_by()
    )
    for finess, type_code, month, documents in filed:
        yield Row(NON_CDA, finess, as_month(month), documents, type_code=type_code)


def _traced(period: Period) -> Iterator[Row]:
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
