"""The DMP panel of the file: the list of the last two years, the new documents, what became of those integrated."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone

from dmp.access import Context
from dmp.categories import BY_KEY, category_of
from dmp.clients import registry
from dmp.clients.types import (
    APPROVED,
    ARCHIVED,
    DEPRECATED,
    DocumentEntry,
    DocumentQuery,
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
from dmp.services.consultation.session import cache_key
from dmp.services.tracing import traced
from dpi.models import AuditEvent
from dpi.services import audit

Kind = DmpTransaction.Kind
HAS_MEMBER = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"
REPLACES = "urn:ihe:iti:2007:AssociationType:RPLC"
SESSION_HOURS = 12  # the existence and authorisation are asked once per session
MAX_RPLC_CHAIN = 10


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
        entries = find_entries(context, query, detail="FindDocuments (2 ans)")
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


def find_entries(context: Context, query: DocumentQuery, *, detail: str) -> tuple[DocumentEntry, ...]:
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
