"""The identity-vigilance work list (issue 15 §5): MSSanté documents refused for their identity (902-905) and
not handled yet, beside the possible duplicates (``patients.vigilance``). Open to the ``mss.identity_vigilance``
permission only; a refusal is audited. Served under ``/patients/identitovigilance/`` (``mss/vigilance_urls.py``)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from documents.cda import InvalidCda
from mss import vigilance
from mss.models import Trace
from mss.refusals import Refusal
from patients.access import audit_listed_patients
from patients.ins_traces import trace_ins_listed
from patients.vigilance import possible_duplicates, refuse


def _vigilance_only(request: HttpRequest, trace: Trace | None = None) -> None:
    if not vigilance.may_handle(request.user):
        refuse(request, "not_identity_vigilance", obj=trace, patient_id=trace.patient_id if trace else None)


@login_required
def worklist(request: HttpRequest) -> HttpResponse:
    """Like the search results, a reading of each patient listed (one ``patient.open`` row each)."""
    _vigilance_only(request)
    refusals = list(vigilance.pending_refusals())
    for trace in refusals:
        trace.label = vigilance.refusal_label(trace.error_code)
    duplicates = possible_duplicates()
    shown = [trace.patient_id for trace in refusals if trace.patient_id]
    shown += [patient.pk for pair in duplicates for patient in (pair.first, pair.second)]
    audit_listed_patients(request, shown, detail={"list": "identity_vigilance"})
    context = {"refusals": refusals, "duplicates": duplicates}
    return render(request, "mss/vigilance.html", context)


@login_required
def refusal(request: HttpRequest, pk: int) -> HttpResponse:
    """One refused document beside the closest local identities: a reading of each identity shown."""
    trace = get_object_or_404(Trace.objects.select_related("patient", "message", "handled_by"), pk=pk,
                              event=Trace.Event.REFUSED, error_code__in=vigilance.IDENTITY_CODES)  # fmt: skip
    _vigilance_only(request, trace)
    comparison = vigilance.compare(trace)
    audit_listed_patients(request, [patient.pk for patient in comparison.candidates],
                          detail={"list": "identity_vigilance", "trace": trace.pk})  # fmt: skip
    trace_ins_listed(request, comparison.candidates)  # the comparison shows their INS
    context = {"trace": trace, "label": vigilance.refusal_label(trace.error_code), "comparison": comparison}
    return render(request, "mss/vigilance_refusal.html", context)


@login_required
@require_POST
def mark_handled(request: HttpRequest, pk: int) -> HttpResponse:
    trace = get_object_or_404(Trace, pk=pk, event=Trace.Event.REFUSED, error_code__in=vigilance.IDENTITY_CODES)
    _vigilance_only(request, trace)
    try:
        vigilance.mark_handled(trace=trace, user=request.user, note=request.POST.get("note", ""), request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Refus marqué comme traité.")
    return redirect("vigilance:worklist")


@login_required
@require_POST
def file_by_hand(request: HttpRequest, pk: int) -> HttpResponse:
    """Stage the refused document for the manual import: the user then searches and chooses the patient there."""
    trace = get_object_or_404(Trace.objects.select_related("message"), pk=pk, event=Trace.Event.REFUSED,
                              error_code__in=vigilance.IDENTITY_CODES, handled_at__isnull=True)  # fmt: skip
    _vigilance_only(request, trace)
    try:
        pending = vigilance.stage_for_import(trace=trace, user=request.user)
    except (Refusal, InvalidCda) as error:
        messages.error(request, f"Document illisible dans le journal : {error}")
        return redirect("vigilance:refusal", pk=pk)
    return redirect("mss:import_document", pk=pending.pk)
