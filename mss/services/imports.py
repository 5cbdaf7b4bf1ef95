"""Manual import of an IHE_XDM archive: staged, matched by the user, imported or discarded."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from documents.cda import VersionStatus, parse_cda_header
from documents.models import Provenance
from documents.services import Integration, integrate_cda
from dpi.models import AuditEvent, User
from dpi.services import audit
from mss.models import PendingImport, Trace
from mss.services.common import save_trace
from mss.xdm import read_xdm
from patients.models import Patient
from patients.selectors import current_episode

Event = Trace.Event


# --- Manual import of an IHE_XDM archive -------------------------------------------------------------


@transaction.atomic
def stage_xdm_archive(*, data: bytes, name: str, acting_user: User) -> list[PendingImport]:
    """Check the archive and keep its CDA documents until the user picks the patient.

    Raises :class:`mss.xdm.InvalidArchive` (nothing stored) for a bad archive.
    """
    pending = []
    for document in read_xdm(data):
        header = parse_cda_header(document.data)
        pending.append(
            PendingImport.objects.create(
                user=acting_user, archive_name=name[:255], path=document.path[:255], cda=document.data,
                title=(header.title or header.type_label)[:250], metadata_ins=document.patient_ins,
            )
        )  # fmt: skip
    return pending


def record_import_refusal(*, name: str, reason: str, acting_user: User) -> Trace:
    return save_trace(Event.IMPORT_REFUSED, user=acting_user, detail={"archive": name[:255], "text": reason[:1000]})


def record_pending_refusal(*, pending: PendingImport, patient: Patient, reason: str, acting_user: User) -> Trace:
    """A staged document the user could not import into the chosen file (habilitation, identity, version)."""
    return save_trace(
        Event.IMPORT_REFUSED, user=acting_user, patient=patient,
        detail={"archive": pending.archive_name, "path": pending.path, "text": reason[:1000]},
    )  # fmt: skip


@transaction.atomic
def import_pending(
    *,
    pending: PendingImport,
    patient: Patient,
    acting_user: User,
    accept_identity_differences: bool = False,
    request: HttpRequest | None = None,
) -> Integration:
    """Integrate a staged CDA in the chosen patient's file with provenance MSSanté (documents' rules:
    duplicates and outdated versions refused, identity differences to confirm)."""
    episode = current_episode(patient)
    integration = integrate_cda(
        patient=patient, data=bytes(pending.cda), provenance=Provenance.MSS, acting_user=acting_user,
        episode=episode, accept_identity_differences=accept_identity_differences, request=request,
    )  # fmt: skip
    unit = episode.care_unit if episode else None
    if integration.status == VersionStatus.NEW_DOCUMENT and unit is not None:
        integration.document.care_unit = unit
        integration.document.save(update_fields=["care_unit"])
    save_trace(
        Event.IMPORTED, user=acting_user, patient=patient, document=integration.document, care_unit=unit,
        cda_id=integration.version.cda_id_root[:260],
        detail={"archive": pending.archive_name, "path": pending.path, "version": integration.version.version_number,
                "warnings": list(integration.warnings)},
    )  # fmt: skip
    if pending.refused_trace_id is not None:
        _refusal_filed(pending.refused_trace_id, integration, acting_user, request)
    pending.delete()
    return integration


def _refusal_filed(trace_pk: int, integration: Integration, acting_user: User, request: HttpRequest | None) -> None:
    """A document refused for its identity, filed by the identity-vigilance team: the refusal is handled."""
    refused = Trace.objects.select_for_update().get(pk=trace_pk)
    if refused.handled_at is not None:
        return
    refused.handled_at, refused.handled_by = timezone.now(), acting_user
    refused.save(update_fields=["handled_at", "handled_by"])
    audit(
        action=AuditEvent.Action.DOCUMENT_CHANGE, actor=acting_user, request=request, obj=refused,
        patient_id=integration.document.patient_id,
        change=AuditEvent.Change.IDENTITY_REFUSAL_HANDLED, detail={"error_code": refused.error_code,
                "filed_as": integration.document.pk},
    )  # fmt: skip


@transaction.atomic
def discard_pending(*, pending: PendingImport, acting_user: User) -> None:
    if pending.user_id != acting_user.pk:
        raise ValidationError("Import d'un autre utilisateur.")
    pending.delete()
