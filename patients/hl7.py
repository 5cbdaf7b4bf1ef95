"""IHE PAM (PAM.fr 2.11) ADT handlers: identities (ITI-30), visits and movements (ITI-31), ZFA consent.

The outcome of every case (unknown patient or visit, out-of-order, cancellation of something
unknown...) is listed in docs/pam.md.
"""

from __future__ import annotations

from dpi.hl7.errors import ErrorCode, HL7ProcessingError
from dpi.hl7.registry import HandlerResult, InboundMessage, register
from dpi.models import CareUnit
from patients import feed
from patients.feed import Outcome
from patients.models import Episode, Movement, Patient
from patients.pam import (
    DmpConsent,
    Identity,
    MovementData,
    Visit,
    event_time,
    read_dmp_consent,
    read_identity,
    read_merge_identifiers,
    read_movement,
    read_visit,
)
from patients.signals import pam_consent_received

# Insert triggers and the cancellation of each (PAM.fr table, spec section 2.1).
CANCELLATIONS = {
    "A11": ("A01", "A04"),
    "A38": ("A05",),
    "A27": ("A14",),
    "A12": ("A02",),
    "A13": ("A03",),
    "A52": ("A21",),
    "A53": ("A22",),
    "A55": ("A54",),
    "A26": ("A15",),
    "A25": ("A16",),
}
INSERTS = ("A01", "A04", "A05", "A14", "A02", "A06", "A07", "A03", "A21", "A22", "A54", "A15", "A16")
VISIT_CANCELLING = {"A11", "A38", "A27"}
ADMISSIONS = {"A01", "A04", "A06", "A07"}
PRE_ADMISSIONS = {"A05", "A14"}


def _result(outcome: Outcome) -> HandlerResult:
    """AA with the notes; AE with ERR segments when part of the message could not be applied (the rest is)."""
    return HandlerResult(
        note=" ".join(outcome.notes), warnings=tuple(outcome.errors), ack_code="AE" if outcome.errors else "AA"
    )


def _apply_consent(episode: Episode | None, consent: DmpConsent | None, msg: InboundMessage, outcome: Outcome) -> None:
    """ZFA-9 (feeding) and ZFA-11 (consultation), stored against the visit of the message by the receivers
    of :data:`patients.signals.pam_consent_received` (the consent app)."""
    if consent is None:
        return
    if episode is None:
        if any(code not in ("", "NA") for code in (consent.feeding, consent.consultation)):
            outcome.note("ZFA-9/ZFA-11 ignorés : le message ne porte pas de venue (PV1-19).")
        return
    answers = pam_consent_received.send(
        sender=Episode, episode=episode, consent=consent, collected_at=event_time(msg), message=msg.journal
    )
    for _receiver, notes in answers:
        for note in notes:
            outcome.note(note)


def _identity(msg: InboundMessage, outcome: Outcome) -> tuple[Patient, Identity]:
    identity = read_identity(msg)
    patient = feed.upsert_identity(identity, message=msg.journal, outcome=outcome)
    feed.apply_dmp_status(patient, read_dmp_consent(msg))
    return patient, identity


# ADT events of HL7 v2.5 that PAM.fr excludes (A08) or that the DPI does not use: ignored with
# a note, as the PAM.fr "rule of prudence" asks for events a receiver does not handle.
IGNORED = ("A08", "A09", "A10", "A24", "A29", "A32", "A33", "A34", "A35", "A36", "A37", "A44", "A49")


@register(*(f"ADT^{trigger}" for trigger in IGNORED))
def ignored_event(msg: InboundMessage) -> HandlerResult:
    return HandlerResult(note=f"Événement {msg.header.trigger_event} non géré par le DPI : ignoré.")


@register("ADT^A28", "ADT^A31")
def identity_message(msg: InboundMessage) -> HandlerResult:
    """Create or update an identity (A28 on a known IPP updates it; A31 on an unknown one creates it)."""
    outcome = Outcome()
    _identity(msg, outcome)
    _apply_consent(None, read_dmp_consent(msg), msg, outcome)
    return _result(outcome)


@register("ADT^A40")
def merge_message(msg: InboundMessage) -> HandlerResult:
    """Merge: PID is the surviving identity, MRG-1 the absorbed one (patient level only)."""
    outcome = Outcome()
    survivor, _identity_data = _identity(msg, outcome)
    absorbed_ids = [i for i in read_merge_identifiers(msg) if i.type_code in ("PI", "")]
    if not absorbed_ids:
        raise HL7ProcessingError(ErrorCode.REQUIRED_FIELD_MISSING, "MRG-1 sans IPP.", location="MRG^1^1")
    for identifier in absorbed_ids:
        absorbed = feed.find_patient(identifier)
        if absorbed is None:
            outcome.note(f"Identité absorbée {identifier.value} inconnue : rien à fusionner.")
        elif absorbed.merged_into_id == survivor.pk:
            outcome.note(f"Identité {identifier.value} déjà fusionnée.")
        else:
            feed.merge_identities(survivor=survivor, absorbed=absorbed, message=msg.journal)
    return _result(outcome)


@register("ADT^A47")
def identifier_change_message(msg: InboundMessage) -> HandlerResult:
    """Change or removal of an identifier: MRG-1 is the former one (IPP or INS)."""
    outcome = Outcome()
    identity = read_identity(msg)
    for former in read_merge_identifiers(msg):
        if former.type_code == "INS":
            feed.remove_ins(former=former, identity=identity, message=msg.journal, outcome=outcome)
        else:
            feed.change_ipp(former=former, identity=identity, message=msg.journal, outcome=outcome)
    return _result(outcome)


@register(*(f"ADT^{trigger}" for trigger in (*INSERTS, *CANCELLATIONS, "Z99")))
def movement_message(msg: InboundMessage) -> HandlerResult:
    """Visit and movement events: insert, cancel (cancel triggers or ZBE-4 = CANCEL), update (Z99)."""
    outcome = Outcome()
    trigger = msg.header.trigger_event
    patient, identity = _identity(msg, outcome)
    visit = read_visit(msg)
    if visit is None:
        raise HL7ProcessingError(
            ErrorCode.REQUIRED_FIELD_MISSING, "PV1-19 (numéro de venue) absent.", location="PV1^1^19"
        )
    data = read_movement(msg)
    if data is None:
        outcome.note("ZBE absent : mouvement non historisé.")
    action = data.action if data else ""
    if trigger in CANCELLATIONS or action == "CANCEL":
        episode = _cancel(trigger, visit, data, outcome)
    elif trigger == "Z99" or action == "UPDATE":
        episode = _update(visit, data, msg, outcome)
    else:
        episode = _insert(trigger, patient, identity, visit, data, msg, outcome)
    _apply_consent(episode, read_dmp_consent(msg), msg, outcome)
    return _result(outcome)


def _units(data: MovementData | None, outcome: Outcome) -> tuple[CareUnit | None, CareUnit | None]:
    if data is None:
        return None, None
    medical = feed.resolve_care_unit(data.medical_unit, outcome, "ZBE^1^7")
    nursing = feed.resolve_care_unit(data.nursing_unit, outcome, "ZBE^1^8")
    return medical, nursing


def _insert(
    trigger: str,
    patient: Patient,
    identity: Identity,
    visit: Visit,
    data: MovementData | None,
    msg: InboundMessage,
    outcome: Outcome,
) -> Episode:
    medical, nursing = _units(data, outcome)
    unknown_note = "" if trigger in ADMISSIONS | PRE_ADMISSIONS else f"Venue {visit.visit_number} inconnue : créée."
    state = feed.upsert_visit(
        patient=patient,
        visit=visit,
        identity=identity,
        unit=medical or nursing,
        outcome=outcome,
        create_note=unknown_note,
    )
    episode = state.episode
    moment = (data.started_at if data else None) or event_time(msg)
    if trigger in PRE_ADMISSIONS:
        episode.pre_admission = not any(m.trigger in ADMISSIONS and not m.cancelled for m in state.movements)
        episode.admitted_at = episode.admitted_at or visit.admitted_at or moment
    elif trigger in ADMISSIONS:
        episode.pre_admission = False
        episode.admitted_at = visit.admitted_at or episode.admitted_at or moment
    elif trigger == "A03":
        episode.discharged_at = visit.discharged_at or moment
    episode.cancelled = False
    if data is not None:
        feed.record_movement(
            state=state, data=data, trigger=trigger, medical=medical, nursing=nursing, message=msg.journal
        )
    return feed.settle(state)


def _target(
    visit: Visit, data: MovementData | None, outcome: Outcome, purpose: str
) -> tuple[feed.VisitState | None, Movement | None]:
    """The known visit and the movement named by ZBE-1 that a cancellation or correction aims at."""
    episode = feed.find_visit(visit)
    if episode is None:
        outcome.note(f"Venue {visit.visit_number} inconnue : {purpose} sans effet.")
        return None, None
    state = feed.visit_state(episode)
    movement = state.movement(data)
    if movement is None:
        outcome.note(f"Mouvement visé par ZBE-1 inconnu : {purpose} sans effet sur les mouvements.")
    return state, movement


def _cancel(trigger: str, visit: Visit, data: MovementData | None, outcome: Outcome) -> Episode | None:
    state, movement = _target(visit, data, outcome, "annulation")
    if state is None:
        return None
    episode = state.episode
    if movement is not None:
        movement.cancelled = True
        movement.save(update_fields=["cancelled"])
    original = movement.trigger if movement else (data.original_trigger if data else "")
    if trigger in VISIT_CANCELLING:
        episode.cancelled = True
    elif trigger == "A13" or original == "A03":
        episode.discharged_at = None
    if trigger in ("A06", "A07") and visit.patient_class:
        episode.kind = feed.KINDS.get(visit.patient_class, episode.kind)
    return feed.settle(state)


def _update(visit: Visit, data: MovementData | None, msg: InboundMessage, outcome: Outcome) -> Episode | None:
    """Z99: correct the movement named by ZBE-1, never insert or cancel."""
    state, movement = _target(visit, data, outcome, "correction")
    if state is None or movement is None:
        return state.episode if state else None
    episode = state.episode
    medical, nursing = _units(data, outcome)
    movement.started_at = data.started_at or movement.started_at
    movement.medical_unit = medical or movement.medical_unit
    movement.nursing_unit = nursing or movement.nursing_unit
    movement.nature = data.nature[:5] or movement.nature
    movement.updated_by = msg.journal
    movement.save()
    if movement.trigger in ADMISSIONS | PRE_ADMISSIONS and movement.started_at:
        episode.admitted_at = visit.admitted_at or movement.started_at
    elif movement.trigger == "A03":
        episode.discharged_at = visit.discharged_at or movement.started_at
    episode.kind = feed.KINDS.get(visit.patient_class, episode.kind)
    return feed.settle(state)
