"""The patient's correspondents panel, the correspondent search and the recipient rows of the document form."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.html import escape
from django.views.decorators.http import require_GET, require_POST

from directory.clients.annuaire import AnnuaireClient, AnnuaireError
from directory.forms import NameCorrespondentForm, PickForm, SearchForm
from directory.models import Correspondent, PatientCorrespondent
from directory.selectors import patient_correspondents, search_correspondents
from directory.services import name_patient_correspondent, remove_patient_correspondent
from directory.services.directory_pick import NotAnAddressOfTheProfessional, correspondent_from_directory
from patients.access import Reads, patient_view
from patients.file import Panel, section
from patients.models import Episode, Patient


@section(order=15)
def correspondents_panel(request: HttpRequest, patient: Patient, episode: Episode | None) -> Panel:
    return Panel("directory/_panel.html", _panel_context(patient))


def _panel_context(patient: Patient) -> dict:
    return {"patient": patient, "links": patient_correspondents(patient), "roles": PatientCorrespondent.Role}


def _render_panel(request: HttpRequest, patient: Patient) -> HttpResponse:
    context = _panel_context(patient)
    return render(request, "directory/_panel.html", {"panel": Panel("directory/_panel.html", context)})


@login_required
@require_GET
@patient_view()
def search(request: HttpRequest, pk: int) -> HttpResponse:
    """Local correspondents matching the query; ``pour=document`` offers to add one as a recipient."""
    form = SearchForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest("Recherche invalide.")
    query = form.local_query()
    context = {
        "patient": request.patient_target,
        "query": query,
        "results": list(search_correspondents(query)) if query.strip() else [],
        "for_document": form.cleaned_data["pour"] == "document",
        "roles": PatientCorrespondent.Role,
        "annuaire": not form.criteria().empty,
        "annuaire_query": request.GET.urlencode(),
    }
    return render(request, "directory/_results.html", context)


@login_required
@require_GET
@patient_view()
def annuaire(request: HttpRequest, pk: int) -> HttpResponse:
    """The Annuaire Santé's professionals for the same criteria, loaded after the local results (htmx)."""
    form = SearchForm(request.GET)
    if not form.is_valid():
        return render(request, "directory/_annuaire.html", {"error": "Critères de recherche invalides."})
    context = {"patient": request.patient_target, "for_document": form.cleaned_data["pour"] == "document"}
    try:
        context["professionals"] = AnnuaireClient().search(form.criteria())
    except AnnuaireError as error:
        context["error"] = str(error)
    context["roles"] = PatientCorrespondent.Role
    return render(request, "directory/_annuaire.html", context)


@login_required
@require_POST
@patient_view()
def annuaire_recipient(request: HttpRequest, pk: int) -> HttpResponse:
    """An address of the Annuaire Santé's results added as a recipient of the document being written."""
    correspondent = _picked(request)
    return correspondent if isinstance(correspondent, HttpResponse) else _recipient_row(request, correspondent)


@login_required
@require_POST
@patient_view(reads=Reads.SERVICE)  # name_patient_correspondent audits the change
def annuaire_name(request: HttpRequest, pk: int) -> HttpResponse:
    """An address of the Annuaire Santé's results named GP, referring doctor or other correspondent."""
    correspondent = _picked(request)
    if isinstance(correspondent, HttpResponse):
        return correspondent
    role = request.POST.get("role", "")
    if role not in PatientCorrespondent.Role.values:
        return HttpResponseBadRequest("Rôle invalide.")
    patient = request.patient_target
    name_patient_correspondent(
        patient=patient, correspondent=correspondent, role=role, acting_user=request.user, request=request
    )
    return _render_panel(request, patient)


def _picked(request: HttpRequest) -> Correspondent | HttpResponse:
    """The correspondent for the chosen address, as the Annuaire Santé says now (asked again by RPPS)."""
    form = PickForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("RPPS ou adresse MSSanté invalide.")
    try:
        professional = AnnuaireClient().professional(form.cleaned_data["rpps"])
    except AnnuaireError as error:
        return HttpResponse(f'<li class="error">{escape(str(error))}</li>', status=503)
    if professional is None:
        return HttpResponseBadRequest("Ce RPPS n'est pas dans l'Annuaire Santé.")
    try:
        return correspondent_from_directory(
            professional=professional, address=form.cleaned_data["adresse"], acting_user=request.user, request=request
        )
    except NotAnAddressOfTheProfessional as refusal:
        return HttpResponseBadRequest(str(refusal))


@login_required
@require_GET
@patient_view()
def recipient_row(request: HttpRequest, pk: int, correspondent: int) -> HttpResponse:
    """One checked recipient of the document form, added from the search results."""
    return _recipient_row(request, get_object_or_404(Correspondent, pk=correspondent, active=True))


def _recipient_row(request: HttpRequest, correspondent: Correspondent) -> HttpResponse:
    """A checked recipient row of the recipients box (documents/_recipients_box.html)."""
    return render(
        request, "directory/_recipient_row.html", {"correspondent": correspondent, "role": "", "checked": True}
    )


@login_required
@require_POST
@patient_view(reads=Reads.SERVICE)  # name_patient_correspondent audits the change
def name(request: HttpRequest, pk: int) -> HttpResponse:
    form = NameCorrespondentForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Correspondant ou rôle invalide.")
    patient = request.patient_target
    name_patient_correspondent(patient=patient, acting_user=request.user, request=request, **form.cleaned_data)
    return _render_panel(request, patient) if request.htmx else redirect("patients:file", pk=pk)


@login_required
@require_POST
@patient_view(PatientCorrespondent, via="patient", reads=Reads.SERVICE)  # the service audits the change
def remove(request: HttpRequest, pk: int) -> HttpResponse:
    link = request.patient_target
    remove_patient_correspondent(link=link, acting_user=request.user, request=request)
    return _render_panel(request, link.patient) if request.htmx else redirect("patients:file", pk=link.patient_id)
