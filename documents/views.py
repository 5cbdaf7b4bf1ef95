"""Documents of a patient file: list (a section of the file), writing, validation, viewer, correction."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from documents import services, worklists
from documents.cda import InvalidCda
from documents.filenames import file_name_of
from documents.forms import DocumentForm, FileImportForm, ImportForm
from documents.links import viewer_links
from documents.models import Document, DocumentVersion, Provenance
from documents.prefill import prefill_for
from documents.received_files import integrate_file
from documents.recipients import patient_may_reply_by_default, planned_ids
from documents.rendering import CSP_FOR_RENDERED_CDA, STYLESHEETS, agency_stylesheet_path, render_cda_html
from documents.rules import Operation, WritingRefused, allowed_types
from documents.selectors import SORTS, DocumentFilters, document_types, patient_documents, versions_of
from documents.types import SEGUR_TYPES
from dpi.validators import is_database_id
from patients.access import Reads, audit_listed_patients, patient_view
from patients.file import Panel, section
from patients.models import Episode, Patient
from patients.selectors import current_episode
from patients.views import file_context


@section(order=20)
def documents_panel(request: HttpRequest, patient: Patient, episode: Episode | None) -> Panel:
    """The documents list loads on its own (htmx), so the file opens without waiting for it. "Nouveau" is
    offered for the types the writing rules let the user draft in the visit's unit."""
    allowed = allowed_types(request.user, Operation.DRAFT, episode.care_unit if episode else None)
    types = [segur for segur in SEGUR_TYPES.values() if segur.code in allowed]
    return Panel("documents/_panel.html", {"patient": patient, "segur_types": types})


def _page(request: HttpRequest, patient: Patient, **context: object) -> dict:
    """A page of the patient file: the banner with its items, plus the page's own context."""
    return {**file_context(request, patient, request.patient_access), **context}


def _accessible_patient(request: HttpRequest, pk: int) -> Patient:
    return request.patient_target  # resolved, checked and audited by @patient_view


def _accessible_document(request: HttpRequest, pk: int) -> Document:
    return request.patient_target  # resolved with its patient, checked and audited by @patient_view


def _filters(request: HttpRequest) -> DocumentFilters:
    params = request.GET
    return DocumentFilters(
        sort=params.get("sort") if params.get("sort") in SORTS else "date",
        type_code=params.get("type", "")[:20],
        provenance=params.get("provenance", "") if params.get("provenance") in Provenance.values else "",
        start=_date(params.get("from", "")),
        end=_date(params.get("to", "")),
    )


def _date(value: str) -> date | None:
    """A date filter from the query string; anything unreadable is no filter."""
    try:
        return parse_date(value)
    except ValueError:
        return None


PAGE_SIZE = 50  # about two screens; "Afficher plus" appends the next ones (issue 16 §4: server time)


@login_required
@patient_view()  # a fragment of the file: not audited again within the file's opening (patients/access.py)
def document_list(request: HttpRequest, pk: int) -> HttpResponse:
    """The list, PAGE_SIZE lines at a time ("Afficher plus" appends the next ones)."""
    patient = _accessible_patient(request, pk)
    filters = _filters(request)
    shown = _positive(request.GET.get("shown", ""))
    page = list(patient_documents(patient.pk, filters)[shown : shown + PAGE_SIZE + 1])
    context = {
        "patient": patient,
        "documents": page[:PAGE_SIZE],
        "more": len(page) > PAGE_SIZE,
        "next_shown": shown + PAGE_SIZE,
        "filters": filters,
    }
    if shown:
        return render(request, "documents/_rows.html", context)
    context.update(types=document_types(patient.pk), provenances=Provenance.choices)
    return render(request, "documents/_list.html", context)


def _positive(value: str) -> int:
    return int(value) if is_database_id(value) else 0


@login_required
@patient_view()
def document_new(request: HttpRequest, pk: int, type_code: str) -> HttpResponse:
    patient = _accessible_patient(request, pk)
    segur = SEGUR_TYPES.get(type_code)
    if segur is None:
        raise Http404
    episode = current_episode(patient)
    prefill = prefill_for(
        segur=segur, patient=patient, episode=episode, author=request.user, chosen=request.GET.get("modele", "")
    )  # only the form's initial values: the user edits and validates everything (REM HOP/va1.07, va1.03)
    initial = {
        "title": segur.short_label,
        "act_date": timezone.localtime(),
        "correspondents": planned_ids(patient),
        "patient_may_reply": patient_may_reply_by_default(segur.code),
        **prefill.fields,
    }
    form = DocumentForm(request.POST or None, segur=segur, patient=patient, initial=initial)
    if request.method == "POST" and form.is_valid():
        document = services.create_draft(
            patient=patient,
            episode=episode,
            type_code=segur.code,
            acting_user=request.user,
            **form.draft_values(),
            request=request,
            validating="validate" in request.POST,
        )
        return _after_save(request, document, "draft_created")
    context = _page(request, patient, form=form, segur=segur, templates=prefill.templates, template=prefill.template)
    return render(request, "documents/edit.html", context)


@login_required
@patient_view()
def document_import(request: HttpRequest, pk: int) -> HttpResponse:
    """Manual import of a CDA file: header read with the hardened parser, duplicates and versions
    recognised, identity compared with the file's (confirmation asked on a difference)."""
    patient = _accessible_patient(request, pk)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.integrate_cda(
                patient=patient,
                data=form.cleaned_data["cda"],
                provenance=Provenance.MANUAL,
                acting_user=request.user,
                episode=current_episode(patient),
                stylesheet=form.cleaned_data["stylesheet"],
                accept_identity_differences=form.cleaned_data["accept_identity_differences"],
                request=request,
            )
        except (InvalidCda, ValidationError) as error:
            form.add_error("cda", error if isinstance(error, ValidationError) else str(error))
        else:
            messages.success(request, f"Document importé (version {result.version.version_number}).")
            return redirect("documents:detail", pk=result.document.pk)
    return render(request, "documents/import.html", _page(request, patient, form=form))


@login_required
@patient_view(reads=Reads.SERVICE)  # the form page shows only the banner; integrate_file audits the filing
def file_import(request: HttpRequest, pk: int) -> HttpResponse:
    """A received PDF that is not a CDA, filed by hand (provenance MSSanté when it came by MSSanté)."""
    patient = request.patient_target
    form = FileImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            document = integrate_file(
                patient=patient, data=form.cleaned_data["file"], title=form.cleaned_data["title"],
                type_code=form.cleaned_data["type_code"], received_by_mss=form.cleaned_data["received_by_mss"],
                acting_user=request.user, episode=current_episode(patient), request=request,
            )  # fmt: skip
        except ValidationError as error:
            form.add_error("file", error)
        else:
            messages.success(request, "Document intégré au dossier.")
            return redirect("documents:detail", pk=document.pk)
    return render(request, "documents/import_file.html", _page(request, patient, form=form))


@login_required
@patient_view(Document, via="patient")
def document_edit(request: HttpRequest, pk: int) -> HttpResponse:
    document = _accessible_document(request, pk)
    if document.is_locked:
        return redirect("documents:detail", pk=document.pk)
    segur = SEGUR_TYPES[document.type_code]
    form = DocumentForm(
        request.POST or None, segur=segur, patient=document.patient, initial=DocumentForm.initial_for(document)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_draft(
                document=document,
                acting_user=request.user,
                **form.draft_values(),
                request=request,
                validating="validate" in request.POST,
            )
        except WritingRefused as refusal:
            messages.error(request, str(refusal))
            return redirect("documents:detail", pk=document.pk)
        return _after_save(request, document, "draft_updated")
    context = _page(request, document.patient, form=form, segur=segur, document=document)
    return render(request, "documents/edit.html", context)


def _after_save(request: HttpRequest, document: Document, saved: str) -> HttpResponse:
    """ "Enregistrer" keeps the draft; "Valider" locks it into a version (PDF + CDA), one audit row for both."""
    if "validate" not in request.POST:
        messages.success(request, "Brouillon enregistré.")
        return redirect("documents:edit", pk=document.pk)
    try:
        version = services.validate_document(
            document=document, acting_user=request.user, request=request, saved_draft=saved
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("documents:edit", pk=document.pk)
    except WritingRefused as refusal:  # the draft is saved: it waits in the list of those who may validate it
        messages.error(request, str(refusal))
        return redirect("documents:edit", pk=document.pk)
    messages.success(request, f"Document validé (version {version.version_number}).")
    return redirect("documents:detail", pk=document.pk)


@login_required
@patient_view(Document, via="patient")
def document_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The viewer: the PDF first, one click to the CDA rendering; every version reachable."""
    document, access = request.patient_target, request.patient_access
    versions = list(versions_of(document))
    shown = _chosen_version(request, versions)
    context = file_context(request, document.patient, access) | {
        "document": document, "versions": versions, "shown": shown,
        "agency_stylesheet": agency_stylesheet_path() is not None,
        "viewer_links": viewer_links(request, document, shown),
    }  # fmt: skip
    return render(request, "documents/detail.html", context)


def _chosen_version(request: HttpRequest, versions: list[DocumentVersion]) -> DocumentVersion | None:
    wanted = request.GET.get("version", "")
    return next((v for v in versions if str(v.version_number) == wanted), versions[0] if versions else None)


def _version(request: HttpRequest, pk: int, number: int) -> DocumentVersion:
    document = _accessible_document(request, pk)
    return get_object_or_404(DocumentVersion, document=document, version_number=number)


def _cda_version(request: HttpRequest, pk: int, number: int) -> DocumentVersion:
    """A version with a CDA: a received file that is not a CDA (a PDF filed by hand) has none to show."""
    version = _version(request, pk, number)
    if not version.cda:
        raise Http404
    return version


@login_required
@xframe_options_sameorigin
@patient_view(Document, via="patient")  # in the viewer's frame: audited with the viewer; in a new tab: again
def version_pdf(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    version = _version(request, pk, number)
    if not version.pdf:
        raise Http404
    response = HttpResponse(bytes(version.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{file_name_of(version.document, "pdf")}"'
    return response


@login_required
@xframe_options_sameorigin
@patient_view(Document, via="patient")
def version_cda_rendering(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    """The CDA rendered by a stylesheet: untrusted HTML, served in a sandboxed frame under its own CSP."""
    version = _cda_version(request, pk, number)
    stylesheet = request.GET.get("stylesheet", "dpi")
    stylesheet = stylesheet if stylesheet in STYLESHEETS else "dpi"
    html = render_cda_html(bytes(version.cda), stylesheet=stylesheet, producer_xsl=bytes(version.stylesheet))
    response = HttpResponse(html)
    response["Content-Security-Policy"] = CSP_FOR_RENDERED_CDA  # django-csp keeps a header already set
    return response


@login_required
@patient_view(Document, via="patient", always=True)  # a download: always its own row
def version_cda_download(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    version = _cda_version(request, pk, number)
    response = HttpResponse(bytes(version.cda), content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{file_name_of(version.document, "xml")}"'
    return response


@login_required
@require_POST
@patient_view(Document, via="patient", reads=Reads.SERVICE)
def document_correct(request: HttpRequest, pk: int) -> HttpResponse:
    document = _accessible_document(request, pk)
    try:
        services.start_correction(document=document, acting_user=request.user, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("documents:detail", pk=pk)
    except WritingRefused as refusal:
        messages.error(request, str(refusal))
        return redirect("documents:detail", pk=pk)
    return redirect("documents:edit", pk=pk)


@login_required
@require_POST
@patient_view(Document, via="patient", reads=Reads.SERVICE)
def document_delete(request: HttpRequest, pk: int) -> HttpResponse:
    document = _accessible_document(request, pk)
    notify_mss = request.POST.get("notify_mss") == "1"
    services.delete_document(document=document, acting_user=request.user, request=request, notify_mss=notify_mss)
    messages.success(request, "Document supprimé (il reste consultable, marqué supprimé).")
    return redirect("documents:detail", pk=pk)


WORKLISTS = {
    "mine": ("Mes brouillons", worklists.my_drafts),
    "to_validate": ("À valider", worklists.awaiting_validation),
}


@login_required
def worklist(request: HttpRequest, which: str) -> HttpResponse:
    """ "Mes brouillons" or "À valider" (REM HOP/va1.08): like the search results, a reading of each
    patient listed (one ``patient.open`` row each); each line opens the draft through the door."""
    title, lister = WORKLISTS[which]
    documents = lister(request.user)
    audit_listed_patients(request, [document.patient_id for document in documents], detail={"list": f"drafts_{which}"})
    context = {"which": which, "title": title, "documents": documents, "limit": worklists.LIMIT}
    return render(request, "documents/worklist.html", context)


@login_required
def worklist_counts(request: HttpRequest) -> HttpResponse:
    """htmx partial of the header: the sizes of both lists (no patient named)."""
    return render(request, "documents/_worklist_counts.html", {"counts": worklists.counts(request.user)})
