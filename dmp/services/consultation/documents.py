"""Search, view and integrate documents of the patient's DMP (TD3.1, TD3.2)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from dmp.access import Context
from dmp.clients import registry, repository
from dmp.clients.errors import DmpRefused, message_for
from dmp.clients.types import (
    DocumentEntry,
    DocumentQuery,
    RegistryError,
    RetrievedDocument,
)
from dmp.models import DmpTransaction, IntegratedDmpDocument
from dmp.services.consultation.panel import find_entries
from dmp.services.consultation.session import cache_key
from dmp.services.tracing import traced
from documents.cda import InvalidCda, VersionStatus
from documents.models import Provenance
from documents.services import integrate_cda
from dpi.models import AuditEvent
from dpi.services import audit

Kind = DmpTransaction.Kind
MAX_CACHED_DOCUMENT = 8 * 1024 * 1024


# --- search, view, integrate ------------------------------------------------------------------------


def search(request: HttpRequest, context: Context, query: DocumentQuery) -> tuple[DocumentEntry, ...]:
    """A multicriteria search (TD3.1 FindDocuments); its results are what "Intégrer" may pick."""
    entries = find_entries(context, query, detail="FindDocuments (recherche)")
    cache.set(cache_key(request, context, "search"), entries, settings.DMP_CACHE_MINUTES * 60)
    audit(action=AuditEvent.Action.DMP_READ, actor=context.user, request=request, patient_id=context.patient.pk,
          detail={"view": "dmp_search", "documents": len(entries)})  # fmt: skip
    return entries


def known_entries(request: HttpRequest, context: Context) -> dict[str, DocumentEntry]:
    """The entries this session was shown for this patient (panel and last search), by entryUUID."""
    entries: dict[str, DocumentEntry] = {}
    panel = cache.get(cache_key(request, context, "panel"))
    if panel is not None:
        entries.update({entry.entry_uuid: entry for entry in panel.entries})
        entries.update({u.newer.entry_uuid: u.newer for u in panel.updates if u.newer is not None})
    entries.update({entry.entry_uuid: entry for entry in cache.get(cache_key(request, context, "search"), ())})
    return entries


def entries_by_uuid(request: HttpRequest, context: Context, uuids: Sequence[str]) -> list[DocumentEntry]:
    """The metadata of these entries, from what the session was shown, else asked again (GetDocuments):
    the browser only sends identifiers, never metadata the DPI would trust."""
    known = known_entries(request, context)
    missing = [uuid for uuid in uuids if uuid not in known]
    if missing:
        fetched = traced(
            context,
            Kind.SEARCH,
            lambda: registry.get_documents(context.actor, context.patient_ref, entry_uuids=missing),
            detail="GetDocuments",
        ).documents
        known.update({entry.entry_uuid: entry for entry in fetched})
    return [known[uuid] for uuid in uuids if uuid in known]


def retrieve_document(request: HttpRequest, context: Context, entry: DocumentEntry) -> RetrievedDocument:
    """TD3.2 for one document, kept a few minutes for the viewer's tabs and a following integration."""
    key = cache_key(request, context, f"doc:{entry.unique_id}")
    document = cache.get(key)
    if document is None:
        document = _retrieve(context, [entry])[entry.unique_id]
        if isinstance(document, NotRetrieved):
            raise document
        if len(document.content) <= MAX_CACHED_DOCUMENT:
            cache.set(key, document, settings.DMP_CACHE_MINUTES * 60)
    return document


class NotRetrieved(DmpRefused):
    """The DMP gave the other documents of a TD3.2 but not this one (deleted, masked, outside the user's
    habilitation): a refusal for this document, said in the DPI's words; the DMP's own text is the detail."""

    def __init__(self, errors: Sequence[RegistryError]) -> None:
        code = errors[0].code if errors else "XDSDocumentUniqueIdError"
        super().__init__(message_for(code), code=code, detail="; ".join(error.message for error in errors))


def _retrieve(context: Context, entries: Sequence[DocumentEntry]) -> dict[str, RetrievedDocument | NotRetrieved]:
    wanted = [(entry.repository_unique_id, entry.unique_id) for entry in entries]
    result = traced(
        context,
        Kind.RETRIEVE,
        lambda: repository.retrieve(context.actor, context.patient_ref, wanted),
        documents=[unique_id for _repository, unique_id in wanted],
    )
    documents: dict[str, RetrievedDocument | NotRetrieved] = {doc.unique_id: doc for doc in result.documents}
    for entry in entries:
        if entry.unique_id not in documents:
            errors = [error for error in result.errors if error.location == entry.unique_id] or result.errors
            documents[entry.unique_id] = NotRetrieved(errors)
    return documents


@dataclass(frozen=True)
class Integrated:
    """The outcome of one document of a multiple integration, said in French."""

    entry: DocumentEntry
    ok: bool
    message: str
    document_id: int | None = None
    identity_mismatch: bool = False  # the user may confirm and integrate it anyway


def integrate_documents(
    request: HttpRequest,
    context: Context,
    entries: Sequence[DocumentEntry],
    *,
    accept_identity_differences: bool = False,
) -> list[Integrated]:
    """Integrate the chosen DMP documents in the file in one action (UX.31): one TD3.2 for all, then
    each through :func:`documents.services.integrate_cda` (duplicates and versions recognised on
    id / setId / versionNumber), filed in the user's unit, provenance "DMP". No entry: nothing is asked."""
    if not entries:  # e.g. identifiers the DMP no longer knows (entries_by_uuid found none of them)
        return []
    retrieved = _retrieve(context, entries)
    outcomes = []
    for entry in entries:
        document = retrieved[entry.unique_id]
        if isinstance(document, NotRetrieved):
            outcomes.append(Integrated(entry, False, f"Non récupéré : {document}"))
            continue
        outcomes.append(_integrate_one(request, context, entry, document, accept_identity_differences))
    return outcomes


def _integrate_one(
    request: HttpRequest, context: Context, entry: DocumentEntry, document: RetrievedDocument, accept: bool
) -> Integrated:
    try:
        with transaction.atomic():
            result = integrate_cda(
                patient=context.patient,
                data=document.content,
                provenance=Provenance.DMP,
                acting_user=context.user,
                episode=context.episode,
                care_unit=context.care_unit,
                accept_identity_differences=accept,
                request=request,
            )
            IntegratedDmpDocument.objects.update_or_create(
                document=result.document,
                defaults={
                    "unique_id": entry.unique_id,
                    "entry_uuid": entry.entry_uuid,
                    "logical_id": entry.logical_id,
                    "repository_unique_id": entry.repository_unique_id,
                    "state": IntegratedDmpDocument.State.PRESENT,
                    "newer_unique_id": "",
                    "newer_entry_uuid": "",
                    "newer_title": "",
                    "checked_at": timezone.now(),
                },
            )
    except ValidationError as error:
        mismatch = any(item.code == "identity_mismatch" for item in error.error_list)
        return Integrated(entry, False, " ".join(error.messages), identity_mismatch=mismatch)
    except InvalidCda as error:
        return Integrated(entry, False, str(error))
    label = "nouvelle version intégrée" if result.status == VersionStatus.NEW_VERSION else "intégré"
    return Integrated(entry, True, f"{label} (version {result.version.version_number})", result.document.pk)
