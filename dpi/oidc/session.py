"""What the DPI session remembers of a provider sign-in: the raw ID token (for the logout's
``id_token_hint``) and whether the provider's ``acr`` makes it a strong authentication (no TOTP on top).

The callback keeps it *pending* until the sign-in completes (:func:`on_logged_in`), so that a refused or
abandoned provider attempt never lends its strength to a password sign-in of the same browser.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import urlencode
from requests import RequestException

from dpi.oidc.discovery import discovery

logger = logging.getLogger(__name__)

PSC_PROVIDER_ID = "psc"
PENDING_KEY = "dpi_oidc_pending"
SIGNED_IN_KEY = "dpi_oidc"


def keep_pending(request: HttpRequest, provider_id: str, id_token: str) -> None:
    request.session[PENDING_KEY] = {"provider": provider_id, "id_token": id_token, "strong": False}


def mark_strong(request: HttpRequest, provider_id: str, acr: str) -> None:
    pending = request.session.get(PENDING_KEY)
    if pending and pending["provider"] == provider_id:
        request.session[PENDING_KEY] = {**pending, "strong": True, "acr": acr}


def drop_pending(request: HttpRequest) -> None:
    request.session.pop(PENDING_KEY, None)


def pending_is_strong(request: HttpRequest, provider_id: str) -> bool:
    pending = request.session.get(PENDING_KEY) or {}
    return pending.get("provider") == provider_id and bool(pending.get("strong"))


def on_logged_in(request: HttpRequest, provider_id: str | None) -> None:
    """A sign-in completed: through ``provider_id`` (its pending state becomes the session's), or not."""
    pending = request.session.pop(PENDING_KEY, None)
    if provider_id and pending and pending["provider"] == provider_id:
        request.session[SIGNED_IN_KEY] = pending
    else:
        request.session.pop(SIGNED_IN_KEY, None)


def signed_in_with(request: HttpRequest) -> dict[str, Any] | None:
    """The provider sign-in of this session (provider, id_token, strong, acr), if any."""
    return request.session.get(SIGNED_IN_KEY)


def signed_in_with_psc(request: HttpRequest) -> bool:
    """Whether this session was opened through ProSanté Connect (its session can open national services)."""
    return (signed_in_with(request) or {}).get("provider") == PSC_PROVIDER_ID


def strongly_signed_in(request: HttpRequest) -> bool:
    return bool((signed_in_with(request) or {}).get("strong"))


def end_session_url(request: HttpRequest, signed_in: dict[str, Any]) -> str | None:
    """The provider's end-session URL for this sign-in (RP-initiated logout), back to our login page."""
    config = settings.OIDC_PROVIDERS.get(signed_in["provider"])
    if not config or not config["enabled"]:
        return None
    try:
        endpoint = discovery(config["discovery_url"]).get("end_session_endpoint")
    except RequestException:
        logger.warning("Provider %s unreachable at logout: its session is left open", signed_in["provider"])
        return None
    if not endpoint:
        return None
    query = {
        "id_token_hint": signed_in["id_token"],
        "post_logout_redirect_uri": request.build_absolute_uri(reverse("account_login")),
        "client_id": config["client_id"],
    }
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(query)}"
