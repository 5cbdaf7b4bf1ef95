"""MSSanté pages: the care unit's received documents (badge and list), the patient file section, the
traces (per patient, per mailbox, CSV export) and the manual import of an IHE_XDM archive."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from documents.cda import InvalidCda, parse_cda_header
from documents.models import Document
from dpi.csvexport import csv_response
from dpi.selectors import current_care_unit
from dpi.validators import is_database_id
from mss import selectors, services
from mss.forms import ImportConfirmForm, XdmUploadForm
from mss.models import PendingImport, Trace
from mss.xdm import InvalidArchive
from patients.access import Reads, audit_listed_patients, patient_view
from patients.file import Panel, section
from patients.forms import PatientSearchForm
from patients.models import Episode, Patient
from patients.selectors import accessible_patients, search_patients
from patients.services import open_patient_file

TRACES_SHOWN = 500


@section(order=25)
def mss_panel(request: HttpRequest, patient: Patient, episode: Episode | None) -> Panel | None:
    """The documents received by MSSanté, apart from the others; loaded on its own (htmx), no query here."""
    return Panel("mss/_patient_panel.html", {"patient": patient})


@login_required
@patient_view()  # a fragment of the file: not audited again within its opening
def patient_documents(request: HttpRequest, pk: int) -> HttpResponse:
    """htmx partial of the patient file: the MSSanté documents with their sender, subject and unread mark."""
    patient = request.patient_target
    documents = selectors.patient_mss_documents(request.user, patient)
    return render(request, "mss/_patient_documents.html", {"patient": patient, "documents": documents})


@login_required
def badge(request: HttpRequest) -> HttpResponse:
    """htmx partial of the header: documents of the user's units integrated by MSSanté or from the DMP over
    ``MSS_UNSEEN_DAYS`` that the user has not seen (REM SC.MSS/UX.40); a link to their list."""
    return render(request, "mss/_badge.html", {"count": selectors.unseen_count(request.user)})


@login_required
def unseen(request: HttpRequest) -> HttpResponse:
    """The documents the badge counts; like the search results, a reading of each patient listed."""
    lines = selectors.unseen_documents(request.user)
    audit_listed_patients(request, [line.document.patient_id for line in lines], detail={"list": "mss_unseen"})
    context = {"lines": lines, "days": settings.MSS_UNSEEN_DAYS}
    return render(request, "mss/unseen.html", context)


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    unit = current_care_unit(request)
    if request.method == "POST" and unit is not None:
        marked = services.mark_unit_read(user=request.user, care_unit=unit)
        messages.success(request, f"{marked} notification(s) marquée(s) comme lue(s).")
        return redirect("mss:inbox")
    notifications = selectors.unit_notifications(request.user, unit) if unit else []
    return render(request, "mss/inbox.html", {"unit": unit, "notifications": notifications})


@login_required
@require_POST
@patient_view(Document, via="patient", reads=Reads.SERVICE)  # the viewer it opens audits the reading
def open_document(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark the document's notifications read for the user, then open it (a refusal leaves no read mark)."""
    document = request.patient_target
    services.mark_read(user=request.user, document=document)
    return redirect("documents:detail", pk=pk)


@login_required
def traces(request: HttpRequest) -> HttpResponse:
    """Traces of one patient (habilitation on the file) or one mailbox (routed to the user's units)."""
    patient, mailbox = None, request.GET.get("mailbox", "").strip().lower()
    mailboxes = selectors.user_mailboxes(request.user)
    if is_database_id(request.GET.get("patient", "")):
        patient = get_object_or_404(Patient, pk=request.GET["patient"])
        if not open_patient_file(user=request.user, patient=patient, request=request).allowed:
            raise PermissionDenied
        rows = selectors.patient_traces(patient)
    elif mailbox:
        if mailbox not in mailboxes:
            raise PermissionDenied
        rows = selectors.mailbox_traces(mailbox)
    else:
        rows = Trace.objects.none()
    if request.GET.get("format") == "csv":
        return _csv(request, rows)
    context = {"patient": patient, "mailbox": mailbox, "mailboxes": mailboxes, "traces": rows[:TRACES_SHOWN],
               "may_export": _may_export(request)}  # fmt: skip
    return render(request, "mss/traces.html", context)


def _may_export(request: HttpRequest) -> bool:
    return request.user.is_staff or request.user.has_perm("mss.export_trace")


def _csv(request: HttpRequest, rows: QuerySet[Trace]) -> HttpResponse:
    """Every trace of the patient or the mailbox (not only the ones shown)."""
    if not _may_export(request):
        raise PermissionDenied
    return csv_response(selectors.EXPORT_HEADER, selectors.export_rows(rows), "traces-mssante.csv")


# --- Manual import of an IHE_XDM archive -------------------------------------------------------------


@login_required
def import_archive(request: HttpRequest) -> HttpResponse:
    form = XdmUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        name = getattr(form, "archive_name", "archive.zip")
        try:
            staged = services.stage_xdm_archive(data=form.cleaned_data["archive"], name=name, acting_user=request.user)
        except InvalidArchive as error:
            services.record_import_refusal(name=name, reason=str(error), acting_user=request.user)
            form.add_error("archive", str(error))
        else:
            messages.success(request, f"{len(staged)} document(s) CDA extrait(s) : choisissez le patient de chacun.")
            return redirect("mss:import_document", pk=staged[0].pk)
    pending = selectors.pending_imports(request.user)
    return render(request, "mss/import.html", {"form": form, "pending": pending})


def _search_initial(pending: PendingImport) -> dict[str, object]:
    """The DPI's usual patient search, pre-filled with the INS the archive's METADATA.XML gives the document
    (its ``patientId``, Ref#2 MSSanté ECO.2.1.2), else from the CDA header (birth name and first name, birth
    date)."""
    if pending.metadata_ins:
        return {"ins": pending.metadata_ins}
    try:
        patient = parse_cda_header(bytes(pending.cda)).patient
    except InvalidCda:
        return {}
    name = " ".join(filter(None, (patient.birth_name, patient.first_name)))
    return {"name": name, "birth_date": patient.birth_date.isoformat() if patient.birth_date else ""}


@login_required
def import_document(request: HttpRequest, pk: int) -> HttpResponse:
    pending = get_object_or_404(PendingImport, pk=pk, user=request.user)
    header = parse_cda_header(bytes(pending.cda))
    search = PatientSearchForm(request.GET if "name" in request.GET else _search_initial(pending))
    confirm = ImportConfirmForm(request.POST or None)
    if request.method == "POST" and confirm.is_valid():
        patient = get_object_or_404(Patient, pk=confirm.cleaned_data["patient"])
        try:
            if not open_patient_file(user=request.user, patient=patient, request=request).allowed:
                raise PermissionDenied("Vous n'êtes pas habilité sur ce dossier.")
            result = services.import_pending(
                pending=pending, patient=patient, acting_user=request.user,
                accept_identity_differences=confirm.cleaned_data["accept_identity_differences"], request=request,
            )  # fmt: skip
        except (ValidationError, InvalidCda, PermissionDenied) as error:
            text = " ".join(error.messages) if isinstance(error, ValidationError) else str(error) or "Accès refusé."
            services.record_pending_refusal(pending=pending, patient=patient, reason=text, acting_user=request.user)
            messages.error(request, text)
        else:
            messages.success(
                request, f"Document intégré (version {result.version.version_number}), provenance MSSanté."
            )
            return redirect("documents:detail", pk=result.document.pk)
    results = None
    if search.is_valid() and search.has_criteria():
        results = list(search_patients(**search.cleaned_data))
        allowed = set(
            accessible_patients(request.user).filter(pk__in=[p.pk for p in results]).values_list("pk", flat=True)
        )
        for candidate in results:
            candidate.accessible = candidate.pk in allowed
    context = {"pending": pending, "header": header, "search": search, "results": results, "confirm": confirm}
    return render(request, "mss/import_document.html", context)


@login_required
@require_POST
def discard_import(request: HttpRequest, pk: int) -> HttpResponse:
    pending = get_object_or_404(PendingImport, pk=pk, user=request.user)
    services.discard_pending(pending=pending, acting_user=request.user)
    messages.info(request, "Document écarté.")
    return redirect("mss:import")
