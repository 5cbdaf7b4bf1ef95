"""Review of the emergency accesses ("bris de glace", issue 15 §5): the data-protection officer reviews every
one (``patients.review_emergency_access``), a unit head those opened by the members of their care units
(``patients.review_unit_emergency_access``). Marking one reviewed records who and when, audited."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest

from dpi.models import AuditEvent, Membership, User
from dpi.selectors import user_care_units
from dpi.services import audit, stamp_once
from patients.models import EmergencyAccess

ALL_UNITS = "patients.review_emergency_access"
OWN_UNITS = "patients.review_unit_emergency_access"


def may_review(user: User) -> bool:
    return user.is_active and (user.has_perm(ALL_UNITS) or user.has_perm(OWN_UNITS))


def reviewable_accesses(user: User) -> QuerySet[EmergencyAccess]:
    """Every access for the DPO; for a unit head, those opened by someone who has (or had) a membership in one
    of the head's current care units; nothing for anyone else."""
    accesses = EmergencyAccess.objects.select_related("user", "patient", "reviewed_by")
    if user.is_active and user.has_perm(ALL_UNITS):
        return accesses
    if not may_review(user):
        return accesses.none()
    staff = Membership.objects.filter(user=OuterRef("user"), care_unit__in=user_care_units(user))
    return accesses.filter(Exists(staff))


def duration_label(access: EmergencyAccess) -> str:
    """``4 h``, ``1 h 30 min``, ``45 min``: from its start to its end."""
    minutes = max(0, round((access.expires_at - access.started_at).total_seconds() / 60))
    hours, minutes = divmod(minutes, 60)
    return (
        " ".join(part for part in (f"{hours} h" if hours else "", f"{minutes} min" if minutes else "") if part)
        or "0 min"
    )


def review_list(user: User, *, pending_only: bool, limit: int = 200) -> list[EmergencyAccess]:
    """Newest first, each with its ``duration``; ``pending_only``: those nobody has reviewed yet."""
    accesses = reviewable_accesses(user)
    if pending_only:
        accesses = accesses.filter(reviewed_at__isnull=True)
    found = list(accesses.order_by("-started_at", "-pk")[:limit])
    for access in found:
        access.duration = duration_label(access)
    return found


@transaction.atomic
def mark_reviewed(*, access: EmergencyAccess, user: User, request: HttpRequest | None = None) -> EmergencyAccess:
    locked = stamp_once(
        access, at="reviewed_at", by="reviewed_by", user=user, already="Cet accès d'urgence a déjà été revu."
    )
    audit(
        action=AuditEvent.Action.EMERGENCY_ACCESS, actor=user, request=request, obj=locked,
        patient_id=locked.patient_id, change=AuditEvent.Change.REVIEWED,
        detail={"opened_by": locked.user.get_username()},
    )  # fmt: skip
    return locked
