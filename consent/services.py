"""Recording the patient's information and opposition (UI, PAM feed, API)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from consent.models import ConsentDecision, Source, State, Subject
from consent.selectors import effective_state
from dpi.hl7.models import Message
from dpi.models import AuditEvent, Peer, User
from dpi.services import audit
from patients.models import Episode, Patient

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
    Subject(subject)
    State(state)
    previous = previous_state or effective_state(episode, subject)
    decision = ConsentDecision.objects.create(
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
    audit(
        action=AuditEvent.Action.CONSENT_CHANGE,
        actor=acting_user,
        peer=peer,
        request=request,
        obj=episode,
        patient_id=episode.patient_id,
        change=AuditEvent.Change.CHANGED,
        before={"state": previous},
        after={"state": state},
        detail={"subject": subject, "state": state, "source": source, "message": message.pk if message else None},
    )
    return decision


def apply_pam_consent(
    *, episode: Episode, subject: str, code: str, collected_at: datetime | None, message: Message
) -> str:
    """Apply a ZFA-9/ZFA-11 code; returns a note when the code records nothing.

    ``NA`` (not collected) never overwrites a choice; a code equal to the effective state of the
    episode of care is not a change and is not recorded twice.
    """
    mapping = PAM_FEEDING if subject == Subject.FEEDING else PAM_CONSULTATION
    if code in ("", "NA"):
        return ""
    if code not in mapping:
        return f"{Subject(subject).label} : code {code} inconnu, ignoré."
    state = mapping[code]
    previous = effective_state(episode, subject)
    if previous == state:
        return ""
    record_consent(
        episode=episode, subject=subject, state=state, source=Source.PAM, collected_at=collected_at, message=message,
        previous_state=previous,
    )  # fmt: skip
    return ""


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
