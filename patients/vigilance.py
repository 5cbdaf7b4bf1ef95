"""Identity vigilance, the patients' side: the possible duplicates (same birth name, first birth first name and
birth date, as the search marks them) and the audited refusal of a user without the right. The work list that
shows them beside the MSSanté documents refused for their identity is ``mss/views_vigilance.py``."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest

from dpi.models import AuditEvent
from dpi.services import audit
from patients.models import Patient

DUPLICATE_GROUPS_SHOWN = 50


def refuse(request: HttpRequest, reason: str, *, obj: object = None, patient_id: int | None = None) -> None:
    """A user without the right is refused: one audit row (with the patient when the URL names one), then 403."""
    match = getattr(request, "resolver_match", None)
    audit(
        action=AuditEvent.Action.PATIENT_REFUSED, actor=request.user, request=request, obj=obj, patient_id=patient_id,
        detail={"reason": reason, "path": request.path, "view": match.view_name if match else ""},
    )  # fmt: skip
    raise PermissionDenied


@dataclass(frozen=True)
class DuplicatePair:
    first: Patient
    second: Patient


def possible_duplicates(limit: int = DUPLICATE_GROUPS_SHOWN) -> list[DuplicatePair]:
    """Pairs of identities (not merged) with the same birth name, first birth first name and birth date compared
    as keys: what the search marks ``possible_duplicate`` (patients.selectors.filter_identities)."""
    groups = list(
        Patient.objects.filter(merged_into__isnull=True, birth_date__isnull=False)
        .exclude(birth_name_key="")
        .values("birth_name_key", "first_name_key", "birth_date")
        .annotate(count=Count("pk"))
        .filter(count__gt=1)
        .order_by("birth_name_key", "first_name_key", "birth_date")[:limit]
    )
    pairs = []
    for group in groups:
        group.pop("count")
        identities = list(Patient.objects.filter(merged_into__isnull=True, **group).order_by("pk")[:10])
        pairs += [DuplicatePair(a, b) for i, a in enumerate(identities) for b in identities[i + 1 :]]
    return pairs
