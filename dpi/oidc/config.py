"""allauth's configuration of the providers of ``settings.OIDC_PROVIDERS`` (imported by the settings: no Django)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit


def socialaccount_providers(providers: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``SOCIALACCOUNT_PROVIDERS``: one allauth app per enabled provider, PKCE on, its scope and acr_values."""
    apps = [
        {
            "provider_id": provider_id,
            "name": config["name"],
            "client_id": config["client_id"],
            "secret": config["secret"],
            "settings": {
                "server_url": config["discovery_url"],
                "token_auth_method": "client_secret_basic",
                "oauth_pkce_enabled": True,
                "scope": config["scope"].split(),
                "auth_params": {"acr_values": config["acr_values"]} if config["acr_values"] else {},
                "uid_field": config["uid_field"],
            },
        }
        for provider_id, config in providers.items()
        if config["enabled"]
    ]
    return {"dpi_oidc": {"APPS": apps}}


def provider_origins(providers: dict[str, dict[str, Any]]) -> list[str]:
    """Origins of the enabled providers' discovery documents: the sign-in and logout forms are redirected there."""
    return [
        "{0.scheme}://{0.netloc}".format(urlsplit(config["discovery_url"]))
        for config in providers.values()
        if config["enabled"]
    ]
