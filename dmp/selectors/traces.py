"""Read queries of the DMP transaction traces (SC.DMP/CONF.14-15): a period and a patient, and the
rows of their CSV extract."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from dmp.models import DmpTransaction

EXPORT_HEADER = ("date", "transaction", "detail", "utilisateur", "identifiant_national", "profession", "specialite",
                 "finess_eg", "unite", "patient_ipp", "ins", "documents", "nombre_documents", "resultat",
                 "code_erreur", "erreur", "duree_ms")  # fmt: skip


def day_start(day: date) -> datetime:
    """Midnight of ``day`` in the establishment's time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def transactions(
    *, since: date | None = None, until: date | None = None, patient_id: int | None = None, ins: str = ""
) -> QuerySet[DmpTransaction]:
    """The traces of a period (both days included, local time) and, if named, of one patient (by its
    file, or by the INS the transaction was made with), oldest first."""
    queryset = DmpTransaction.objects.all()
    if since is not None:
        queryset = queryset.filter(at__gte=day_start(since))
    if until is not None:
        queryset = queryset.filter(at__lt=day_start(until + timedelta(days=1)))
    if patient_id is not None:
        queryset = queryset.filter(patient_id=patient_id)
    if ins:
        queryset = queryset.filter(ins=ins)
    return queryset.order_by("at", "pk")


def export_rows(traces: QuerySet[DmpTransaction]) -> Iterator[list[object]]:
    """One CSV line per trace (header :data:`EXPORT_HEADER`), read a chunk at a time."""
    for trace in traces.select_related("patient", "care_unit").iterator(chunk_size=2000):
        yield [
            timezone.localtime(trace.at).isoformat(), trace.kind, trace.detail, trace.user_name, trace.national_id,
            trace.profession, trace.specialty, trace.finess_eg, trace.care_unit.code if trace.care_unit else "",
            trace.patient.ipp if trace.patient else "", trace.ins, " ".join(trace.documents), trace.document_count,
            trace.outcome, trace.error_code, trace.error_text, trace.duration_ms,
        ]  # fmt: skip
