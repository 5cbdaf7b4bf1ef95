"""Read queries of the MSSanté inbound flow: the care unit's notifications, a patient's received
documents, the traces per patient and per mailbox."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Exists, OuterRef, Q, QuerySet

from documents.models import Document, Provenance
from dpi.models import CareUnit, User
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
