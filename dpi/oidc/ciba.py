"""Sign-in "avec mon e-CPS" through CIBA in poll mode (REM SC.PSC.13, ``docs/identity.md``).

The DPI asks PSC's backchannel endpoint to authenticate the professional named by their national identifier,
with a two-digit binding message shown on both screens; the page polls (htmx) :func:`poll`, which asks the
token endpoint once per call, never waiting longer than ``OIDC_TIMEOUT_SECONDS``. Once the professional
accepts on their phone, the ID token and userinfo go through the same checks and the same account lookup
as a browser sign-in (:class:`dpi.oidc.adapter.SocialAccountAdapter`).
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

import requests
from allauth.socialaccount.adapter import get_adapter
from django.conf import settings
from django.utils.translation import gettext as _

from dpi.oidc.discovery import discovery

GRANT_TYPE = "urn:openid:params:grant-type:ciba"
SESSION_KEY = "dpi_oidc_ciba"
RPPS = re.compile(r"^8?(\d{11})$")


class CibaError(Exception):
    """The request could not be made or was refused; ``message`` is for the user."""

    def __init__(self, message: str, code: str = "error") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Outcome:
    status: str  # pending, accepted, refused, expired, error
    tokens: dict[str, Any] | None = None
    message: str = ""


def national_id_from(typed: str) -> str:
    """The national identifier (8 + RPPS) from an RPPS typed with or without its leading 8."""
    match = RPPS.match(typed.strip().replace(" ", ""))
    if match is None:
        raise CibaError(_("Saisissez votre numéro RPPS (11 chiffres)."), "invalid_rpps")
    return f"8{match.group(1)}"


def _config(provider_id: str) -> dict[str, Any]:
    config = settings.OIDC_PROVIDERS.get(provider_id)
    if not config or not config["enabled"] or not config["ciba"]:
        raise CibaError(_("La connexion par e-CPS sans navigateur n'est pas proposée."), "disabled")
    return config


def _post(provider_id: str, endpoint_name: str, form: dict[str, str]) -> requests.Response:
    config = _config(provider_id)
    try:
        endpoint = discovery(config["discovery_url"])[endpoint_name]
        with get_adapter().get_requests_session() as session:
            return session.post(endpoint, data=form, auth=(config["client_id"], config["secret"]))
    except (requests.RequestException, KeyError, ValueError) as error:
        raise CibaError(
            _("ProSanté Connect ne répond pas pour le moment : réessayez dans quelques minutes."), "unavailable"
        ) from error


def start(provider_id: str, national_id: str) -> dict[str, Any]:
    """Ask the provider to authenticate ``national_id``: the pending request, kept in the DPI session."""
    config = _config(provider_id)
    binding_message = f"{secrets.randbelow(100):02d}"
    form = {
        "scope": config["scope"],
        "acr_values": config["acr_values"],
        "login_hint": national_id,
        "binding_message": binding_message,
    }
    response = _post(provider_id, "backchannel_authentication_endpoint", form)
    answer = _json(response)
    if response.status_code != 200:
        if answer.get("error") == "unknown_user_id":
            raise CibaError(_("ProSanté Connect ne connaît pas ce numéro RPPS."), "unknown_user_id")
        raise CibaError(_("ProSanté Connect a refusé la demande (%(error)s).") % {"error": answer.get("error", "?")})
    return {
        "provider": provider_id,
        "national_id": national_id,
        "auth_req_id": answer["auth_req_id"],
        "expires_at": time.time() + int(answer.get("expires_in", 120)),
        "interval": max(1, int(answer.get("interval", 5))),
        "binding_message": binding_message,
    }


def poll(pending: dict[str, Any]) -> Outcome:
    """One question to the token endpoint: has the professional answered?"""
    if time.time() >= pending["expires_at"]:
        return Outcome("expired", message=_("La demande a expiré sans réponse sur l'e-CPS."))
    form = {"grant_type": GRANT_TYPE, "auth_req_id": pending["auth_req_id"]}
    try:
        response = _post(pending["provider"], "token_endpoint", form)
    except CibaError as error:
        return Outcome("pending", message=error.message)  # transient: the next poll asks again
    answer = _json(response)
    if response.status_code == 200 and answer.get("id_token"):
        return Outcome("accepted", tokens=answer)
    error = answer.get("error", "")
    if error in ("authorization_pending", "slow_down"):
        return Outcome("pending")
    if error == "access_denied":
        return Outcome("refused", message=_("La connexion a été refusée sur l'e-CPS."))
    if error == "expired_token":
        return Outcome("expired", message=_("La demande a expiré sans réponse sur l'e-CPS."))
    return Outcome("error", message=_("ProSanté Connect a refusé la demande (%(error)s).") % {"error": error or "?"})


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}
