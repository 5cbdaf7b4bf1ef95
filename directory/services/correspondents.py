"""Naming a patient's correspondents (general practitioner, referring doctor, others), audited."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest

from directory.models import Correspondent, PatientCorrespondent
from dpi.models import AuditEvent, User
from dpi.services import audit
from patients.models import Patient

SINGLE_ROLES = (PatientCorrespondent.Role.TREATING, PatientCorrespondent.Role.REFERRING)


@transaction.atomic
def name_patient_correspondent(
    *,
    patient: Patient,
    correspondent: Correspondent,
    role: str,
    acting_user: User,
    request: HttpRequest | None = None,
) -> PatientCorrespondent:
    """Name ``correspondent`` in ``role`` for the patient: a new general practitioner or referring doctor
    replaces the previous one; a correspondent holds one role per patient (naming it again moves it)."""
    PatientCorrespondent.Role(role)
    clash = Q(correspondent=correspondent)
    if role in SINGLE_ROLES:
        clash |= Q(role=role)
    replaced = PatientCorrespondent.objects.filter(clash, patient=patient)
    previous = [(link.role, link.correspondent_id) for link in replaced]
    replaced.delete()
    link = PatientCorrespondent.objects.create(patient=patient, correspondent=correspondent, role=role)
    _audit(
        patient,
        acting_user,
        request,
        AuditEvent.Change.NAMED,
        role=role,
        correspondent=correspondent,
        replaced=previous,
    )
    return link


@transaction.atomic
def remove_patient_correspondent(
    *, link: PatientCorrespondent, acting_user: User, request: HttpRequest | None = None
) -> None:
    """The patient no longer names this correspondent (documents already written keep their recipients)."""
    link.delete()
    _audit(
        link.patient, acting_user, request, AuditEvent.Change.REMOVED, role=link.role, correspondent=link.correspondent
    )


def _audit(
    patient: Patient, user: User, request: HttpRequest | None, change: AuditEvent.Change, *, role: str,
    correspondent: Correspondent, replaced: list[tuple[str, int]] | None = None,
) -> None:  # fmt: skip
    """Named: after is the new link, before the links it replaced; removed: before is the link removed."""
    link: dict[str, object] = {"role": role, "correspondent": correspondent.pk}
    before: dict[str, object] | None
    after: dict[str, object] | None
    if change == AuditEvent.Change.REMOVED:
        before, after = link, None
    else:
        before = {"replaced": [{"role": role, "correspondent": pk} for role, pk in replaced]} if replaced else None
        after = link
    audit(
        action=AuditEvent.Action.CORRESPONDENT_CHANGE,
        actor=user,
        request=request,
        obj=patient,
        patient_id=patient.pk,
        change=change,
        before=before,
        after=after,
        detail={**link, "rpps": correspondent.rpps},
    )
