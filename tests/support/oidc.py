"""The sandbox identity providers for the DPI's tests: start one with the DPI registered as its client and the
DPI configured to use it, and walk a sign-in as a browser would (httpx on the provider side, Django's client
on the DPI's)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx

from dpi.oidc.config import provider_origins, socialaccount_providers
from sandbox.oidc.provider import Client, Flavour
from sandbox.oidc.server import OidcServer, start_provider_in_thread

TIMEOUT = 30  # a safety net against a hanging test, never an assertion
CLIENT_ID = "dpi-test"
SECRET = "secret-de-test"


def start_for(settings, provider_id: str, flavour: Flavour, base_url: str) -> OidcServer:
    """A sandbox provider with the DPI at ``base_url`` registered as client, and the DPI configured to use it."""
    client = Client(
        CLIENT_ID,
        SECRET,
        [f"{base_url}/accounts/oidc/{provider_id}/login/callback/"],
        [f"{base_url}/accounts/login/"],
    )
    server = start_provider_in_thread(flavour, client)
    providers = copy.deepcopy(settings.OIDC_PROVIDERS)
    providers[provider_id] |= {
        "enabled": True,
        "discovery_url": server.provider.discovery_url,
        "client_id": CLIENT_ID,
        "secret": SECRET,
    }
    settings.OIDC_PROVIDERS = providers
    settings.SOCIALACCOUNT_PROVIDERS = socialaccount_providers(providers)
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["form-action"] = ["'self'", *provider_origins(providers)]
    settings.CONTENT_SECURITY_POLICY = policy
    return server


@dataclass
class Flow:
    """One sign-in: the authorization request the DPI sent, then what came back to the DPI."""

    authorize_url: str
    response: object  # the DPI's answer to the callback

    @property
    def authorize_params(self) -> dict[str, str]:
        return {name: values[0] for name, values in parse_qs(urlsplit(self.authorize_url).query).items()}


def start_sign_in(client, provider_id: str, process: str = "login") -> str:
    """The DPI's redirection to the provider's authorize endpoint."""
    response = client.post(f"/accounts/oidc/{provider_id}/login/", {"process": process})
    assert response.status_code == 302, response.content
    return response["Location"]


def choose(browser: httpx.Client, authorize_url: str, sub: str | None, decision: str = "accept") -> httpx.Response:
    """On the provider's login page, pick the person ``sub`` (or cancel); the provider's answer."""
    page = browser.get(authorize_url)
    if page.status_code == 302:  # single sign-on: the provider's session answered at once
        return page
    assert page.status_code == 200, page.text
    query = urlsplit(authorize_url).query
    return browser.post(authorize_url.split("?")[0], data={"query": query, "person": sub or "", "decision": decision})


def back_to_dpi(client, provider_answer: httpx.Response):
    """Follow the provider's redirection to the DPI's callback."""
    assert provider_answer.status_code == 302, provider_answer.text
    location = urlsplit(provider_answer.headers["Location"])
    assert location.netloc == "testserver"
    return client.get(f"{location.path}?{location.query}")
