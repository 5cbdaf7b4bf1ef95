"""The home page (patients of the current care unit), patient search and patient file pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from dpi.selectors import current_care_unit, user_care_units
from dpi.validators import is_database_id
from patients.access import Reads, audit_listed_patients, patient_view
from patients.file import banner_panels, section_panels
from patients.forms import EmergencyAccessForm, PatientSearchForm
from patients.ins_traces import trace_ins_listed
from patients.models import Episode, Patient
from patients.selectors import (
    PatientAccess,
    accessible_patients,
    current_episode,
    episodes_with_movements,
    may_break_glass,
    patients_in_care_unit,
    search_patients,
)
from patients.services import link_care_episode, open_patient_file, start_emergency_access


@login_required
def home(request: HttpRequest) -> HttpResponse:
    unit = current_care_unit(request)
    context = {
        "form": PatientSearchForm(),
        "care_units": user_care_units(request.user),
        "unit_patients": patients_in_care_unit(unit) if unit else [],
    }
    return render(request, "patients/home.html", context)


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
        audit_listed_patients(request, [patient.pk for patient in results], detail={"channel": "search"})
        if form.cleaned_data["ins"]:  # the INS typed is tied to the patients found
            trace_ins_listed(request, results)
    template = "patients/_results.html" if request.htmx else "patients/search.html"
    return render(request, template, {"form": form, "results": results})


def file_context(request: HttpRequest, patient: Patient, access: PatientAccess) -> dict:
    """What every page of a patient file shows: the banner and its contributed items."""
    episode = current_episode(patient)
    return {
        "patient": patient,
        "episode": episode,
        "access": access,
        "banner_panels": banner_panels(request, patient, episode),
    }


@login_required
@patient_view(reads=Reads.VIEW)  # open_patient_file below: merged identities redirect first, refusal page
def patient_file(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=pk)
    if patient.merged_into_id:
        messages.info(request, f"L'identité {patient.ipp} a été fusionnée dans l'IPP {patient.merged_into.ipp}.")
        return redirect("patients:file", pk=patient.merged_into_id)
    access = open_patient_file(user=request.user, patient=patient, request=request)
    if not access.allowed:
        return render(
            request,
            "patients/refused.html",
            {"patient": patient, "form": EmergencyAccessForm(), "may_break_glass": may_break_glass(request.user)},
            status=403,
        )
    context = file_context(request, patient, access)
    context.update(
        sections=section_panels(request, patient, context["episode"]),
        episodes=episodes_with_movements(patient),
        identity_events=patient.identity_events.select_related("message", "actor")[:50],
        absorbed=list(patient.absorbed.all()),
    )
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


@login_required
@require_POST
@patient_view(reads=Reads.SERVICE)  # link_care_episode audits the change
def care_episode_link(request: HttpRequest, pk: int, episode_pk: int) -> HttpResponse:
    """ "Same episode of care as ...": the information/opposition of that visit apply to this one."""
    episode = get_object_or_404(Episode, pk=episode_pk, patient_id=pk)
    target = request.POST.get("same_as", "")
    same_as = get_object_or_404(Episode, pk=target, patient_id=pk) if is_database_id(target) else None
    try:
        link_care_episode(episode=episode, same_as=same_as, acting_user=request.user, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("patients:file", pk=pk)
