"""The patient's DMP inside the file (DSR 3.2.2 b): the state beside the identity, the DMP section,
search, the viewer of a DMP document, and the integration of the chosen documents.

The file page itself never calls the DMP (DPI.DMP/UX.10): it holds two placeholders that htmx fills
after the page is shown. The banner item asks the access (TD0.2, then TD0.3 when needed) and, once
answered, fires ``dmp-access`` in the browser; the DMP section then loads its list and counts.
A failing DMP only ever changes what these fragments say.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.html import format_html
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from dmp.access import Blocked, Context, consultation_context
from dmp.clients.errors import DmpError
from dmp.clients.types import DocumentEntry
from dmp.forms import DmpSearchForm
from dmp.selectors.consultation import integrated_unique_ids
from dmp.services import consultation as services
from documents.cda import InvalidCda, parse_cda_header
from documents.rendering import CSP_FOR_RENDERED_CDA, render_cda_html
from dpi.models import AuditEvent
from dpi.services import audit
from patients.access import Reads, patient_view
from patients.file import Panel, banner_item, section
from patients.models import Episode, Patient
from patients.selectors import current_episode
from patients.services import open_patient_file
from patients.views import file_context

ENTRY_UUID = re.compile(r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
MAX_INTEGRATED_AT_ONCE = 50


# --- the two placeholders of the file page ---------------------------------------------------------


def _file_gate(request: HttpRequest, patient: Patient, episode: Episode | None) -> Context | Blocked:
    """The gate of the file page, decided once per request (the banner and the section both show it)."""
    gates = request.__dict__.setdefault("_dmp_gates", {})
    if patient.pk not in gates:
        gates[patient.pk] = consultation_context(request, patient, episode)
    return gates[patient.pk]


@banner_item(order=12)
def access_item(request: HttpRequest, patient: Patient, episode: Episode | None) -> Panel | None:
    """The DMP state beside the identity: known at once when no call may be made, else loaded."""
    context = _file_gate(request, patient, episode)
    if isinstance(context, Blocked) and context.reason == "disabled":
        return None
    return Panel("dmp/_access_item.html", {"patient": patient, "blocked": context if not context.allowed else None})


@section(order=21)
def consultation_section(request: HttpRequest, patient: Patient, episode: Episode | None) -> Panel | None:
    context = _file_gate(request, patient, episode)
    if isinstance(context, Blocked) and context.reason == "disabled":
        return None
    return Panel("dmp/_section.html", {"patient": patient, "blocked": context if not context.allowed else None})


# --- shared steps of every view -------------------------------------------------------------------


def _patient(request: HttpRequest, pk: int) -> Patient:
    """The patient the door (``@patient_view``) resolved, its habilitation checked and audited there; a
    merged identity has no DMP of its own here (404)."""
    target = request.patient_target
    patient = target if isinstance(target, Patient) else target.patient
    if patient.pk != pk or patient.merged_into_id:
        raise Http404
    return patient


def _context(request: HttpRequest, pk: int) -> Context | Blocked:
    patient = _patient(request, pk)
    return consultation_context(request, patient, current_episode(patient))


def _consultable(request: HttpRequest, pk: int) -> Context:
    """For the actions that need the DMP: an allowed context whose access is authorised."""
    context = _context(request, pk)
    if isinstance(context, Blocked):
        raise PermissionDenied(context.message)
    return context


def _dmp_call(
    request: HttpRequest, template: str, call: Callable[[], dict], *, error_template: str = "dmp/_error.html"
) -> HttpResponse:
    """Render ``template`` with what ``call`` returns, or the DMP's error said in French (``error_template``)."""
    try:
        values = call()
    except DmpError as error:
        return render(request, error_template, {"error": error})
    return render(request, template, values)


# --- state and section ----------------------------------------------------------------------------


@login_required
@require_GET
@patient_view()  # a fragment of the file: not audited again within its opening
def access_state(request: HttpRequest, pk: int) -> HttpResponse:
    """TD0.2 (once per session), TD0.3 when the user has no authorisation; the four official states."""
    context = _context(request, pk)
    if isinstance(context, Blocked):
        response = render(request, "dmp/_access_state.html", {"blocked": context})
    else:
        response = _dmp_call(
            request,
            "dmp/_access_state.html",
            lambda: {"access": services.check_access(request, context)},
            error_template="dmp/_access_state.html",  # the state beside the identity says the DMP did not answer
        )
    response["HX-Trigger"] = "dmp-access"
    return response


@login_required
@require_GET
@patient_view(reads=Reads.SERVICE)  # load_panel writes the dmp.read row
def panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The DMP section: new documents, updates of integrated ones, the list, the search form."""
    context = _context(request, pk)
    if isinstance(context, Blocked):
        return render(request, "dmp/_blocked.html", {"blocked": context})
    if request.GET.get("actualiser"):
        services.forget(request, context)

    def load() -> dict:
        access = services.check_access(request, context)
        if not access.consultable:
            return {"access": access, "patient": context.patient}
        loaded = services.load_panel(request, context)
        return _listing(context, loaded.entries) | {"access": access, "loaded": loaded, "form": DmpSearchForm()}

    return _dmp_call(request, "dmp/_panel.html", load)


def _listing(context: Context, entries: tuple[DocumentEntry, ...] | list[DocumentEntry]) -> dict:
    return {"patient": context.patient, "entries": entries, "integrated": integrated_unique_ids(context.patient)}


@login_required
@require_POST
@patient_view(reads=Reads.SERVICE)
def acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Marquer comme vus": the new-documents count starts again from now."""
    context = _consultable(request, pk)
    services.acknowledge_new_documents(request, context)
    return render(request, "dmp/_new_documents.html", {"patient": context.patient, "new": None})


@login_required
@require_GET
@patient_view(reads=Reads.SERVICE)  # services.search writes the dmp.read row
def search(request: HttpRequest, pk: int) -> HttpResponse:
    """The multicriteria search (TD3.1); its results replace the list."""
    context = _consultable(request, pk)
    form = DmpSearchForm(request.GET)
    if not form.is_valid():
        return render(request, "dmp/_search_errors.html", {"form": form}, status=400)

    def run() -> dict:
        entries = [entry for entry in services.search(request, context, form.query()) if form.keep(entry)]
        return _listing(context, entries) | {"searched": True}

    return _dmp_call(request, "dmp/_entries.html", run)


# --- one DMP document: viewer, PDF, CDA ----------------------------------------------------------


def _entry(request: HttpRequest, context: Context, entry_uuid: str) -> DocumentEntry:
    if not ENTRY_UUID.match(entry_uuid):
        raise Http404
    entries = services.entries_by_uuid(request, context, [entry_uuid])
    if not entries:
        raise Http404("Document absent du DMP.")
    return entries[0]


@login_required
@require_GET
@patient_view(reads=Reads.SERVICE)  # open_patient_file below
def document(request: HttpRequest, pk: int, entry_uuid: str) -> HttpResponse:
    """A DMP document in the DPI's viewer, before any integration: its metadata, PDF first, the CDA."""
    context = _consultable(request, pk)
    access = open_patient_file(user=request.user, patient=context.patient, request=request)
    page = file_context(request, context.patient, access)
    try:
        entry = _entry(request, context, entry_uuid)
        retrieved = services.retrieve_document(request, context, entry)
    except DmpError as error:
        return render(request, "dmp/document.html", page | {"error": error}, status=502)
    try:
        header = parse_cda_header(retrieved.content)
    except InvalidCda as error:
        header, unreadable = None, str(error)
    else:
        unreadable = ""
    view = request.GET.get("vue") or ("pdf" if header and header.pdf else "cda")
    integrated = integrated_unique_ids(context.patient).get(entry.unique_id)
    return render(
        request,
        "dmp/document.html",
        page | {"entry": entry, "header": header, "unreadable": unreadable, "view": view, "integrated": integrated},
    )


def _retrieved_content(request: HttpRequest, pk: int, entry_uuid: str) -> bytes:
    context = _consultable(request, pk)
    try:
        return services.retrieve_document(request, context, _entry(request, context, entry_uuid)).content
    except DmpError as error:
        raise Http404(str(error)) from error


@login_required
@require_GET
@xframe_options_sameorigin
@patient_view()  # frames of the DMP viewer: audited with it; in a new tab: again
def document_pdf(request: HttpRequest, pk: int, entry_uuid: str) -> HttpResponse:
    try:
        pdf = parse_cda_header(_retrieved_content(request, pk, entry_uuid)).pdf
    except InvalidCda as error:
        raise Http404 from error
    if not pdf:
        raise Http404
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="document-dmp.pdf"'
    return response


@login_required
@require_GET
@xframe_options_sameorigin
@patient_view()
def document_cda(request: HttpRequest, pk: int, entry_uuid: str) -> HttpResponse:
    """The CDA rendered by the DPI's stylesheet: untrusted HTML, in a sandboxed frame under its own CSP.
    A document the hardened parser refuses (DOCTYPE, limits, encoding) is not a server error: its reason, 422."""
    try:
        response = HttpResponse(render_cda_html(_retrieved_content(request, pk, entry_uuid)))
    except InvalidCda as error:
        response = HttpResponse(format_html('<p role="alert">{}</p>', str(error)), status=422)
    response["Content-Security-Policy"] = CSP_FOR_RENDERED_CDA
    return response


# --- integration ----------------------------------------------------------------------------------


@login_required
@require_POST
@patient_view(reads=Reads.SERVICE)  # integrate_documents audits, a bad selection too
def integrate(request: HttpRequest, pk: int) -> HttpResponse:
    """Integrate the checked documents in one action (UX.31); identity differences ask a confirmation."""
    context = _consultable(request, pk)
    uuids = list(dict.fromkeys(request.POST.getlist("entry")))
    if not uuids or len(uuids) > MAX_INTEGRATED_AT_ONCE or not all(ENTRY_UUID.match(uuid) for uuid in uuids):
        audit(action=AuditEvent.Action.DMP_READ, actor=request.user, request=request, patient_id=context.patient.pk,
              detail={"view": "dmp_integrate", "refused": "bad selection", "count": len(uuids)})  # fmt: skip
        return HttpResponseBadRequest(f"Cochez entre 1 et {MAX_INTEGRATED_AT_ONCE} documents du DMP.")
    accept = request.POST.get("accept_identity_differences") == "1"

    def run() -> dict:
        entries = services.entries_by_uuid(request, context, uuids)
        outcomes = services.integrate_documents(request, context, entries, accept_identity_differences=accept)
        mismatches = [outcome for outcome in outcomes if outcome.identity_mismatch]
        return {"patient": context.patient, "outcomes": outcomes, "mismatches": mismatches}

    response = _dmp_call(request, "dmp/_integrated.html", run)
    response["HX-Trigger"] = "documents-changed"
    return response
