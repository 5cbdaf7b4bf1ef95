"""Consultation of the patient's DMP from the file (AIR simplifié), DSR 3.2.2 b) steps 1-9.

Every use case takes a :class:`dmp.access.Context` (built only when the patient, informed, did not
oppose consultation, the INS is qualified and the user has a national id) and makes its
transactions with the user's own VIHF; each transaction is traced (:mod:`dmp.services.tracing`).

What the DMP answered is kept in the shared cache for the user's session and this patient, so that
the initial transactions run once when the user arrives on the file and not again automatically
while they stay there (ANS Q&A, Dec 2025); "Actualiser" asks again:

* :func:`check_access` — TD0.2 once per session, then TD0.3 with no user action when the user has
  no valid authorisation (SC.DMP/CONF.16, UX.12);
* :func:`load_panel` — the list of the last two years (TD3.1 FindDocuments, UX.14), the count of
  documents third parties submitted since the configured event (FindSubmissionSets +
  GetAssociations, UX.15/17/14.TER), and what became of the documents integrated from the DMP
  (GetDocuments + GetAssociations, CDA/DD.05);
* :func:`search` — a multicriteria TD3.1 (UX.27, UX.14.BIS);
* :func:`retrieve_document` (TD3.2) and :func:`integrate_documents` (UX.31, steps 6-9).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from dmp.access import Context
from dmp.categories import BY_KEY, category_of
from dmp.clients import patients as td0
from dmp.clients import registry, repository
from dmp.clients.errors import DmpRefused, message_for
from dmp.clients.types import (
    APPROVED,
    ARCHIVED,
    DEPRECATED,
    Authorisation,
    DmpExistence,
    DmpStatus,
    DocumentEntry,
    DocumentQuery,
    RegistryError,
    RetrievedDocument,
)
from dmp.models import DmpTransaction, IntegratedDmpDocument, NewDocumentsAcknowledgement
from dmp.selectors.consultation import (
    authored_here,
    first_search_start,
    integrated_links,
    integrated_unique_ids,
    new_documents_rule,
    new_documents_since,
    our_structure_ids,
)
from dmp.services.tracing import traced
from documents.cda import InvalidCda, VersionStatus
from documents.models import Provenance
from documents.services import integrate_cda
from dpi.models import AuditEvent
from dpi.services import audit

logger = logging.getLogger(__name__)

Kind = DmpTransaction.Kind
HAS_MEMBER = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"
REPLACES = "urn:ihe:iti:2007:AssociationType:RPLC"
SESSION_HOURS = 12  # the existence and authorisation are asked once per session
MAX_RPLC_CHAIN = 10
MAX_CACHED_DOCUMENT = 8 * 1024 * 1024


# --- what the session remembers of a patient's DMP ------------------------------------------------


def cache_key(request: HttpRequest, context: Context, part: str) -> str:
    if request.session.session_key is None:
        request.session.save()
    return f"dmp:{request.session.session_key}:{context.patient.pk}:{part}"


def forget(request: HttpRequest, context: Context) -> None:
    """ "Actualiser": the next display asks the DMP again."""
    cache.delete_many([cache_key(request, context, part) for part in ("access", "panel", "search")])


# --- TD0.2 and TD0.3: existence and authorisation -----------------------------------------------------


@dataclass(frozen=True)
class AccessState:
    """The official four states (SC.DMP/UX.12), and whether the DPI set the authorisation itself."""

    existence: DmpExistence
    authorisation_set_now: bool = False

    @property
    def state(self) -> str:
        status = self.existence.status
        if status == DmpStatus.NONE:
            return "none"
        if status == DmpStatus.CLOSED:
            return "closed"
        return "authorised" if self.existence.authorisation == Authorisation.VALID else "not_authorised"

    @property
    def consultable(self) -> bool:
        return self.state == "authorised"


def check_access(request: HttpRequest, context: Context) -> AccessState:
    """TD0.2 once per session and patient; if the user has no valid authorisation on an open DMP,
    TD0.3 sets it at once, with no action of theirs (the DSR's step 3)."""
    key = cache_key(request, context, "access")
    state = cache.get(key)
    if state is not None:
        return replace(state, authorisation_set_now=False)  # set earlier in the session, not "just now"
    state = _ask_access(context)
    cache.set(key, state, SESSION_HOURS * 3600)
    return state


def _ask_access(context: Context) -> AccessState:
    existence = traced(context, Kind.EXISTENCE, lambda: td0.test_existence(context.actor, context.patient_ref))
    needs_authorisation = existence.authorisation in (Authorisation.NONE, Authorisation.EXPIRED)
    if existence.status != DmpStatus.OPEN or not needs_authorisation:
        return AccessState(existence)
    try:
        granted = traced(
            context,
            Kind.AUTHORISATION,
            lambda: td0.set_authorisation(context.actor, context.patient_ref, grant=True),
            detail="AJOUT",
        )
    except DmpRefused as refusal:
        forbidden = replace(existence, authorisation=Authorisation.FORBIDDEN, refusal_reason=str(refusal))
        return AccessState(forbidden)
    updated = replace(existence, authorisation=granted.authorisation, authorisation_until=granted.authorisation_until)
    return AccessState(updated, authorisation_set_now=True)


# --- the panel of the file: list, new documents, updates ------------------------------------------


@dataclass(frozen=True)
class NewDocuments:
    """Documents third parties submitted since ``since``, counted per category (UX.15)."""

    since: datetime
    entry_uuids: frozenset[str] = frozenset()
    counts: tuple[tuple[str, str, int], ...] = ()  # (category key, label, count)
    invisible: int = 0  # how many of them the patient cannot see yet
    shown: bool = True  # False: the rule does not count for this kind of care

    @property
    def total(self) -> int:
        return sum(count for _key, _label, count in self.counts)


@dataclass(frozen=True)
class Update:
    """What the DMP says of a document integrated from it (SC.CDA/DD.05)."""

    link: IntegratedDmpDocument
    newer: DocumentEntry | None  # a newer version in the DMP; None: the document no longer appears


@dataclass(frozen=True)
class Panel:
    entries: tuple[DocumentEntry, ...]
    new: NewDocuments
    updates: tuple[Update, ...] = ()
    loaded_at: datetime = field(default_factory=timezone.now)
    query: DocumentQuery | None = None


def default_query() -> DocumentQuery:
    """The first automatic search: approved documents whose act is at most two years old."""
    return DocumentQuery(statuses=(APPROVED,), service_start_from=first_search_start())


def load_panel(request: HttpRequest, context: Context) -> Panel:
    """What the DMP section of the file shows: the list and counts asked once per stay on the file
    (``DMP_CACHE_MINUTES``), what became of the integrated documents at every opening (DD.05)."""
    key = cache_key(request, context, "panel")
    panel = cache.get(key)
    if panel is None:
        query = default_query()
        started = _stay_started(request, context)  # before this stay's own searches are traced
        entries = _find(context, query, detail="FindDocuments (2 ans)")
        new = _new_documents(context, entries, stay_started=started)
        panel = Panel(entries=entries, new=new, query=query)
    panel = replace(panel, updates=_updates(context))
    cache.set(key, panel, settings.DMP_CACHE_MINUTES * 60)
    audit(action=AuditEvent.Action.DMP_READ, actor=context.user, request=request, patient_id=context.patient.pk,
          detail={"view": "dmp_panel", "documents": len(panel.entries)})  # fmt: skip
    return panel


def _stay_started(request: HttpRequest, context: Context) -> datetime:
    """When the user's stay on this file began in this session ("Actualiser" does not start a new one):
    the user's last consultation, for the "new documents" count, is one made before it."""
    return cache.get_or_set(cache_key(request, context, "stay"), timezone.now, SESSION_HOURS * 3600)


def _find(context: Context, query: DocumentQuery, *, detail: str) -> tuple[DocumentEntry, ...]:
    result = traced(
        context,
        Kind.SEARCH,
        lambda: registry.find_documents(context.actor, context.patient_ref, query),
        detail=detail,
        documents=lambda found: [entry.unique_id for entry in found.documents],
    )
    return _newest_first(result.documents)


def _newest_first(entries: Iterable[DocumentEntry]) -> tuple[DocumentEntry, ...]:
    epoch = datetime.min.replace(tzinfo=UTC)
    return tuple(sorted(entries, key=lambda e: e.service_start or e.creation_time or epoch, reverse=True))


def _new_documents(context: Context, listed: Sequence[DocumentEntry], *, stay_started: datetime) -> NewDocuments:
    rule = new_documents_rule(context.user, context.care_unit)
    since = new_documents_since(
        rule, user=context.user, patient=context.patient, episode=context.episode, stay_started=stay_started
    )
    if context.episode.kind not in rule.episode_kinds:
        return NewDocuments(since=since, shown=False)
    submitted = _submitted_since(context, since)
    known = {entry.entry_uuid: entry for entry in listed}
    missing = sorted(submitted - known.keys())
    if missing:
        fetched = traced(
            context,
            Kind.SEARCH,
            lambda: registry.get_documents(context.actor, context.patient_ref, entry_uuids=missing),
            detail="GetDocuments (nouveaux)",
        )
        known.update({entry.entry_uuid: entry for entry in fetched.documents})
    entries = [entry for uuid in submitted if (entry := known.get(uuid)) is not None]
    # A visibility change adds a version of an entry: a document is new when its first version came since,
    # and is counted once, as its current version.
    came_since = {_logical(entry) for entry in entries if entry.version == "1"}
    structures = our_structure_ids()
    new = [
        entry
        for entry in entries
        if entry.status in (APPROVED, ARCHIVED)
        and _logical(entry) in came_since
        and not authored_here(entry, structures)
        and category_of(entry.type_code.code if entry.type_code else "") in rule.categories
    ]
    return NewDocuments(
        since=since,
        entry_uuids=frozenset(entry.entry_uuid for entry in new),
        counts=_per_category(new),
        invisible=sum(1 for entry in new if entry.invisible_to_patient),
    )


def _logical(entry: DocumentEntry) -> str:
    return entry.logical_id or entry.entry_uuid


def _submitted_since(context: Context, since: datetime) -> set[str]:
    """entryUUIDs of the documents of every submission set since ``since``."""
    sets = traced(
        context,
        Kind.SEARCH,
        lambda: registry.find_submission_sets(context.actor, context.patient_ref, since=since),
        detail="FindSubmissionSets",
    ).submission_sets
    if not sets:
        return set()
    ids = {submission.entry_uuid for submission in sets}
    associations = traced(
        context,
        Kind.SEARCH,
        lambda: registry.get_associations(context.actor, context.patient_ref, sorted(ids)),
        detail="GetAssociations",
    ).associations
    return {a.target for a in associations if a.type == HAS_MEMBER and a.source in ids}


def _per_category(entries: Iterable[DocumentEntry]) -> tuple[tuple[str, str, int], ...]:
    counts = Counter(category_of(entry.type_code.code if entry.type_code else "") for entry in entries)
    return tuple((key, BY_KEY[key].label, counts[key]) for key in BY_KEY if counts[key])


def _updates(context: Context) -> tuple[Update, ...]:
    """For each document integrated from the DMP: still there, replaced by a newer version, or gone."""
    links = integrated_links(context.patient)
    if not links:
        return ()
    found = traced(
        context,
        Kind.SEARCH,
        lambda: registry.get_documents(
            context.actor, context.patient_ref, unique_ids=sorted({link.unique_id for link in links})
        ),
        detail="GetDocuments (documents intégrés)",
    ).documents
    by_unique_id = {entry.unique_id: entry for entry in found}
    local = integrated_unique_ids(context.patient)
    before = {link.pk: _link_values(link) for link in links}
    updates = []
    for link in links:
        update = _follow(context, link, by_unique_id.get(link.unique_id), local)
        if update is not None:
            updates.append(update)
    changed = [link for link in links if _link_values(link) != before[link.pk]]
    IntegratedDmpDocument.objects.bulk_update(changed, LINK_FIELDS)  # one statement, only what changed
    IntegratedDmpDocument.objects.filter(pk__in=before).update(checked_at=timezone.now())
    return tuple(updates)


LINK_FIELDS = ["state", "entry_uuid", "newer_unique_id", "newer_entry_uuid", "newer_title"]


def _link_values(link: IntegratedDmpDocument) -> tuple[str, ...]:
    return tuple(getattr(link, name) for name in LINK_FIELDS)


def _follow(
    context: Context, link: IntegratedDmpDocument, entry: DocumentEntry | None, local: dict[str, int]
) -> Update | None:
    if entry is None or entry.status not in (APPROVED, ARCHIVED, DEPRECATED):
        _set_link(link, IntegratedDmpDocument.State.UNAVAILABLE)
        return Update(link, None)
    if entry.status != DEPRECATED:
        _set_link(link, IntegratedDmpDocument.State.PRESENT, entry=entry)
        return None
    newest = _newest_version(context, entry)
    if newest is None or newest.unique_id in local:
        _set_link(link, IntegratedDmpDocument.State.PRESENT)
        return None
    _set_link(link, IntegratedDmpDocument.State.NEWER_VERSION, newer=newest)
    return Update(link, newest)


def _newest_version(context: Context, entry: DocumentEntry) -> DocumentEntry | None:
    """Walk the replacement (RPLC) chain from a deprecated entry to the newest approved one."""
    current = entry
    for _step in range(MAX_RPLC_CHAIN):
        associations = traced(
            context,
            Kind.SEARCH,
            lambda uuid=current.entry_uuid: registry.get_associations(context.actor, context.patient_ref, [uuid]),
            detail="GetAssociations (remplacement)",
        ).associations
        successor = next((a.source for a in associations if a.type == REPLACES and a.target == current.entry_uuid), "")
        if not successor:
            return None
        found = traced(
            context,
            Kind.SEARCH,
            lambda uuid=successor: registry.get_documents(context.actor, context.patient_ref, entry_uuids=[uuid]),
            detail="GetDocuments (nouvelle version)",
        ).documents
        if not found:
            return None
        current = found[0]
        if current.status != DEPRECATED:
            return current
    return None


def _set_link(
    link: IntegratedDmpDocument, state: str, *, entry: DocumentEntry | None = None, newer: DocumentEntry | None = None
) -> None:
    """What the DMP says of the link now (saved by :func:`_updates`, all changed links at once)."""
    link.state = state
    if entry is not None:  # the entryUUID changes at every metadata update
        link.entry_uuid = entry.entry_uuid
    link.newer_unique_id = newer.unique_id if newer else ""
    link.newer_entry_uuid = newer.entry_uuid if newer else ""
    link.newer_title = (newer.title if newer else "")[:250]


def acknowledge_new_documents(request: HttpRequest, context: Context) -> None:
    """The user saw the new documents: the count starts again from now (for this user and patient)."""
    NewDocumentsAcknowledgement.objects.update_or_create(
        user=context.user, patient=context.patient, defaults={"acknowledged_at": timezone.now()}
    )
    key = cache_key(request, context, "panel")
    panel = cache.get(key)
    if panel is not None:  # the count empties; where the rule does not show it, it stays hidden
        seen = NewDocuments(since=timezone.now(), shown=panel.new.shown)
        cache.set(key, replace(panel, new=seen), settings.DMP_CACHE_MINUTES * 60)


# --- search, view, integrate ------------------------------------------------------------------------


def search(request: HttpRequest, context: Context, query: DocumentQuery) -> tuple[DocumentEntry, ...]:
    """A multicriteria search (TD3.1 FindDocuments); its results are what "Intégrer" may pick."""
    entries = _find(context, query, detail="FindDocuments (recherche)")
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
