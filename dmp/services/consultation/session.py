"""What the session remembers of a patient's DMP, and TD0.2/TD0.3: existence and authorisation."""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.core.cache import cache
from django.http import HttpRequest

from dmp.access import Context
from dmp.clients import patients as td0
from dmp.clients.errors import DmpRefused
from dmp.clients.types import (
    Authorisation,
    DmpExistence,
    DmpStatus,
)
from dmp.models import DmpTransaction
from dmp.services.tracing import traced

Kind = DmpTransaction.Kind
SESSION_HOURS = 12  # the existence and authorisation are asked once per session


# --- what the session remembers of a patient's DMP ------------------------------------------------


def cache_key(request: HttpRequest, context: Context, part: str) -> str:
    if request.session.session_key is None:
        request.session.save()
    return f"dmp:{request.session.session_key}:{context.patient.pk}:{part}"


def forget(request: HttpRequest, context: Context) -> None:
    """ "Actualiser": the next display asks the DMP again."""
    cache.delete_many([cache_key(request, context, part) for part in ("access", "panel", "search")])


# --- TD0.2 and TD0.3: existence and authorisation -----------------------------------------------------


@dataclass(frozen=True)
class AccessState:
    """The official four states (SC.DMP/UX.12), and whether the DPI set the authorisation itself."""

    existence: DmpExistence
    authorisation_set_now: bool = False

    @property
    def state(self) -> str:
        status = self.existence.status
        if status == DmpStatus.NONE:
            return "none"
        if status == DmpStatus.CLOSED:
            return "closed"
        return "authorised" if self.existence.authorisation == Authorisation.VALID else "not_authorised"

    @property
    def consultable(self) -> bool:
        return self.state == "authorised"


def check_access(request: HttpRequest, context: Context) -> AccessState:
    """TD0.2 once per session and patient; if the user has no valid authorisation on an open DMP,
    TD0.3 sets it at once, with no action of theirs (the DSR's step 3)."""
    key = cache_key(request, context, "access")
    state = cache.get(key)
    if state is not None:
        return replace(state, authorisation_set_now=False)  # set earlier in the session, not "just now"
    state = _ask_access(context)
    cache.set(key, state, SESSION_HOURS * 3600)
    return state


def _ask_access(context: Context) -> AccessState:
    existence = traced(context, Kind.EXISTENCE, lambda: td0.test_existence(context.actor, context.patient_ref))
    needs_authorisation = existence.authorisation in (Authorisation.NONE, Authorisation.EXPIRED)
    if existence.status != DmpStatus.OPEN or not needs_authorisation:
        return AccessState(existence)
    try:
        granted = traced(
            context,
            Kind.AUTHORISATION,
            lambda: td0.set_authorisation(context.actor, context.patient_ref, grant=True),
            detail="AJOUT",
        )
    except DmpRefused as refusal:
        forbidden = replace(existence, authorisation=Authorisation.FORBIDDEN, refusal_reason=str(refusal))
        return AccessState(forbidden)
    updated = replace(existence, authorisation=granted.authorisation, authorisation_until=granted.authorisation_until)
    return AccessState(updated, authorisation_set_now=True)
