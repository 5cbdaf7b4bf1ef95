"""Applying the PAM feed: identities, visits, movements, merges (write use cases called by patients/hl7.py).

Each function runs inside the handler's transaction and collects what it could not apply in
an :class:`Outcome`: notes (applied or ignored, AA) and errors (answered AE after the rest
of the message has been applied). See docs/pam.md for the outcome of every case.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q

from dpi.hl7.errors import ErrorCode, ErrorDetail, HL7ProcessingError
from dpi.hl7.models import Message
from dpi.models import AuditEvent, CareUnit, LegalEntity, Site
from dpi.services import audit
from dpi.validators import nir_key
from patients.ins import INS_AUTHORITIES, TEST_INS_OIDS
from patients.models import CareEpisode, DmpStatus, Episode, IdentityEvent, IdentityStatus, Movement, Patient
from patients.pam import DmpConsent, Identifier, Identity, MovementData, UnitRef, Visit
from patients.selectors import legal_entity_for

KINDS = {
    "I": Episode.Kind.INPATIENT,
    "R": Episode.Kind.AMBULATORY,
    "O": Episode.Kind.OUTPATIENT,
    "V": Episode.Kind.OUTPATIENT,
    "E": Episode.Kind.EMERGENCY,
}


@dataclass
class Outcome:
    notes: list[str] = field(default_factory=list)
    errors: list[ErrorDetail] = field(default_factory=list)
    units: dict[tuple[str, str], CareUnit] = field(default_factory=dict)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def error(self, code: int, text: str, location: str) -> None:
        self.errors.append(ErrorDetail(code=str(code), text=text, location=location))


# --- Identities ---------------------------------------------------------------------------


def _legal_entity_for(identifier: Identifier | None) -> LegalEntity | None:
    return legal_entity_for(identifier.authority if identifier else "")


def _ins_problem(ins: Identifier, ipp: Identifier | None) -> str:
    """Why an INS received with PID-32 = VALI cannot be kept, or an empty string."""
    oid = ins.authority
    if oid not in INS_AUTHORITIES:
        return f"OID d'INS inconnu : {oid or '(vide)'}."
    if oid in TEST_INS_OIDS and not ((entity := _legal_entity_for(ipp)) and entity.accepts_test_ins):
        return f"OID d'INS de test ({oid}) refusé : la structure n'est pas configurée pour les tests."
    value = ins.value.upper()
    if len(value) != 15 or not value[:13].replace("A", "").replace("B", "").isdigit() or not value[13:].isdigit():
        return f"Matricule INS mal formé : {ins.value}."
    if nir_key(value[:13]) != value[13:]:
        return f"Clé du matricule INS invalide : {ins.value}."
    return ""


def _identity_values(identity: Identity, outcome: Outcome, current: Patient | None) -> dict[str, Any]:
    """The identity fields to store, applying the INS rules of PAM.fr and the status mapping."""
    status_code = identity.reliability_status
    ins, ins_oid = "", ""
    if identity.ins is not None and not identity.ins.is_null:
        if status_code != "VALI":
            outcome.note(f"INS ignoré : PID-32 vaut « {status_code or 'vide'} » et non VALI.")
        elif problem := _ins_problem(identity.ins, identity.ipp):
            outcome.error(ErrorCode.DATA_TYPE, problem + " INS non enregistré.", "PID^1^3")
        else:
            ins, ins_oid = identity.ins.value.upper(), identity.ins.authority
    elif current is not None and status_code == "VALI" and current.ins:
        ins, ins_oid = current.ins, current.ins_oid  # an INS is removed only by A47
    if status_code == "VALI":
        status = IdentityStatus.QUALIFIEE if ins else IdentityStatus.VALIDEE
    elif identity.acquisition_mode == "INSI":
        status = IdentityStatus.RECUPEREE
    else:
        status = IdentityStatus.PROVISOIRE
    values: dict[str, Any] = {
        "ins": ins,
        "ins_oid": ins_oid,
        "identity_status": status,
        "birth_name": identity.birth_name,
        "first_names": identity.first_names,
        "birth_date": identity.birth_date,
        "sex": identity.sex,
        "birth_place_insee": identity.birth_place_insee,
        "reliability_codes": " ".join(identity.reliability)[:100],
        "acquisition_mode": identity.acquisition_mode[:10],
        "insi_called_at": identity.insi_called_at,
        "id_document": identity.id_document[:4],
    }
    if identity.used_name is not None:
        values["used_name"] = identity.used_name
        values["used_first_name"] = identity.used_first_name or ""
    return values


def _changes(patient: Patient, values: dict[str, Any]) -> dict[str, list[str]]:
    return {
        name: [str(getattr(patient, name)), str(value)]
        for name, value in values.items()
        if getattr(patient, name) != value
    }


def find_patient(identifier: Identifier) -> Patient | None:
    return Patient.objects.filter(ipp=identifier.value, ipp_authority=identifier.authority).first()


def upsert_identity(identity: Identity, *, message: Message, outcome: Outcome) -> Patient:
    """Create or update the identity named by the IPP of PID-3 (an absorbed identity leads to its survivor)."""
    if identity.ipp is None:
        raise HL7ProcessingError(ErrorCode.REQUIRED_FIELD_MISSING, "PID-3 sans IPP (type PI).", location="PID^1^3")
    if not identity.birth_name:
        raise HL7ProcessingError(
            ErrorCode.REQUIRED_FIELD_MISSING, "PID-5 sans nom de naissance (type L).", location="PID^1^5"
        )
    patient = find_patient(identity.ipp)
    if patient is not None and patient.merged_into_id:
        outcome.note(f"IPP {patient.ipp} fusionné : mise à jour appliquée à l'identité conservée.")
        patient = patient.merged_into
    values = _identity_values(identity, outcome, patient)
    if patient is None:
        patient = Patient.objects.create(ipp=identity.ipp.value, ipp_authority=identity.ipp.authority, **values)
        _record_identity_event(
            patient, IdentityEvent.Kind.CREATED, message, {k: ["", str(v)] for k, v in values.items()}
        )
        return patient
    changes = _changes(patient, values)
    if changes:
        for name, value in values.items():
            setattr(patient, name, value)
        patient.save()
        _record_identity_event(patient, IdentityEvent.Kind.UPDATED, message, changes)
    return patient


def _record_identity_event(
    patient: Patient, kind: str, message: Message, changes: dict[str, Any], note: str = ""
) -> None:
    IdentityEvent.objects.create(patient=patient, kind=kind, message=message, changes=changes, note=note[:300])
    merge = kind in (IdentityEvent.Kind.MERGED, IdentityEvent.Kind.ABSORBED)  # changes name both identities
    audit(
        action=AuditEvent.Action.IDENTITY_CHANGE,
        obj=patient,
        patient_id=patient.pk,
        change=AuditEvent.Change.ADDED if kind == IdentityEvent.Kind.CREATED else AuditEvent.Change.CHANGED,
        before=None if merge else {name: pair[0] for name, pair in changes.items()},
        after=None if merge else {name: pair[1] for name, pair in changes.items()},
        detail={"kind": kind, "message": message.pk, **({"changes": changes} if merge else {})},
    )


def apply_dmp_status(patient: Patient, consent: DmpConsent | None) -> None:
    """ZFA-1..3: the last known DMP status (not historised)."""
    if consent is None or consent.dmp_status not in DmpStatus.values:
        return
    known = (patient.dmp_status, patient.dmp_status_at, patient.dmp_closed_at)
    if known == (consent.dmp_status, consent.dmp_status_at, consent.dmp_closed_at):
        return
    patient.dmp_status = consent.dmp_status
    patient.dmp_status_at = consent.dmp_status_at
    patient.dmp_closed_at = consent.dmp_closed_at
    patient.save(update_fields=["dmp_status", "dmp_status_at", "dmp_closed_at", "updated_at"])


def remove_ins(*, former: Identifier, identity: Identity, message: Message, outcome: Outcome) -> Patient | None:
    """A47 with an INS in MRG-1: the identity holding it loses it, or takes the new INS PID-3 carries.

    The PID is applied once (its notes and errors once in the ACK); status from PID-32.
    """
    patient = Patient.objects.filter(ins=former.value.upper(), merged_into__isnull=True).first()
    if patient is None and identity.ipp is not None:
        patient = find_patient(identity.ipp)
    if patient is None:
        outcome.note(f"INS {former.value} inconnu : rien à supprimer.")
        return None
    values = _identity_values(identity, outcome, None)  # a valid new INS in PID-3 takes the former's place
    if values["ins"] == former.value.upper():
        values.update(ins="", ins_oid="")
    if not values["ins"] and values["identity_status"] == IdentityStatus.QUALIFIEE:
        values["identity_status"] = IdentityStatus.VALIDEE
    changes = _changes(patient, values)
    if not changes:  # a replay, or a removal already applied
        return patient
    for name, value in values.items():
        setattr(patient, name, value)
    patient.save()
    kind = IdentityEvent.Kind.UPDATED if values["ins"] else IdentityEvent.Kind.INS_REMOVED
    _record_identity_event(patient, kind, message, changes)
    return patient


def change_ipp(*, former: Identifier, identity: Identity, message: Message, outcome: Outcome) -> Patient | None:
    """A47 with an IPP in MRG-1: the identity takes the new IPP of PID-3."""
    patient = find_patient(former)
    if patient is None:
        outcome.note(f"IPP {former.value} inconnu : identifiant non modifié.")
        return None
    new = identity.ipp
    if new is None:
        raise HL7ProcessingError(ErrorCode.REQUIRED_FIELD_MISSING, "PID-3 sans nouvel IPP.", location="PID^1^3")
    if find_patient(new) is not None:
        raise HL7ProcessingError(
            ErrorCode.APPLICATION_ERROR,
            f"Le nouvel IPP {new.value} existe déjà : utiliser une fusion (A40).",
            location="PID^1^3",
        )
    changes = {"ipp": [patient.ipp, new.value], "ipp_authority": [patient.ipp_authority, new.authority]}
    patient.ipp, patient.ipp_authority = new.value, new.authority
    patient.save(update_fields=["ipp", "ipp_authority", "updated_at"])
    _record_identity_event(patient, IdentityEvent.Kind.IDENTIFIER_CHANGED, message, changes)
    return patient


def merge_identities(*, survivor: Patient, absorbed: Patient, message: Message) -> None:
    """A40: the absorbed identity's visits (with their consents and care episodes) move to the survivor."""
    if absorbed.pk == survivor.pk:
        return
    moved = list(absorbed.episodes.values_list("visit_number", flat=True))
    absorbed.episodes.update(patient=survivor)
    absorbed.care_episodes.update(patient=survivor)
    absorbed.merged_into = survivor
    absorbed.save(update_fields=["merged_into", "updated_at"])
    Patient.objects.filter(merged_into=absorbed).update(merged_into=survivor)
    detail = {"absorbed": [absorbed.pk, absorbed.ipp], "survivor": [survivor.pk, survivor.ipp], "visits": moved}
    _record_identity_event(survivor, IdentityEvent.Kind.MERGED, message, detail, f"IPP {absorbed.ipp} absorbé")
    _record_identity_event(absorbed, IdentityEvent.Kind.ABSORBED, message, detail, f"fusionné dans {survivor.ipp}")


# --- Visits and movements -----------------------------------------------------------------


def _site_for(finess: str) -> Site | None:
    site = Site.objects.filter(finess_eg=finess).first() if finess else None
    if site is None and finess:
        site = Site.objects.filter(legal_entity__finess_ej=finess).order_by("pk").first()
    if site is None and Site.objects.count() == 1:
        site = Site.objects.first()
    return site


# Care units found by UF code and FINESS, kept by the listener's process: most movements name one of a few
# units, and the structure changes rarely. Forgotten whenever a unit or a site is saved or deleted in this
# process (signals connected in PatientsConfig.ready()); a change made by another process (the admin) is
# seen within UNIT_CACHE_SECONDS.
UNIT_CACHE_SECONDS = 60.0
_unit_cache: dict[tuple[str, str], tuple[float, CareUnit]] = {}


def forget_care_units(**signal: object) -> None:
    """Empty the care unit cache (receiver of the structure's ``post_save`` and ``post_delete``)."""
    _unit_cache.clear()


def resolve_care_unit(unit: UnitRef | None, outcome: Outcome, location: str) -> CareUnit | None:
    """The care unit of a UF code; an unknown UF of a known site is created (and noted).

    Resolved once per message and code (ZBE-7 and ZBE-8 usually name the same UF), and found in the
    process's cache when it was found less than ``UNIT_CACHE_SECONDS`` ago.
    """
    if unit is None:
        return None
    key = (unit.code, unit.finess)
    if key not in outcome.units:
        outcome.units[key] = _cached_unit(key) or _find_or_create_unit(unit, outcome, location)
    return outcome.units[key]


def _cached_unit(key: tuple[str, str]) -> CareUnit | None:
    found_at, unit = _unit_cache.get(key, (0.0, None))
    return unit if time.monotonic() - found_at < UNIT_CACHE_SECONDS else None


def _find_or_create_unit(unit: UnitRef, outcome: Outcome, location: str) -> CareUnit:
    candidates = list(CareUnit.objects.filter(code=unit.code).select_related("site"))
    found = next((c for c in candidates if c.site.finess_eg == unit.finess), None) or next(iter(candidates), None)
    if found is not None:
        _unit_cache[(unit.code, unit.finess)] = (time.monotonic(), found)
        return found
    site = _site_for(unit.finess)
    if site is None:
        raise HL7ProcessingError(
            ErrorCode.APPLICATION_ERROR,
            f"UF {unit.code} inconnue et site {unit.finess or '(non précisé)'} inconnu : créer le site dans "
            "l'administration puis rejouer le message.",
            location=location,
        )
    outcome.note(f"UF {unit.code} inconnue : créée sur le site {site.finess_eg}, à compléter.")
    return CareUnit.objects.create(site=site, code=unit.code, name=unit.label or f"UF {unit.code}")


def _care_episode_for(patient: Patient, nda: str, kind: str, admitted_at: datetime | None) -> int:
    """The id of the episode of care of a new visit (docs/decisions.md): that of the same NDA, or of the visit
    a follow-up consultation shortly follows; otherwise a new episode of care's."""
    visits = Episode.objects.filter(patient=patient, cancelled=False, care_episode__isnull=False)
    if settings.CARE_EPISODE_BY_NDA and nda:
        same_nda = visits.filter(nda=nda).values_list("care_episode_id", flat=True).first()
        if same_nda is not None:
            return same_nda
    days = settings.CARE_EPISODE_FOLLOW_UP_DAYS
    if days and kind == Episode.Kind.OUTPATIENT and admitted_at is not None:
        previous = (
            visits.filter(admitted_at__lt=admitted_at)
            .filter(Q(discharged_at__isnull=True) | Q(discharged_at__gte=admitted_at - timedelta(days=days)))
            .order_by("-admitted_at")
            .values_list("care_episode_id", flat=True)
            .first()
        )
        if previous is not None:
            return previous
    return CareEpisode.objects.create(patient=patient).pk


@dataclass
class VisitState:
    """A visit being applied and its movements, read once: the caller saves the visit (once), after the
    movement has settled its responsible unit (:func:`settle`).

    ``movements`` is empty for a visit not saved yet (``new``): it has none.
    """

    episode: Episode
    movements: list[Movement]
    new: bool = False

    def movement(self, data: MovementData | None) -> Movement | None:
        """The movement named by ZBE-1."""
        if data is None:
            return None
        return next((m for m in self.movements if m.movement_id == data.movement_id), None)


def visit_state(episode: Episode) -> VisitState:
    """A known visit with its movements (one query)."""
    return VisitState(episode, list(episode.movements.select_related("medical_unit")))


def find_visit(visit: Visit) -> Episode | None:
    return Episode.objects.filter(visit_number=visit.visit_number, visit_authority=visit.visit_authority).first()


def upsert_visit(
    *,
    patient: Patient,
    visit: Visit,
    identity: Identity,
    unit: CareUnit | None,
    outcome: Outcome,
    create_note: str = "",
) -> VisitState:
    """The visit of PV1-19, made when unknown (whatever the event: out-of-order messages).

    Updated, or made, in memory only: the caller saves it once, after applying the movement.
    """
    episode = find_visit(visit)
    kind = KINDS.get(visit.patient_class, Episode.Kind.INPATIENT)
    if episode is not None and episode.patient_id != patient.pk and episode.patient.merged_into_id != patient.pk:
        raise HL7ProcessingError(
            ErrorCode.APPLICATION_ERROR,
            f"La venue {visit.visit_number} appartient à un autre patient (IPP {episode.patient.ipp}).",
            location="PV1^1^19",
        )
    if episode is None:
        if unit is None and visit.lodging_unit:
            unit = resolve_care_unit(UnitRef(visit.lodging_unit, "", ""), outcome, "PV1^1^3")
        if unit is None:
            raise HL7ProcessingError(
                ErrorCode.REQUIRED_FIELD_MISSING, "Aucune UF (ZBE-7, ZBE-8 ou PV1-3) pour la venue.", location="ZBE^1^7"
            )
        if create_note:
            outcome.note(create_note)
        episode = Episode(
            patient=patient,
            visit_number=visit.visit_number,
            visit_authority=visit.visit_authority,
            nda=identity.nda,
            kind=kind,
            care_unit=unit,
            admitted_at=visit.admitted_at,
            discharged_at=visit.discharged_at,
            care_episode_id=_care_episode_for(patient, identity.nda, kind, visit.admitted_at),
        )
        return VisitState(episode, [], new=True)
    episode.patient = patient
    episode.kind = kind
    episode.nda = identity.nda or episode.nda
    if unit is not None:
        episode.care_unit = unit
    if visit.admitted_at:
        episode.admitted_at = visit.admitted_at
    return visit_state(episode)


def record_movement(
    *,
    state: VisitState,
    data: MovementData,
    trigger: str,
    medical: CareUnit | None,
    nursing: CareUnit | None,
    message: Message,
) -> Movement:
    """Insert (or, for a replayed or repeated insert, refresh) the movement named by ZBE-1.

    A visit not saved yet is saved first (settled on this movement, its only one)."""
    if state.new:
        state.episode.care_unit = medical or state.episode.care_unit
        state.episode.save()
    movement = state.movement(data)
    if movement is None:
        movement = Movement(episode=state.episode, movement_id=data.movement_id)
        state.movements.append(movement)
    movement.trigger = trigger
    movement.nature = data.nature[:5]
    movement.started_at = data.started_at
    movement.medical_unit = medical
    movement.nursing_unit = nursing
    movement.cancelled = False
    movement.message = message
    movement.save()
    return movement


def settle(state: VisitState) -> Episode:
    """The responsible unit is that of the latest movement in force; save the visit (once)."""
    episode = state.episode
    if state.new and episode.pk is not None:  # saved by record_movement, settled on its only movement
        return episode
    episode.care_unit = _latest_active_unit(state.movements) or episode.care_unit
    episode.save()
    return episode


def _latest_active_unit(movements: list[Movement]) -> CareUnit | None:
    """The responsible unit of the latest movement still in force (PostgreSQL's order: no date is latest)."""
    active = [m for m in movements if not m.cancelled and m.medical_unit_id is not None]
    if not active:
        return None
    latest = max(active, key=lambda m: (m.started_at is None, m.started_at or _EPOCH, m.pk or 0))
    return latest.medical_unit


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
