"""Recording the patient's information and opposition (UI, PAM feed, API)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from consent.models import ConsentDecision, Source, State, Subject
from consent.selectors import effective_states
from dpi.hl7.models import Message
from dpi.models import AuditEvent, Peer, User
from dpi.services import audit, audit_row
from patients.models import Episode, Patient
from patients.pam import DmpConsent

# ZFA-9 (feeding) and ZFA-11 (consultation) codes; NA ("not collected") is no decision.
PAM_FEEDING = {"IO": State.INFORMED_OPPOSED, "INO": State.INFORMED_NOT_OPPOSED}
PAM_CONSULTATION = {"INC": State.INFORMED_OPPOSED, "IC": State.INFORMED_NOT_OPPOSED}


@transaction.atomic(savepoint=False)
def record_consent(
    *,
    episode: Episode,
    subject: str,
    state: str,
    source: str,
    collected_at: datetime | None = None,
    message: Message | None = None,
    acting_user: User | None = None,
    peer: Peer | None = None,
    request: HttpRequest | None = None,
    previous_state: str | None = None,
) -> ConsentDecision:
    """Record one state of one subject for a visit, with its source, and audit it (``before``: the effective
    state until now, ``previous_state`` when the caller has just read it, so it is not read twice)."""
    decision, audit_event = _decision_rows(
        episode=episode,
        subject=subject,
        state=state,
        source=source,
        collected_at=collected_at,
        message=message,
        acting_user=acting_user,
        peer=peer,
        request=request,
        previous_state=previous_state or effective_states(episode, [subject])[subject],
    )
    decision.save()
    audit_event.save()
    return decision


def _decision_rows(
    *,
    episode: Episode,
    subject: str,
    state: str,
    source: str,
    collected_at: datetime | None,
    message: Message | None,
    previous_state: str,
    acting_user: User | None = None,
    peer: Peer | None = None,
    request: HttpRequest | None = None,
) -> tuple[ConsentDecision, AuditEvent]:
    """A decision and its audit row, unsaved."""
    Subject(subject)
    State(state)
    decision = ConsentDecision(
        episode=episode,
        subject=subject,
        state=state,
        source=source,
        collected_at=collected_at or timezone.now(),
        message=message,
        actor=acting_user,
        actor_rpps=(acting_user.rpps or "") if acting_user else "",
        actor_name=acting_user.display_name if acting_user else "",
        peer=peer.name if peer else "",
    )
    audit_event = audit_row(
        action=AuditEvent.Action.CONSENT_CHANGE,
        actor=acting_user,
        peer=peer,
        request=request,
        obj=episode,
        patient_id=episode.patient_id,
        change=AuditEvent.Change.CHANGED,
        before={"state": previous_state},
        after={"state": state},
        detail={"subject": subject, "state": state, "source": source, "message": message.pk if message else None},
    )
    return decision, audit_event


def apply_pam_consent(
    *, episode: Episode, consent: DmpConsent, collected_at: datetime | None, message: Message, **signal: object
) -> list[str]:
    """Apply ZFA-9 (feeding) and ZFA-11 (consultation); returns notes for the codes that record nothing.

    Receiver of :data:`patients.signals.pam_consent_received`, inside the message's transaction. ``NA``
    (not collected) never overwrites a choice; a code equal to the effective state of the episode of
    care is not a change and is not recorded twice. The decisions, and then their audit rows, are
    inserted with one statement each.
    """
    codes = [(Subject.FEEDING, consent.feeding, consent.feeding_at, PAM_FEEDING),
             (Subject.CONSULTATION, consent.consultation, consent.consultation_at, PAM_CONSULTATION)]  # fmt: skip
    notes: list[str] = []
    wanted: dict[str, tuple[str, datetime | None]] = {}
    for subject, code, at, mapping in codes:
        if code in ("", "NA"):
            continue
        if code not in mapping:
            notes.append(f"{subject.label} : code {code} inconnu, ignoré.")
            continue
        wanted[subject.value] = (mapping[code], at or collected_at)
    if not wanted:
        return notes
    current = effective_states(episode, wanted)
    rows = [
        _decision_rows(
            episode=episode,
            subject=subject,
            state=state,
            source=Source.PAM,
            collected_at=at,
            message=message,
            previous_state=current[subject],
        )  # fmt: skip
        for subject, (state, at) in wanted.items()
        if current[subject] != state
    ]
    if rows:
        ConsentDecision.objects.bulk_create([decision for decision, _audit in rows])
        AuditEvent.objects.bulk_create([audit_event for _decision, audit_event in rows])
    return notes


PATIENT_MAILBOX = "mss_patient_mailbox"  # the audit rows' subject for the patient's Mon espace santé mailbox


@transaction.atomic
def record_patient_mailbox_choice(
    *, patient: Patient, refuses: bool, acting_user: User, request: HttpRequest | None = None
) -> Patient:
    """The patient refuses (or accepts again) documents sent to their Mon espace santé mailbox (MSS/va1.20):
    while refused, no sending goes on that channel (``dmp.services.feeding.mss_plan``). Audited."""
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    if bool(patient.refuses_patient_mailbox_since) == refuses:
        return patient
    before = {"state": "accepted" if refuses else "refused"}
    patient.refuses_patient_mailbox_since = timezone.now() if refuses else None
    patient.save(update_fields=["refuses_patient_mailbox_since"])
    audit(
        action=AuditEvent.Action.CONSENT_CHANGE,
        actor=acting_user,
        request=request,
        obj=patient,
        patient_id=patient.pk,
        change=AuditEvent.Change.CHANGED,
        before=before,
        after={"state": "refused" if refuses else "accepted"},
        detail={"subject": PATIENT_MAILBOX, "state": "refused" if refuses else "accepted", "source": Source.UI},
    )
    return patient
