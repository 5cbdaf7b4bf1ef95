"""Write use cases on patient files: opening (audited), emergency access, grouping of visits.

The PAM feed's use cases are in :mod:`patients.feed`."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from dpi.models import AuditEvent, User
from dpi.services import audit
from patients.access import remember_audited_read
from patients.models import CareEpisode, EmergencyAccess, Episode, Patient
from patients.selectors import PatientAccess, may_break_glass, patient_access


@transaction.atomic
def open_patient_file(*, user: User, patient: Patient, request: HttpRequest | None = None) -> PatientAccess:
    """Decide access to a patient file and audit the opening, or the refusal."""
    access = patient_access(user, patient)
    audit(
        action=AuditEvent.Action.PATIENT_OPEN if access.allowed else AuditEvent.Action.PATIENT_REFUSED,
        actor=user,
        request=request,
        obj=patient,
        patient_id=patient.pk,
        emergency=access.emergency,
        detail={"reason": access.reason.value, "path": request.path if request else ""},
    )
    if access.allowed:
        remember_audited_read(request, patient)  # the page's fragments and frames are not audited again
    return access


@transaction.atomic
def start_emergency_access(
    *, user: User, patient: Patient, reason: str, request: HttpRequest | None = None
) -> EmergencyAccess:
    """Open a patient file outside one's care relationships, for BREAK_GLASS_HOURS, with a reason."""
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Le motif de l'accès d'urgence est obligatoire."), code="reason_required")
    if not may_break_glass(user):
        raise PermissionDenied(_("Votre rôle ne permet pas l'accès d'urgence."))
    access = EmergencyAccess.objects.create(
        user=user,
        patient=patient,
        reason=reason,
        expires_at=timezone.now() + timedelta(hours=settings.BREAK_GLASS_HOURS),
    )
    audit(
        action=AuditEvent.Action.EMERGENCY_ACCESS,
        actor=user,
        request=request,
        obj=patient,
        patient_id=patient.pk,
        emergency=True,
        detail={"reason": reason, "expires_at": access.expires_at.isoformat()},
    )
    return access


@transaction.atomic
def link_care_episode(
    *, episode: Episode, same_as: Episode | None, acting_user: User, request: HttpRequest | None = None
) -> Episode:
    """Manual grouping: ``episode`` belongs to the episode of care of ``same_as``, or to a new one of
    its own when ``same_as`` is None. The information/opposition follow the episode of care."""
    if same_as is not None and same_as.patient_id != episode.patient_id:
        raise ValidationError(_("Les deux venues doivent concerner le même patient."), code="other_patient")
    if same_as is not None and same_as.pk == episode.pk:
        raise ValidationError(_("Une venue ne peut être rattachée à elle-même."), code="same_visit")
    before = episode.care_episode_id
    if same_as is None:
        episode.care_episode = CareEpisode.objects.create(patient=episode.patient)
    else:
        if same_as.care_episode_id is None:
            same_as.care_episode = CareEpisode.objects.create(patient=same_as.patient)
            same_as.save(update_fields=["care_episode"])
        episode.care_episode = same_as.care_episode
    episode.save(update_fields=["care_episode"])
    CareEpisode.objects.filter(pk=before, visits__isnull=True).delete()
    audit(
        action=AuditEvent.Action.IDENTITY_CHANGE,
        actor=acting_user,
        request=request,
        obj=episode,
        patient_id=episode.patient_id,
        change=AuditEvent.Change.CHANGED,
        before={"care_episode": before},
        after={"care_episode": episode.care_episode_id},
        detail={"same_as": same_as.pk if same_as else None},
    )
    return episode


def record_surgical_activity(*, episode_id: int) -> bool:
    """The visit had surgery (an operative report of it was validated): the denominator of the operative
    report's indicators (docs/statistics.md). Never unset here: surgery done stays done. Whether it changed."""
    return bool(Episode.objects.filter(pk=episode_id, surgical=False).update(surgical=True))
