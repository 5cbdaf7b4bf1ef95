"""The consent panel of a patient file, its banner icons, and the one-click recording."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from consent.forms import ConsentForm, PatientMailboxForm
from consent.models import Source
from consent.selectors import consent_history, effective_consents
from consent.services import record_consent, record_patient_mailbox_choice
from patients.access import Reads, patient_view
from patients.file import Panel, banner_item, section
from patients.models import Episode, Patient
from patients.selectors import current_episode


def _consents(request: HttpRequest, episode: Episode) -> dict:
    """Effective consents of the visit, computed once per request (banner and panel both show them)."""
    cache = request.__dict__.setdefault("_effective_consents", {})
    if episode.pk not in cache:
        cache[episode.pk] = effective_consents(episode)
    return cache[episode.pk]


@banner_item(order=10)
def consent_icons(request: HttpRequest, patient: Patient, episode: Episode | None) -> Panel:
    consents = _consents(request, episode) if episode else None
    return Panel(
        "consent/_banner_icons.html",
        {
            "consents": consents,
            "dmp_status": patient.get_dmp_status_display(),
            "mailbox_refused_since": patient.refuses_patient_mailbox_since,
        },
    )


@section(order=10)
def consent_panel(request: HttpRequest, patient: Patient, episode: Episode | None) -> Panel:
    return Panel("consent/_panel.html", _panel_context(request, patient, episode))


def _panel_context(request: HttpRequest, patient: Patient, episode: Episode | None) -> dict:
    if episode is None:
        return {"patient": patient, "episode": None, "mailbox_refused_since": patient.refuses_patient_mailbox_since}
    return {
        "patient": patient,
        "episode": episode,
        "consents": _consents(request, episode),
        "history": consent_history(episode)[:20],
        "mailbox_refused_since": patient.refuses_patient_mailbox_since,
    }


@login_required
@require_POST
@patient_view(reads=Reads.SERVICE)  # record_consent audits the change
def record(request: HttpRequest, pk: int) -> HttpResponse:
    patient = request.patient_target
    episode = current_episode(patient)
    form = ConsentForm(request.POST)
    if episode is None or not form.is_valid():
        return HttpResponseBadRequest("Venue ou choix invalide.")
    with transaction.atomic():
        for subject in form.subjects():
            record_consent(
                episode=episode,
                subject=subject,
                state=form.cleaned_data["state"],
                source=Source.UI,
                acting_user=request.user,
                request=request,
            )
    return _recorded(request, patient, episode)


@login_required
@require_POST
@patient_view(reads=Reads.SERVICE)  # record_patient_mailbox_choice audits the change
def patient_mailbox(request: HttpRequest, pk: int) -> HttpResponse:
    """The patient's refusal (or renewed acceptance) of sendings to their Mon espace santé mailbox."""
    form = PatientMailboxForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Choix invalide.")
    patient = record_patient_mailbox_choice(
        patient=request.patient_target, refuses=form.cleaned_data["refuses"], acting_user=request.user, request=request
    )
    return _recorded(request, patient, current_episode(patient))


def _recorded(request: HttpRequest, patient: Patient, episode: Episode | None) -> HttpResponse:
    if not request.htmx:
        return redirect("patients:file", pk=patient.pk)
    context = _panel_context(request, patient, episode)
    context["panel"] = Panel("consent/_panel.html", context)
    context["icons"] = consent_icons(request, patient, episode)
    return render(request, "consent/_recorded.html", context)
