"""Read marks: a user has seen the MSSanté notifications of a document or of a care unit."""

from __future__ import annotations

from django.db import transaction

from documents.models import Document
from dpi.models import CareUnit, User
from mss.models import Trace, TraceRead
from mss.services.common import save_trace

Event = Trace.Event


# --- Read marks ------------------------------------------------------------------------------------------


@transaction.atomic
def mark_read(*, user: User, document: Document) -> int:
    """Mark every notification of ``document`` read for ``user``; one ``read`` trace when something was unread."""
    unread = list(
        Trace.objects.filter(document=document, event__in=Trace.NOTIFYING).exclude(reads__user=user).only("pk")
    )
    if not unread:
        return 0
    TraceRead.objects.bulk_create([TraceRead(trace=trace, user=user) for trace in unread], ignore_conflicts=True)
    save_trace(Event.READ, user=user, document=document, patient_id=document.patient_id)
    return len(unread)


@transaction.atomic
def mark_unit_read(*, user: User, care_unit: CareUnit) -> int:
    """Mark every notification of the care unit read for ``user`` (one ``read`` trace per document)."""
    unread = list(
        Trace.objects.filter(care_unit=care_unit, event__in=Trace.NOTIFYING)
        .exclude(reads__user=user)
        .select_related("document")
    )
    TraceRead.objects.bulk_create([TraceRead(trace=trace, user=user) for trace in unread], ignore_conflicts=True)
    for document in {trace.document for trace in unread if trace.document is not None}:
        save_trace(Event.READ, user=user, document=document, patient_id=document.patient_id)
    return len(unread)
