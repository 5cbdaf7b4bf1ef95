"""CIBA in poll mode, as ProSanté Connect offers it (``docs/identity.md``): the client asks, the professional
accepts or refuses on their e-CPS (the sandbox's ``/ecps`` page), the client polls the token endpoint.

Answers follow OpenID Connect CIBA Core 1.0: ``authorization_pending`` while the professional has not acted,
``access_denied`` once refused, ``expired_token`` after ``expires_in``, ``invalid_grant`` for an unknown or
already used ``auth_req_id``.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError, OAuth2Error

from sandbox.oidc.provider import TOKEN_SECONDS, BackchannelRequest, Provider, Token, requested_acr

EXPIRES_IN = 120
INTERVAL = 1
MAX_BINDING_MESSAGE = 20


class CibaError(OAuth2Error):
    status_code = 400

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description=description)
        self.error = error


def start(provider: Provider, request: OAuth2Request) -> dict[str, Any]:
    """The backchannel authentication endpoint: a pending request for the professional named by login_hint."""
    client = provider.authenticate_client(request, ["client_secret_basic", "client_secret_post"])
    data = request.payload.data
    if "openid" not in data.get("scope", "").split():
        raise InvalidRequestError("The 'openid' scope is required")
    login_hint = data.get("login_hint", "")
    national_id = login_hint.split("/", 1)[0]
    person = next((p for p in provider.people.values() if national_id and p.national_id == national_id), None)
    if person is None:
        raise CibaError("unknown_user_id", "No professional with this national identifier")
    binding_message = data.get("binding_message", "")
    if len(binding_message) > MAX_BINDING_MESSAGE:
        raise CibaError("invalid_binding_message", f"binding_message longer than {MAX_BINDING_MESSAGE} characters")
    acr = "eidas1" if "eidas1" in requested_acr(data.get("acr_values", "")) else None
    pending = BackchannelRequest(
        secrets.token_urlsafe(24), client, person, data["scope"], binding_message, acr, time.time() + EXPIRES_IN
    )
    with provider.lock:
        provider.backchannel[pending.auth_req_id] = pending
    return {"auth_req_id": pending.auth_req_id, "expires_in": EXPIRES_IN, "interval": INTERVAL}


def decide(provider: Provider, auth_req_id: str, *, accept: bool) -> BackchannelRequest | None:
    """The professional's answer on their e-CPS; ``None`` when the request is unknown, expired or decided."""
    with provider.lock:
        pending = provider.backchannel.get(auth_req_id)
        if pending is None or pending.status != "pending" or pending.expired:
            return None
        pending.status = "accepted" if accept else "refused"
    return pending


def pending_requests(provider: Provider) -> list[BackchannelRequest]:
    with provider.lock:
        return [entry for entry in provider.backchannel.values() if entry.status == "pending" and not entry.expired]


def token(provider: Provider, request: OAuth2Request) -> dict[str, Any]:
    """The token endpoint for the CIBA grant: tokens once accepted, an error code otherwise."""
    client = provider.authenticate_client(request, ["client_secret_basic", "client_secret_post"])
    auth_req_id = request.payload.data.get("auth_req_id", "")
    with provider.lock:
        pending = provider.backchannel.get(auth_req_id)
        if pending is None or pending.client.client_id != client.client_id:
            raise InvalidGrantError("Unknown auth_req_id")
        if pending.expired:
            provider.backchannel.pop(auth_req_id)
            raise CibaError("expired_token", "The authentication request has expired")
        if pending.status == "pending":
            raise CibaError("authorization_pending", "The professional has not answered yet")
        provider.backchannel.pop(auth_req_id)  # answered: single use
    if pending.status == "refused":
        raise CibaError("access_denied", "The professional refused the authentication")
    return _tokens(provider, pending)


def _tokens(provider: Provider, accepted: BackchannelRequest) -> dict[str, Any]:
    access_token = secrets.token_urlsafe(32)
    now = int(time.time())
    with provider.lock:
        provider.tokens[access_token] = Token(
            access_token, accepted.client, accepted.person, accepted.scope, now + TOKEN_SECONDS
        )
    claims = provider.claims(accepted.person) | {
        "iss": provider.issuer,
        "aud": accepted.client.client_id,
        "iat": now,
        "exp": now + TOKEN_SECONDS,
        "auth_time": now,
    }
    if accepted.acr:
        claims["acr"] = accepted.acr
    return {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": TOKEN_SECONDS,
        "id_token": provider.sign(claims),
        "scope": accepted.scope,
    }
