"""The "Traces de l'INS" page of a patient and its CSV export (REM INS/va1.39, INS/va1.46)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dpi.csvexport import csv_response
from dpi.models import AuditEvent
from dpi.services import audit
from patients.access import Reads, patient_view
from patients.ins_traces import EXPORT_HEADER, event_kind, event_label, export_rows, ins_events, ins_transmissions
from patients.views import file_context

PAGE_SIZE = 25


def _page(rows: object, request: HttpRequest, parameter: str) -> Page:
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get(parameter))


@login_required
@require_GET
@patient_view()  # the reading is audited by the door, and traced as an INS display (patients/ins_traces.py)
def ins_traces(request: HttpRequest, pk: int) -> HttpResponse:
    patient = request.patient_target
    events = _page(ins_events(patient), request, "affichages")
    for event in events:
        event.kind, event.label = event_kind(event), event_label(event)
    context = file_context(request, patient, request.patient_access) | {
        "events": events,
        "transmissions": _page(ins_transmissions(patient), request, "transmissions"),
    }
    return render(request, "patients/ins_traces.html", context)


@login_required
@require_GET
@patient_view(reads=Reads.SERVICE, always=True)  # the trace.export row below is the reading's row
def ins_traces_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """Every display, export and transmission of the patient's INS, not only the pages shown."""
    patient = request.patient_target
    events = list(ins_events(patient))
    transmissions = ins_transmissions(patient)
    filename = f"traces-ins-{patient.pk}.csv"
    audit(
        action=AuditEvent.Action.TRACE_EXPORT,
        request=request,
        obj=patient,
        patient_id=patient.pk,
        detail={"file": filename, "rows": len(events) + len(transmissions), "view": "patients:ins_traces_csv",
                "path": request.path},
    )  # fmt: skip
    return csv_response(EXPORT_HEADER, export_rows(events, transmissions), filename)
