"""The DMP visibility of a document, as the DMP reports it."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest

from documents.models import Document
from documents.services.writing import audit_document
from dpi.models import AuditEvent, User


@transaction.atomic
def record_dmp_visibility(
    *,
    document: Document,
    invisible_to_patient: bool | None = None,
    invisible_to_legal_representatives: bool | None = None,
    acting_user: User,
    request: HttpRequest | None = None,
) -> Document:
    """The document was made visible (or invisible) in the DMP: its flags follow, so that a later
    version is sent the same way and the work list of invisible documents forgets it."""
    changes = {
        name: value
        for name, value in (
            ("invisible_to_patient", invisible_to_patient),
            ("invisible_to_legal_representatives", invisible_to_legal_representatives),
        )
        if value is not None and getattr(document, name) != value
    }
    if changes:
        before = {name: getattr(document, name) for name in changes}
        Document.objects.filter(pk=document.pk).update(**changes)
        for name, value in changes.items():
            setattr(document, name, value)
        audit_document(document, acting_user, AuditEvent.Change.DMP_VISIBILITY, request, before=before, after=changes)
    return document
