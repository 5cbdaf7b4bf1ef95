"""Documents sent through the PFI: DMP feeding, MSSanté to professionals, MSSanté to the patient.

Success and failure are read from what came back, never from the fact of sending (the per-document
outcome of :mod:`stats.services`, kept equal to the orders and their business acks):

* an order **succeeded** on a route when the PFI took it (ACK AA: state ``sent``) and a positive
  business ack of that route came back (ZAM Z01 for the DMP; Z02 or Z03 for a mail, from a professional's
  address or from the patient's);
* an order **failed** when the PFI refused it or could not be reached (state ``failed``), or when the
  PFI took it but a business ack of the route says no (DMP rejection, undelivered mail).

The unit is the **document**: all its versions and retries together. A document with a success counts
once as a success, in the month of its first success, whatever failed before; a document with no
success but a failure counts once as a failure, in the month of its last failure. Orders refused by the
DPI's own checks (opposition, INS not qualified...) never left: neither success nor failure.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from django.db.models import BooleanField, Count, ExpressionWrapper, Q
from django.db.models.functions import Coalesce

from patients.models import IdentityStatus
from stats.indicators.common import Period, Row, in_period
from stats.models import DocumentOutcome


@dataclass(frozen=True)
class Route:
    prefix: str  # of the indicator codes
    field: str  # of DocumentOutcome: <field>_ok_at, <field>_ko_at, <field>_historical
    historical_code: str = ""  # the code of the historical successes, when the DSR asks for them
    by_ins: str = ""  # the prefix of the same counts for patients with a qualified INS


DMP = Route("DMP", "dmp", historical_code="DMP_HISTO_OK")
MSS_PRO = Route("MSS_PRO", "pro", by_ins="MSS_PRO_INS")
MSS_PATIENT = Route("MSS_PATIENT", "patient", by_ins="MSS_PATIENT_INS")
ROUTES = (DMP, MSS_PRO, MSS_PATIENT)
QUALIFIED = Q(patient__identity_status=IdentityStatus.QUALIFIEE) & ~Q(patient__ins="")


def _counts(route: Route, period: Period) -> Iterator[tuple]:
    """(finess, type, qualified, month, flow successes, failures, historical successes) per group."""
    ok, ko, historical, month = (f"{route.field}_{what}" for what in ("ok_at", "ko_at", "historical", "month"))
    success = Q(**{f"{ok}__isnull": False})
    groups = ["finess", "type_code"]
    outcomes = DocumentOutcome.objects.annotate(at=Coalesce(ok, ko)).filter(in_period("at", period))
    if route.by_ins:
        outcomes = outcomes.annotate(qualified=ExpressionWrapper(QUALIFIED, output_field=BooleanField()))
        groups.append("qualified")
    return (
        outcomes.values_list(*groups, month)
        .annotate(
            ok=Count("pk", filter=success & Q(**{historical: False})),
            ko=Count("pk", filter=~success),
            historical=Count("pk", filter=success & Q(**{historical: True})),
        )
        .order_by()
    )


def sending_rows(route: Route, period: Period) -> Iterator[Row]:
    """``<prefix>_OK``, ``<prefix>_KO`` (flow: automatic and manual orders), ``DMP_HISTO_OK``, and for
    MSSanté the same for patients with a qualified INS (``MSS_PRO_INS_*``, ``MSS_PATIENT_INS_*``, TBB/va1.01;
    the DMP is fed only for a qualified INS, the feeding refuses the others)."""
    totals: dict[tuple[str, str, str, date], int] = defaultdict(int)
    for finess, type_code, *qualified, month, ok, ko, historical_ok in _counts(route, period):
        counted = {f"{route.prefix}_OK": ok, f"{route.prefix}_KO": ko}
        if route.historical_code:
            counted[route.historical_code] = historical_ok
        if route.by_ins and qualified[0]:
            counted |= {f"{route.by_ins}_OK": ok, f"{route.by_ins}_KO": ko}
        for code, number in counted.items():
            totals[code, finess, type_code, month] += number
    for (code, finess, type_code, month), number in totals.items():
        yield Row(code, finess, month, number, type_code=type_code)


def rows(period: Period) -> Iterator[Row]:
    for route in ROUTES:
        yield from sending_rows(route, period)
