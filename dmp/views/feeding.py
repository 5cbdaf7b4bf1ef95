"""Feeding actions on a document line (cancel, release, send now, withdraw) and the historical feeding page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dmp.models import FeedingChannel, FeedingOrder
from dmp.selectors.feeding import historical_candidates
from dmp.services import feeding as services
from dmp.services import sending
from dmp.templatetags.feeding import feeding_context
from documents.forms import RecipientsForm
from documents.models import Document
from dpi.validators import is_database_id
from patients.access import Reads, patient_view
from patients.file import Panel, section
from patients.models import Episode, Patient
from patients.views import file_context


@section(order=25)
def historical_panel(request: HttpRequest, patient: Patient, episode: Episode | None) -> Panel | None:
    """A reminder in the file when earlier documents were never sent to the DMP."""
    count = historical_candidates(patient).count()
    return Panel("dmp/_historical_panel.html", {"patient": patient, "count": count}) if count else None


def _document(request: HttpRequest, pk: int) -> Document:
    """The document of the request, checked and audited by @patient_view (directly or through its order)."""
    target = request.patient_target
    return target if isinstance(target, Document) else target.document


def _render_line(request: HttpRequest, document: Document, error: str = "") -> HttpResponse:
    document = Document.objects.prefetch_related("exports", "feeding_orders").get(pk=document.pk)
    return render(request, "dmp/_feeding.html", feeding_context(document, error))


def _act(request: HttpRequest, line_of: Document, action, **kwargs: object) -> HttpResponse:
    """Run a service for the user, then answer with the document's line (or back to the document)."""
    error = ""
    try:
        action(acting_user=request.user, request=request, **kwargs)
    except ValidationError as refusal:
        error = " ".join(refusal.messages)
    if request.htmx:
        return _render_line(request, line_of, error)
    if error:
        messages.error(request, error)
    return redirect("documents:detail", pk=line_of.pk)


@login_required
@patient_view(Document, via="patient")  # polled fragment of the viewer: not audited again within its opening
def feeding_line(request: HttpRequest, pk: int) -> HttpResponse:
    """The export column of one document, polled while something is on its way."""
    return _render_line(request, _document(request, pk))


@login_required
@require_POST
@patient_view(FeedingOrder, via="document__patient", reads=Reads.SERVICE)
def order_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    order = get_object_or_404(FeedingOrder, pk=pk)
    return _act(request, _document(request, order.document_id), services.cancel_order, order=order)


@login_required
@require_POST
@patient_view(FeedingOrder, via="document__patient", reads=Reads.SERVICE)
def order_release(request: HttpRequest, pk: int) -> HttpResponse:
    order = get_object_or_404(FeedingOrder, pk=pk)
    return _act(request, _document(request, order.document_id), services.release_order, order=order)


@login_required
@require_POST
@patient_view(Document, via="patient", reads=Reads.SERVICE)
def document_send(request: HttpRequest, pk: int, channel: str) -> HttpResponse:
    document = _document(request, pk)
    if channel not in FeedingChannel.values:
        raise PermissionDenied
    return _act(request, document, services.send_now, document=document, channel=channel)


@login_required
@patient_view(Document, via="patient")  # the page is read; its POST is audited by send_to_recipients
def send_mss(request: HttpRequest, pk: int) -> HttpResponse:
    """Send a validated document now, by MSSanté, to recipients chosen now (MSS/va1.23)."""
    document = _document(request, pk)
    form = RecipientsForm(request.POST or None, patient=document.patient)
    if request.method == "POST" and form.is_valid():
        try:
            sending.send_to_recipients(
                document=document, recipients=form.recipients(), acting_user=request.user, request=request
            )
        except ValidationError as refusal:
            form.add_error(None, refusal)
        else:
            messages.success(request, _("Envoi MSSanté programmé : il part dans un instant."))
            return redirect("documents:detail", pk=document.pk)
    context = file_context(request, document.patient, request.patient_access) | {"document": document, "form": form}
    return render(request, "dmp/send_mss.html", context)


@login_required
@require_POST
@patient_view(Document, via="patient", reads=Reads.SERVICE)
def document_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    document = _document(request, pk)
    return _act(request, document, services.withdraw_from_dmp, document=document, reason=request.POST.get("reason", ""))


@login_required
@patient_view()  # the page is read; its POST is audited by send_history
def historical_feeding(request: HttpRequest, pk: int) -> HttpResponse:
    """Documents of earlier episodes never sent to the DMP: choose some, send them in one batch."""
    patient, access = request.patient_target, request.patient_access
    candidates = list(historical_candidates(patient))
    if request.method == "POST":
        chosen = {int(value) for value in request.POST.getlist("document") if is_database_id(value)}
        selection = [document for document in candidates if document.pk in chosen]
        if not selection:
            messages.error(request, _("Choisissez au moins un document."))
        else:
            try:
                services.send_history(patient_documents=selection, acting_user=request.user, request=request)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, _("%(n)d document(s) envoyé(s) au DMP.") % {"n": len(selection)})
                return redirect("patients:file", pk=patient.pk)
    context = file_context(request, patient, access) | {"candidates": candidates}
    return render(request, "dmp/historical.html", context)
