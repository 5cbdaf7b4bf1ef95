"""Read queries of the MSSanté inbound flow: the care unit's notifications, a patient's received
documents, the traces per patient and per mailbox."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone

from documents.models import Document, Provenance
from dpi.models import AuditEvent, CareUnit, User
from dpi.selectors import user_care_units
from mss.models import MailboxRoute, PendingImport, Trace, TraceRead
from patients.models import Patient


def _read_by(user: User) -> Exists:
    return Exists(TraceRead.objects.filter(trace=OuterRef("pk"), user=user))


def unread_count(user: User, care_unit: CareUnit | None) -> int:
    """New and updated MSSanté documents of the care unit that ``user`` has not read."""
    if care_unit is None:
        return 0
    return (
        Trace.objects.filter(care_unit=care_unit, event__in=Trace.NOTIFYING)
        .exclude(_read_by(user))
        .values("document_id")
        .distinct()
        .count()
    )


# --- Documents integrated and not yet seen (the header badge, REM SC.MSS/UX.40) ------------------------


@dataclass(frozen=True)
class Unseen:
    """A document of one of the user's units, integrated by MSSanté or from the DMP, the user has not seen."""

    document: Document
    at: datetime
    trace: Trace | None = None  # MSSanté: the latest notification (event, sender, subject)

    @property
    def from_mss(self) -> bool:
        return self.trace is not None


def unseen_since() -> datetime:
    return timezone.now() - timedelta(days=settings.MSS_UNSEEN_DAYS)


def _unseen_mss(user: User, since: datetime) -> QuerySet[Trace]:
    """MSSanté notifications of the user's units in the period that the user has not read (``TraceRead``)."""
    return Trace.objects.filter(
        care_unit__in=user_care_units(user), event__in=Trace.NOTIFYING, at__gte=since, document__isnull=False
    ).exclude(_read_by(user))


def _seen_in_audit_trail(user: User) -> Exists:
    """The user integrated or changed the document (any time), or read it since its DMP integration."""
    rows = AuditEvent.objects.filter(
        actor=user, object_type=Document._meta.label, object_id=Cast(OuterRef("pk"), output_field=CharField())
    )
    return Exists(
        rows.filter(
            Q(action=AuditEvent.Action.DOCUMENT_CHANGE)
            | Q(action=AuditEvent.Action.PATIENT_OPEN, at__gte=OuterRef("dmp_link__integrated_at"))
        )
    )


def _unseen_dmp(user: User, since: datetime) -> QuerySet[Document]:
    """Documents integrated from the DMP into the user's units in the period, by someone else, that the audit
    trail shows no reading of by the user since their integration."""
    return Document.objects.filter(
        provenance=Provenance.DMP, care_unit__in=user_care_units(user), dmp_link__integrated_at__gte=since
    ).exclude(_seen_in_audit_trail(user))


def unseen_count(user: User) -> int:
    """The header badge: what :func:`unseen_documents` lists."""
    since = unseen_since()
    mss = _unseen_mss(user, since).values("document_id").distinct().count()
    return mss + _unseen_dmp(user, since).count()


def unseen_documents(user: User, limit: int = 200) -> list[Unseen]:
    """The user's units' documents integrated by MSSanté or from the DMP over ``MSS_UNSEEN_DAYS`` and not
    seen by the user, newest first, one line per document."""
    since = unseen_since()
    traces = (
        _unseen_mss(user, since)
        .select_related("document__patient", "document__care_unit", "user")
        .defer("document__fields")
        .order_by("-at", "-pk")[:limit]
    )
    lines: dict[int, Unseen] = {}
    for trace in traces:
        lines.setdefault(trace.document_id, Unseen(trace.document, trace.at, trace))
    documents = (
        _unseen_dmp(user, since)
        .select_related("patient", "care_unit", "dmp_link")
        .defer("fields")
        .order_by("-dmp_link__integrated_at")[:limit]
    )
    for document in documents:
        lines[document.pk] = Unseen(document, document.dmp_link.integrated_at)
    return sorted(lines.values(), key=lambda line: line.at, reverse=True)[:limit]


def unit_notifications(user: User, care_unit: CareUnit, limit: int = 200) -> list[Trace]:
    """The care unit's notifications, newest first, each with ``is_read`` for ``user``."""
    return list(
        Trace.objects.filter(care_unit=care_unit, event__in=Trace.NOTIFYING)
        .annotate(is_read=_read_by(user))
        .select_related("document", "patient", "user")
        .defer("document__fields")
        .order_by("-at", "-pk")[:limit]
    )


def patient_mss_documents(user: User, patient: Patient) -> list[Document]:
    """The patient's documents received by MSSanté, each with its last notification and ``unread`` for ``user``."""
    documents = list(
        Document.objects.filter(patient=patient, provenance=Provenance.MSS)
        .select_related("current_version")
        .defer("fields", "current_version__cda", "current_version__pdf", "current_version__stylesheet")
        .order_by("-created_at", "-pk")[:100]
    )
    traces = (
        Trace.objects.filter(document__in=documents, event__in=Trace.NOTIFYING)
        .annotate(is_read=_read_by(user))
        .order_by("at", "pk")
    )
    last: dict[int, Trace] = {}
    unread: set[int] = set()
    for trace in traces:
        last[trace.document_id] = trace
        if not trace.is_read:
            unread.add(trace.document_id)
    for document in documents:
        document.mss_trace = last.get(document.pk)
        document.mss_unread = document.pk in unread
    return documents


# A trace page shows a message's type and control id, never its bytes (an MDM carries a whole CDA).
_BLOBS = ("message__raw", "message__text", "message__ack", "document__fields")


def patient_traces(patient: Patient) -> QuerySet[Trace]:
    """The patient's traces, with the ``received`` trace of each of the patient's messages (written before
    the patient was recognised); newest first, unsliced (the page shows the first ones, the export all)."""
    messages = Trace.objects.filter(patient=patient, message__isnull=False).values("message_id")
    return (
        Trace.objects.filter(Q(patient=patient) | Q(message__in=messages))
        .select_related("document", "patient", "user", "message", "care_unit")
        .defer(*_BLOBS)
        .order_by("-at", "-pk")
    )


def mailbox_traces(mailbox: str) -> QuerySet[Trace]:
    return (
        Trace.objects.filter(mailbox=mailbox.strip().lower())
        .select_related("document", "patient", "user", "message", "care_unit")
        .defer(*_BLOBS)
        .order_by("-at", "-pk")
    )


def user_mailboxes(user: User) -> list[str]:
    """The mailboxes a user may browse: those routed to the user's care units; every one for an admin."""
    routes = MailboxRoute.objects.exclude(address="")
    if not (user.is_staff or user.has_perm("mss.view_trace")):
        routes = routes.filter(care_unit__in=user_care_units(user))
    mailboxes = set(routes.values_list("address", flat=True))
    if user.is_staff or user.has_perm("mss.view_trace"):
        mailboxes |= set(Trace.objects.exclude(mailbox="").values_list("mailbox", flat=True).distinct()[:200])
    return sorted(mailboxes)


EXPORT_HEADER = ("date", "evenement", "code_erreur", "patient_ipp", "document", "cda_id", "bal", "expediteur", "objet",
                 "message_hl7", "utilisateur", "unite", "detail")  # fmt: skip


def export_rows(traces: QuerySet[Trace]) -> Iterator[list[str]]:
    """The CSV export: one line per trace (header :data:`EXPORT_HEADER`), read a chunk at a time."""
    for trace in traces.select_related("patient", "user", "care_unit").iterator():
        yield [
            trace.at.isoformat(), trace.event, trace.error_code, trace.patient.ipp if trace.patient else "",
            str(trace.document_id or ""), trace.cda_id, trace.mailbox, trace.sender, trace.subject,
            str(trace.message_id or ""), trace.user.get_username() if trace.user else "",
            trace.care_unit.code if trace.care_unit else "", trace.detail.get("text", ""),
        ]  # fmt: skip


def pending_imports(user: User) -> QuerySet[PendingImport]:
    return PendingImport.objects.filter(user=user).defer("cda")
