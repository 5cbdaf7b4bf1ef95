"""Files received outside the DPI that are not CDA documents (a PDF letter mailed by MSSanté, a scan), filed
by hand in the patient's file (the DSR's "documents non CDA intégrés manuellement", counted by ``stats``).

The file is kept as it came (a version with its PDF and no CDA), never rendered by the DPI: the viewer shows
it as any PDF, in the browser's own viewer. Only PDF files are accepted: the type is checked on the bytes
(``%PDF-`` header, ``%%EOF`` trailer), not on the name, and the size is capped.
"""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from documents.models import Document, DocumentVersion, Provenance, Status
from documents.services import audit_document
from documents.types import SEGUR_TYPES
from dpi.models import AuditEvent, User
from patients.access import require_access
from patients.models import Episode, Patient

MAX_FILE_BYTES = 20 * 1024 * 1024
PDF_HEADER = b"%PDF-"
PDF_TRAILER = b"%%EOF"


def check_pdf(data: bytes) -> None:
    """A PDF by its bytes, within the size cap; ``ValidationError`` (French) otherwise."""
    if len(data) > MAX_FILE_BYTES:
        raise ValidationError(_("Fichier trop volumineux (%(max)d octets au plus).") % {"max": MAX_FILE_BYTES})
    if not data.startswith(PDF_HEADER) or PDF_TRAILER not in data[-1024:]:
        raise ValidationError(_("Ce fichier n'est pas un PDF complet : seuls les documents PDF sont acceptés."))


@transaction.atomic
def integrate_file(
    *,
    patient: Patient,
    data: bytes,
    title: str,
    type_code: str,
    received_by_mss: bool,
    acting_user: User,
    episode: Episode | None = None,
    request: HttpRequest | None = None,
) -> Document:
    """File a received PDF in the patient's file, provenance MSSanté when it came by MSSanté."""
    require_access(acting_user, patient)
    check_pdf(data)
    segur = SEGUR_TYPES.get(type_code)
    if segur is None:
        raise ValidationError(_("Type de document inconnu : %(code)s") % {"code": type_code})
    unit = episode.care_unit if episode else None
    document = Document.objects.create(
        patient=patient,
        episode=episode,
        set_id=f"2.25.{uuid.uuid4().int}",
        type_code=type_code,
        type_label=segur.label,
        title=title,
        act_date=timezone.now(),
        provenance=Provenance.MSS if received_by_mss else Provenance.MANUAL,
        status=Status.VALIDATED,
        care_unit=unit,
        finess_eg=unit.site.finess_eg if unit else "",
    )
    document.current_version = DocumentVersion.objects.create(
        document=document, version_number=1, cda_id_root=f"2.25.{uuid.uuid4().int}", pdf=data,
        validated_at=timezone.now(), validated_by=acting_user,
    )  # fmt: skip
    document.save(update_fields=["current_version"])
    audit_document(
        document,
        acting_user,
        AuditEvent.Change.FILE_INTEGRATED,
        request,
        provenance=document.provenance,
        size=len(data),
    )
    return document
