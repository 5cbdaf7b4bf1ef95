"""Verification of the JWTs a provider signs (ID token, userinfo, CIBA): the key from the provider's JWKS by
``kid``, the algorithm from that key (never from the token's header alone), issuer, audience and expiry."""

from __future__ import annotations

from typing import Any

import jwt
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from django.core.cache import cache

JWKS_CACHE_SECONDS = 600
LEEWAY_SECONDS = 30


class InvalidToken(OAuth2Error):
    """A JWT that is not the provider's, or not for us, or not any more."""


def _jwks(jwks_uri: str, *, fresh: bool) -> jwt.PyJWKSet:
    key = f"dpi:oidc:jwks:{jwks_uri}"
    data = None if fresh else cache.get(key)
    if data is None:
        with get_adapter().get_requests_session() as session:
            response = session.get(jwks_uri)
            response.raise_for_status()
            data = response.json()
        cache.set(key, data, JWKS_CACHE_SECONDS)
    return jwt.PyJWKSet.from_dict(data)


def _signing_key(token: str, jwks_uri: str) -> jwt.PyJWK:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise InvalidToken(f"JWT illisible : {error}") from error
    kid = header.get("kid")
    for fresh in (False, True):  # a key unknown to the cached set: the provider may have rolled its keys
        try:
            keys = _jwks(jwks_uri, fresh=fresh)
        except jwt.PyJWKSetError as error:
            raise InvalidToken(f"JWKS du fournisseur illisible : {error}") from error
        found = next((key for key in keys.keys if key.key_id == kid), None)
        if found is not None:
            if header.get("alg") != found.algorithm_name:
                raise InvalidToken(
                    f"Algorithme {header.get('alg')} différent de celui de la clé ({found.algorithm_name})."
                )
            return found
    raise InvalidToken(f"Clé de signature inconnue du fournisseur (kid {kid}).")


def verify_jwt(token: str, *, jwks_uri: str, issuer: str, audience: str) -> dict[str, Any]:
    """The claims of ``token`` once its signature, issuer, audience and expiry are checked."""
    key = _signing_key(token, jwks_uri)
    try:
        return jwt.decode(
            token,
            key=key.key,
            algorithms=[key.algorithm_name],
            issuer=issuer,
            audience=audience,
            leeway=LEEWAY_SECONDS,
            options={"require": ["iss", "aud"]},
        )
    except jwt.PyJWTError as error:
        raise InvalidToken(f"JWT refusé : {error}") from error
