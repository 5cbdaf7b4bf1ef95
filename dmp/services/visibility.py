"""Making a DMP document visible to the patient or to the legal representatives (TD3.3b, DSR 3.2.2 d),
and the contextual accesses opened in the user's browser (web PS TD0.10, DRIMbox)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from dmp.access import Context
from dmp.clients import browser, registry
from dmp.clients.types import APPROVED, BrowserForm, DocumentEntry, VisibilityChange
from dmp.models import DmpTransaction
from dmp.services.consultation import cache_key
from dmp.services.tracing import traced
from documents.models import Document, DocumentVersion, Provenance
from documents.services import record_dmp_visibility
from dpi.models import AuditEvent
from dpi.services import audit

Kind = DmpTransaction.Kind
PAGES = {"dossier": "dossier du patient", "vaccination": "note de vaccination"}


def make_visible(
    request: HttpRequest, context: Context, entry: DocumentEntry, *, to_patient: bool, to_legal_representatives: bool
) -> DocumentEntry:
    """Remove the invisibility the user confirmed (to the patient, to the legal representatives, or both).

    The DMP keeps every metadata version; the entry gets a new entryUUID. When the document is one
    this hospital produced, its own flags follow (:func:`documents.services.record_dmp_visibility`).
    """
    change = VisibilityChange(
        invisible_to_patient=False if to_patient else None,
        invisible_to_legal_representatives=False if to_legal_representatives else None,
    )
    whom = [
        label
        for label, chosen in (("patient", to_patient), ("représentants légaux", to_legal_representatives))
        if chosen
    ]
    updated = traced(
        context,
        Kind.VISIBILITY,
        lambda: registry.update_visibility(
            context.actor, context.patient_ref, unique_id=entry.unique_id, change=change
        ),
        detail="visible : " + ", ".join(whom),
        documents=[entry.unique_id],
    )
    document = _produced_here(context, entry.unique_id)
    if document is not None:
        record_dmp_visibility(
            document=document,
            invisible_to_patient=False if to_patient else None,
            invisible_to_legal_representatives=False if to_legal_representatives else None,
            acting_user=context.user,
            request=request,
        )
    audit(
        action=AuditEvent.Action.DMP_CHANGE,
        actor=context.user,
        request=request,
        patient_id=context.patient.pk,
        change=AuditEvent.Change.MADE_VISIBLE,
        detail={"unique_id": entry.unique_id, "to": whom},
    )
    cache.delete_many([cache_key(request, context, "panel"), cache_key(request, context, "search")])
    return updated


def _produced_here(context: Context, unique_id: str) -> Document | None:
    root, _sep, extension = unique_id.partition("^")
    version = (
        DocumentVersion.objects.filter(
            document__patient=context.patient,
            document__provenance=Provenance.PRODUCED,
            cda_id_root=root,
            cda_id_extension=extension,
        )
        .select_related("document")
        .first()
    )
    return version.document if version else None


def webps_form(request: HttpRequest, context: Context, page: str) -> BrowserForm:
    """TD0.10: the form that opens the DMP web PS in the patient's context (DPI.DMP/UX.49)."""
    form = traced(
        context,
        Kind.WEB_PS,
        lambda: browser.webps_form(context.actor, context.patient_ref, page=page),
        detail=PAGES[page],
    )
    _audit_opening(request, context, f"webps:{page}")
    return form


def webps_psc_url(request: HttpRequest, context: Context, page: str) -> str:
    """The web PS through ProSanté Connect (DPI.AUTH.01/02): the DMP authenticates the user with PSC itself,
    whose session, opened by the user's PSC sign-in to the DPI, answers without asking again."""
    _audit_opening(request, context, f"webps-psc:{page}")
    query = urlencode({"ins": context.patient_ref.ins, "oid": context.patient_ref.oid, "page": page})
    return f"{settings.DMP_WEBPS_PSC_URL}?{query}"


def drimbox_form(request: HttpRequest, context: Context, *, study: str = "", accession: str = "") -> BrowserForm:
    """The consumer DRIMbox in the patient's context, on one examination when a study is given (DB/TRA.04)."""
    form = traced(
        context,
        Kind.DRIMBOX,
        lambda: browser.drimbox_form(context.actor, context.patient_ref, study=study, accession=accession),
        detail=f"examen {study}" if study else "dossier d'imagerie",
    )
    _audit_opening(request, context, "drimbox")
    return form


def _audit_opening(request: HttpRequest, context: Context, target: str) -> None:
    audit(
        action=AuditEvent.Action.DMP_READ,
        actor=context.user,
        request=request,
        patient_id=context.patient.pk,
        detail={"view": target},
    )


def entry_of_produced(context: Context, document: Document) -> DocumentEntry | None:
    """The DMP entry of the current version of a document this hospital sent (GetDocuments by uniqueId)."""
    version = document.current_version
    if version is None:
        return None
    unique_id = f"{version.cda_id_root}^{version.cda_id_extension}" if version.cda_id_extension else version.cda_id_root
    found = traced(
        context,
        Kind.SEARCH,
        lambda: registry.get_documents(context.actor, context.patient_ref, unique_ids=[unique_id]),
        detail="GetDocuments",
        documents=[unique_id],
    ).documents
    return next((entry for entry in found if entry.status == APPROVED), None)
