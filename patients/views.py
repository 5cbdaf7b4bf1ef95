"""Patient search and patient file pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from patients.forms import EmergencyAccessForm, PatientSearchForm
from patients.models import Patient
from patients.selectors import accessible_patients, current_episode, may_break_glass, search_patients
from patients.services import open_patient_file, start_emergency_access


@login_required
def search(request: HttpRequest) -> HttpResponse:
    form = PatientSearchForm(request.GET or None)
    results = None
    if form.is_valid() and form.has_criteria():
        results = list(search_patients(**form.cleaned_data))
        accessible = set(
            accessible_patients(request.user).filter(pk__in=[p.pk for p in results]).values_list("pk", flat=True)
        )
        for patient in results:
            patient.accessible = patient.pk in accessible
    template = "patients/_results.html" if request.htmx else "patients/search.html"
    return render(request, template, {"form": form, "results": results})


@login_required
def patient_file(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=pk)
    access = open_patient_file(user=request.user, patient=patient, request=request)
    if not access.allowed:
        return render(
            request,
            "patients/refused.html",
            {"patient": patient, "form": EmergencyAccessForm(), "may_break_glass": may_break_glass(request.user)},
            status=403,
        )
    context = {"patient": patient, "access": access, "episode": current_episode(patient)}
    return render(request, "patients/file.html", context)


@login_required
@require_POST
def emergency_access(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=pk)
    form = EmergencyAccessForm(request.POST)
    if form.is_valid():
        try:
            start_emergency_access(
                user=request.user, patient=patient, reason=form.cleaned_data["reason"], request=request
            )
        except ValidationError as error:
            form.add_error("reason", error)
        else:
            return redirect("patients:file", pk=patient.pk)
    context = {"patient": patient, "form": form, "may_break_glass": may_break_glass(request.user)}
    return render(request, "patients/refused.html", context, status=400)
