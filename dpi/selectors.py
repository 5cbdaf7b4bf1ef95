"""Read queries of the foundation: care units of a user, the current one; the jobs a user launched."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from dpi.models import CareUnit, Job, Membership, User

SESSION_CARE_UNIT = "current_care_unit_id"


def active_memberships(user: User) -> QuerySet[Membership]:
    today = timezone.localdate()
    return Membership.objects.filter(user=user).filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))


def user_care_units(user: User) -> QuerySet[CareUnit]:
    return (
        CareUnit.objects.filter(memberships__in=active_memberships(user), active=True)
        .select_related("site")
        .distinct()
        .order_by("site__name", "name")
    )


def current_care_unit(request: HttpRequest) -> CareUnit | None:
    """The care unit the user works in now: the one chosen in this session, else the first.

    Computed once per request (the header and the page both show it).
    """
    if not hasattr(request, "_current_care_unit"):
        units = list(user_care_units(request.user))
        chosen = request.session.get(SESSION_CARE_UNIT)
        request._current_care_unit = next((u for u in units if u.pk == chosen), units[0] if units else None)
    return request._current_care_unit


def launched_jobs(user: User, kind: Job.Kind, limit: int = 5) -> list[Job]:
    """The last jobs of ``kind`` that ``user`` launched, newest first (the panel beside the launch button)."""
    return list(Job.objects.filter(acting_user=user, kind=kind)[:limit])
