"""Read queries on patients, including the one habilitation rule every view and endpoint uses.

A user opens a patient file only through:

* a care relationship: an episode of the patient in a care unit where the user has a
  membership whose role has the ``care_unit`` scope;
* a role that grants more: scope ``site`` (episodes anywhere on the unit's site) or
  ``legal_entity`` (every patient of the establishment);
* a running emergency access ("bris de glace") opened by the user on that patient.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from dpi.models import CareUnit, LegalEntity, Role, User
from dpi.selectors import active_memberships
from patients.models import EmergencyAccess, Episode, Patient
from patients.names import name_key


class AccessReason(enum.Enum):
    CARE_RELATIONSHIP = "care_relationship"
    ROLE = "role"
    EMERGENCY = "emergency"
    NONE = "none"


@dataclass(frozen=True)
class PatientAccess:
    reason: AccessReason
    emergency_access: EmergencyAccess | None = None

    @property
    def allowed(self) -> bool:
        return self.reason is not AccessReason.NONE

    @property
    def emergency(self) -> bool:
        return self.reason is AccessReason.EMERGENCY


@dataclass(frozen=True)
class _Habilitations:
    """Episode filters derived from a user's memberships."""

    care_units: frozenset[int]
    sites: frozenset[int]
    legal_entities: frozenset[int]

    @property
    def care_filter(self) -> Q:
        return Q(care_unit_id__in=self.care_units)

    @property
    def role_filter(self) -> Q:
        return Q(care_unit__site_id__in=self.sites) | Q(care_unit__site__legal_entity_id__in=self.legal_entities)

    @property
    def any_filter(self) -> Q:
        return self.care_filter | self.role_filter


def _habilitations(user: User) -> _Habilitations:
    memberships = list(active_memberships(user).select_related("role", "care_unit__site"))
    by_scope: dict[str, set[int]] = {scope: set() for scope in Role.Scope.values}
    for membership in memberships:
        unit = membership.care_unit
        target = {
            Role.Scope.CARE_UNIT: unit.pk,
            Role.Scope.SITE: unit.site_id,
            Role.Scope.LEGAL_ENTITY: unit.site.legal_entity_id,
        }[Role.Scope(membership.role.scope)]
        by_scope[membership.role.scope].add(target)
    return _Habilitations(
        care_units=frozenset(by_scope[Role.Scope.CARE_UNIT]),
        sites=frozenset(by_scope[Role.Scope.SITE]),
        legal_entities=frozenset(by_scope[Role.Scope.LEGAL_ENTITY]),
    )


def _running_emergency_accesses(user: User) -> QuerySet[EmergencyAccess]:
    return EmergencyAccess.objects.filter(user=user, expires_at__gt=timezone.now())


def patient_access(user: User, patient: Patient) -> PatientAccess:
    """Why ``user`` may open ``patient``'s file, or :attr:`AccessReason.NONE`."""
    habilitations = _habilitations(user)
    episodes = Episode.objects.filter(patient=patient, cancelled=False)
    if episodes.filter(habilitations.care_filter).exists():
        return PatientAccess(AccessReason.CARE_RELATIONSHIP)
    if episodes.filter(habilitations.role_filter).exists():
        return PatientAccess(AccessReason.ROLE)
    emergency = _running_emergency_accesses(user).filter(patient=patient).first()
    if emergency is not None:
        return PatientAccess(AccessReason.EMERGENCY, emergency)
    return PatientAccess(AccessReason.NONE)


def accessible_patients(user: User) -> QuerySet[Patient]:
    """Every patient whose file ``user`` may open (same rule as :func:`patient_access`)."""
    habilitations = _habilitations(user)
    through_care = Exists(Episode.objects.filter(habilitations.any_filter, patient=OuterRef("pk"), cancelled=False))
    through_emergency = Exists(_running_emergency_accesses(user).filter(patient=OuterRef("pk")))
    return Patient.objects.filter(through_care | through_emergency)


MAX_NAME_WORDS = 6  # a name and first names typed in one field: 2 x 6 alternatives at most


def _names_start_with(key: str) -> Q:
    return Q(birth_name_key__startswith=key) | Q(used_name_key__startswith=key)


def _name_query(text: str) -> Q:
    """What "Nom, prénom" means: the words typed, in either order, split once into the start of the birth
    or used name and the start of the birth first names (either part may be absent); each part compared
    as a key (patients/names.py), so accents, apostrophes, hyphens, spaces and case make no difference.

    ``d'arc jeanne``, ``DARC Jeanne``, ``Jeanne d'Arc`` and ``jeanne`` all find D'ARC JEANNE; ``le goff
    marie`` finds LE GOFF Marie; ``martin jean pierre`` finds MARTIN Jean-Pierre. Every alternative is a
    prefix comparison an index serves (``patient_*_key``), so the search never reads the whole table.
    """
    words = [key for word in text.split()[:MAX_NAME_WORDS] if (key := name_key(word))]
    if not words:
        return Q(pk__in=[])
    query = Q(pk__in=[])
    splits = {("".join(words[:cut]), "".join(words[cut:])) for cut in range(len(words) + 1)}
    for name, first in splits | {(first, name) for name, first in splits}:
        condition = _names_start_with(name) if name else Q()
        if first:
            condition &= Q(first_names_key__startswith=first)
        query |= condition
    return query


def filter_identities(
    queryset: QuerySet[Patient],
    *,
    name: str = "",
    birth_date: date | None = None,
    ipp: str = "",
    ins: str = "",
) -> QuerySet[Patient]:
    """The identities of ``queryset`` matching every criterion given, ordered by birth name and first names,
    each with ``possible_duplicate``: another identity (not merged) has the same birth name, first birth
    first name and birth date, compared as keys (so HÉLÈNE and HELENE are homonyms).

    Criteria: the start of the names (see :func:`_name_query`), the birth date (alone or with the first
    letters of a name, REM INS/va1.02), the IPP, the INS matricule (checked by the caller, va1.41).
    """
    if name:
        queryset = queryset.filter(_name_query(name))
    if birth_date:
        queryset = queryset.filter(birth_date=birth_date)
    if ipp:
        queryset = queryset.filter(ipp=ipp)
    if ins:
        queryset = queryset.filter(ins=ins)
    homonyms = Patient.objects.filter(
        merged_into__isnull=True,
        birth_date=OuterRef("birth_date"),
        birth_name_key=OuterRef("birth_name_key"),
        first_name_key=OuterRef("first_name_key"),
    ).exclude(pk=OuterRef("pk"))
    return queryset.annotate(possible_duplicate=Exists(homonyms)).order_by(
        "birth_name_key", "first_names_key", "birth_date", "pk"
    )


def search_patients(
    *,
    name: str = "",
    birth_date: date | None = None,
    ipp: str = "",
    ins: str = "",
    limit: int = 50,
) -> QuerySet[Patient]:
    """Identity search of the page: identities not merged into another, :func:`filter_identities`.

    The search shows identities so that a user can find a patient; opening the file goes
    through :func:`patient_access`.
    """
    identities = Patient.objects.filter(merged_into__isnull=True)
    return filter_identities(identities, name=name, birth_date=birth_date, ipp=ipp, ins=ins)[:limit]


def current_episode(patient: Patient) -> Episode | None:
    """The open episode (admitted, not discharged), else the latest one."""
    episodes = patient.episodes.filter(cancelled=False).select_related("care_unit__site")
    return episodes.filter(discharged_at__isnull=True).first() or episodes.first()


def may_break_glass(user: User) -> bool:
    """Whether one of the user's roles allows emergency access."""
    return active_memberships(user).filter(role__may_break_glass=True).exists()


def patients_in_care_unit(care_unit: CareUnit, limit: int = 100) -> list[Episode]:
    """Open episodes of a care unit (patients currently taken care of), newest first."""
    return list(
        Episode.objects.filter(care_unit=care_unit, cancelled=False, discharged_at__isnull=True)
        .select_related("patient")
        .order_by("-admitted_at")[:limit]
    )


def episodes_with_movements(patient: Patient) -> list[Episode]:
    """Every visit of the patient, newest first, with its movements and units (no N+1)."""
    return list(
        patient.episodes.select_related("care_unit__site", "care_episode")
        .prefetch_related("movements__medical_unit", "movements__nursing_unit")
        .order_by("-admitted_at", "-pk")
    )


def legal_entity_for(authority: str) -> LegalEntity | None:
    """The structure an identity belongs to: by the FINESS of its IPP authority, else the only one there is."""
    entity = (
        LegalEntity.objects.filter(Q(finess_ej=authority) | Q(sites__finess_eg=authority)).first()
        if authority
        else None
    )
    if entity is None:
        entities = list(LegalEntity.objects.all()[:2])
        entity = entities[0] if len(entities) == 1 else None
    return entity
