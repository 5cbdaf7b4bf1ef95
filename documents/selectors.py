"""Read queries on documents: the one-line-per-document list of a patient file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Prefetch, QuerySet
from django.db.models.functions import Length
from django.utils import timezone

from documents.models import Document, DocumentVersion, ExportStatus

SORTS = {
    "date": ("-act_date", "-pk"),
    "date_asc": ("act_date", "pk"),
    "type": ("type_label", "-act_date", "-pk"),
}
LIST_FIELDS = (
    "id", "patient_id", "type_code", "type_label", "title", "act_date", "created_at", "provenance", "status",
    "author_name", "author_role", "author_organization", "finess_eg", "hold_sending", "set_id",
    "current_version__id", "current_version__version_number",
)  # fmt: skip


@dataclass(frozen=True)
class DocumentFilters:
    sort: str = "date"
    type_code: str = ""
    provenance: str = ""
    start: date | None = None
    end: date | None = None


def patient_documents(patient_id: int, filters: DocumentFilters) -> QuerySet[Document]:
    """One row per document (never one per format: the PDF and the CDA are the same document),
    without loading the CDA or PDF bytes."""
    documents = (
        Document.objects.filter(patient_id=patient_id)
        .select_related("current_version")
        .only(*LIST_FIELDS)
        .prefetch_related(
            Prefetch("exports", queryset=ExportStatus.objects.order_by("channel", "recipient")), "feeding_orders"
        )
    )
    if filters.type_code:
        documents = documents.filter(type_code=filters.type_code)
    if filters.provenance:
        documents = documents.filter(provenance=filters.provenance)
    if filters.start:
        documents = documents.filter(act_date__gte=_day_start(filters.start))
    if filters.end:
        documents = documents.filter(act_date__lt=_day_start(filters.end + timedelta(days=1)))
    return documents.order_by(*SORTS.get(filters.sort, SORTS["date"]))


def _day_start(day: date) -> datetime:
    """Midnight in Paris: bounds on the stored time itself, so the (patient, act_date) index serves."""
    return timezone.make_aware(datetime.combine(day, time.min))


def document_types(patient_id: int) -> list[tuple[str, str]]:
    """The types present in the patient's file, for the filter."""
    rows = Document.objects.filter(patient_id=patient_id).order_by().values_list("type_code", "type_label").distinct()
    return sorted(set(rows), key=lambda row: row[1])


def versions_of(document: Document) -> QuerySet[DocumentVersion]:
    """Every version, newest first, without their bytes (``has_cda``, ``has_pdf``, ``has_stylesheet``: their
    sizes; a received file that is not a CDA has no CDA)."""
    return (
        document.versions.defer("cda", "pdf", "stylesheet")
        .annotate(has_cda=Length("cda"), has_pdf=Length("pdf"), has_stylesheet=Length("stylesheet"))
        .select_related("validated_by")
    )
