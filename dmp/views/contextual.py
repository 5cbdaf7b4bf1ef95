"""Actions on the DMP beyond reading: making a document visible (DSR 3.2.2 d) and its work list, the
DMP web PS in the patient's context (TD0.10, DPI.DMP/UX.49) and the consumer DRIMbox (DB/TRA.04)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from dmp.access import Blocked, consultation_context
from dmp.clients.errors import DmpError
from dmp.selectors.consultation import invisible_worklist
from dmp.services import visibility
from dmp.views.consultation import _consultable, _entry, _patient
from documents.cda import CdaHeader
from documents.links import ViewerLink, viewer_link
from documents.models import Document
from dpi.oidc import session as oidc_session
from dpi.selectors import user_care_units
from dpi.validators import is_ascii_digits
from patients.access import Reads, patient_view
from patients.selectors import current_episode


@login_required
@require_http_methods(["GET", "POST"])
@patient_view()  # the confirmation is read; the POST is audited by visibility.make_visible
def make_visible(request: HttpRequest, pk: int, entry_uuid: str) -> HttpResponse:
    """Confirm, then make the document visible to the patient and/or the legal representatives (TD3.3b)."""
    context = _consultable(request, pk)
    try:
        entry = _entry(request, context, entry_uuid)
    except DmpError as error:
        messages.error(request, str(error))
        return redirect("patients:file", pk=pk)
    to_patient = request.POST.get("to_patient") == "1"
    to_representatives = request.POST.get("to_legal_representatives") == "1"
    back = request.GET.get("retour") or request.POST.get("retour")
    page = {"patient": context.patient, "entry": entry, "retour": back}
    if request.method == "GET" or not (to_patient or to_representatives):
        status = 400 if request.method == "POST" else 200
        error = "Choisissez à qui rendre le document visible." if status == 400 else ""
        return render(request, "dmp/visibility_confirm.html", page | {"error": error}, status=status)
    try:
        visibility.make_visible(
            request, context, entry, to_patient=to_patient, to_legal_representatives=to_representatives
        )
    except DmpError as error:
        return render(request, "dmp/visibility_confirm.html", page | {"error": str(error)}, status=502)
    messages.success(request, f"« {entry.title} » est maintenant visible.")
    if back == "liste":
        return redirect("dmp:invisible_documents")
    return redirect("patients:file", pk=pk)


@login_required
@require_GET
def invisible_documents(request: HttpRequest) -> HttpResponse:
    """Documents of the user's units sent to the DMP invisible to the patient and not yet made visible."""
    units = user_care_units(request.user)
    return render(request, "dmp/invisible_worklist.html", {"documents": invisible_worklist(units)})


@login_required
@require_GET
@patient_view(reads=Reads.SERVICE)  # webps_form writes the dmp.read row
def webps(request: HttpRequest, pk: int, page: str) -> HttpResponse:
    """The DMP web PS on this patient (``dossier`` or ``vaccination``): through ProSanté Connect for a user
    signed in with it (the DMP reuses the PSC session), otherwise a form posting the signed VIHF (AIR)."""
    if page not in visibility.PAGES:
        raise Http404
    context = _consultable(request, pk)
    if settings.DMP_WEBPS_PSC_URL and oidc_session.signed_in_with_psc(request):
        return redirect(visibility.webps_psc_url(request, context, page))
    try:
        form = visibility.webps_form(request, context, page)
    except DmpError as error:
        return render(request, "dmp/autopost.html", {"error": error, "patient": context.patient}, status=502)
    label = f"DMP — {visibility.PAGES[page]}"
    return render(request, "dmp/autopost.html", {"form": form, "label": label, "patient": context.patient})


@login_required
@require_GET
@patient_view(reads=Reads.SERVICE)  # drimbox_form writes the dmp.read row
def drimbox(request: HttpRequest, pk: int) -> HttpResponse:
    """The consumer DRIMbox in the patient's context, on one study when the link names it.

    The patient's choice about the DMP does not govern the DRIMbox; a qualified INS and the user's
    national identifier are still required (the same signed assertion)."""
    patient = _patient(request, pk)
    context = consultation_context(request, patient, current_episode(patient), dmp=False)
    if isinstance(context, Blocked):
        raise PermissionDenied(context.message)
    study = request.GET.get("etude", "")[:64]
    if study and not all(is_ascii_digits(part) for part in study.split(".")):
        raise Http404
    try:
        form = visibility.drimbox_form(request, context, study=study, accession=request.GET.get("acces", "")[:32])
    except DmpError as error:
        return render(request, "dmp/autopost.html", {"error": error, "patient": patient}, status=502)
    return render(request, "dmp/autopost.html", {"form": form, "label": "DRIMbox", "patient": patient})


@login_required
@require_GET
@patient_view(Document, kwarg="document_pk", via="patient", reads=Reads.SERVICE)  # to make_visible
def produced_visibility(request: HttpRequest, document_pk: int) -> HttpResponse:
    """From the work list: find the DMP entry of a document sent invisible, then confirm as from the file."""
    document = get_object_or_404(Document.objects.select_related("patient"), pk=document_pk)
    context = _consultable(request, document.patient_id)
    try:
        entry = visibility.entry_of_produced(context, document)
    except DmpError as error:
        messages.error(request, str(error))
        return redirect("dmp:invisible_documents")
    if entry is None:
        messages.error(request, f"« {document.title} » n'est pas (ou plus) dans le DMP du patient.")
        return redirect("dmp:invisible_documents")
    url = reverse("dmp:make_visible", args=[document.patient_id, entry.entry_uuid])
    return redirect(f"{url}?retour=liste")


@viewer_link
def drimbox_links(request: HttpRequest, document: Document, header: CdaHeader) -> list[ViewerLink]:
    """The examinations an imaging report documents open in the consumer DRIMbox (SC.DB/TRA.04)."""
    url = reverse("dmp:drimbox", args=[document.patient_id])
    return [
        ViewerLink(f"Voir les images (DRIMbox) · examen {uid}", f"{url}?{urlencode({'etude': uid})}", "drimbox-link")
        for uid in header.study_uids
    ]
