"""Who may ask the DMP about whom, before any transaction (DSR 3.2.2 b, step 1; SC.DMP/CONF.06).

:func:`consultation_context` answers either a :class:`Context` (everything a transaction needs:
the actor of the VIHF, the patient's INS) or a :class:`Blocked` saying why no transaction may
be sent. Nothing reaches the DMP unless:

* consultation is enabled in this installation;
* the patient, informed, did not oppose consultation for the current episode of care (the
  default is "not informed", which forbids it);
* the identity is qualified (the INS may be used) and the patient has a current visit;
* the user has a personal national identifier (RPPS or ADELI): the DMP traces every access under
  it and never accepts a generic account (SC.DMP/AIRS.06).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from consent.models import State, Subject
from consent.selectors import effective_consent
from dmp.clients.types import Actor, PatientRef
from dpi.models import CareUnit, User
from dpi.selectors import current_care_unit
from patients.models import Episode, IdentityStatus, Patient
from patients.selectors import patient_access

# Where a sign-in records how the user authenticated (the ProSanté Connect sign-in sets its own class).
SESSION_AUTHN_INSTANT = "dpi_authn_instant"
SESSION_AUTHN_CLASS = "dpi_authn_class"
TOTP_AUTHN_CLASS = "urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken"
EMERGENCY_PURPOSE = "BRIS_DE_GLACE"


@dataclass(frozen=True)
class Blocked:
    """No DMP transaction may be made; ``reason`` is a key the templates show as an icon and a text."""

    reason: str
    message: str

    allowed = False


@dataclass(frozen=True)
class Context:
    user: User
    patient: Patient
    episode: Episode
    care_unit: CareUnit | None
    actor: Actor
    patient_ref: PatientRef
    emergency: bool

    allowed = True

    @property
    def finess_eg(self) -> str:
        return self.care_unit.site.finess_eg if self.care_unit else ""


def consultation_context(
    request: HttpRequest, patient: Patient, episode: Episode | None, *, dmp: bool = True
) -> Context | Blocked:
    """The context of a DMP consultation for the signed-in user, or why there is none.

    ``dmp=False`` is for the other national services reached with the same signed assertion (the
    DRIMbox): the patient's choice about the DMP does not apply to them."""
    if dmp and not settings.DMP_CONSULTATION_ENABLED:
        return Blocked("disabled", "La consultation du DMP n'est pas activée dans cet établissement.")
    if episode is None:
        return Blocked("no_episode", "Aucune venue : l'information du patient sur le DMP n'a pas pu être recueillie.")
    blocked = _blocked(request.user, patient, episode, dmp=dmp)
    if blocked is not None:
        return blocked
    unit = current_care_unit(request) or episode.care_unit
    emergency = patient_access(request.user, patient).emergency
    return Context(
        user=request.user,
        patient=patient,
        episode=episode,
        care_unit=unit,
        actor=_actor(request, unit, emergency=emergency),
        patient_ref=PatientRef(ins=patient.ins, oid=patient.ins_oid),
        emergency=emergency,
    )


def _blocked(user: User, patient: Patient, episode: Episode, *, dmp: bool) -> Blocked | None:
    consent = effective_consent(episode, Subject.CONSULTATION)
    if dmp and not consent.allowed:
        reason = "opposed" if consent.state == State.INFORMED_OPPOSED else "not_informed"
        return Blocked(reason, f"Consultation du DMP non autorisée : {consent.state_label.lower()}.")
    if patient.identity_status != IdentityStatus.QUALIFIEE or not patient.ins:
        return Blocked(
            "ins_not_qualified", "L'identité n'est pas qualifiée : l'INS ne peut pas être utilisé pour le DMP."
        )
    if not user.national_id:
        return Blocked(
            "no_national_id",
            "Votre compte n'a pas d'identifiant national (RPPS ou ADELI) : le DMP refuse tout accès sans lui.",
        )
    return None


def _actor(request: HttpRequest, unit: CareUnit | None, *, emergency: bool) -> Actor:
    user = request.user
    instant, authn_class = authentication_of(request)
    finess = unit.site.finess_eg if unit else ""
    return Actor(
        national_id=user.national_id,
        display_name=f"{user.last_name.upper()} {user.first_name}".strip() or user.username,
        profession=user.profession,
        specialty=user.specialty,
        structure_id=f"1{finess}",
        authn_instant=instant,
        authn_class=authn_class,
        purpose=EMERGENCY_PURPOSE if emergency else "normal",
    )


def authentication_of(request: HttpRequest) -> tuple[datetime, str]:
    """When and how the user signed in: recorded by the sign-in in the session, else the local
    two-factor sign-in (password and TOTP, mandatory for every local account) at ``last_login``."""
    recorded = request.session.get(SESSION_AUTHN_INSTANT)
    instant = datetime.fromisoformat(recorded) if recorded else request.user.last_login or timezone.now()
    return instant, request.session.get(SESSION_AUTHN_CLASS, TOTP_AUTHN_CLASS)
