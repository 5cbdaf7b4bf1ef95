"""The sandbox identity providers on ephemeral loopback ports, the DPI configured to use them, and a
"browser" (httpx, the provider side; Django's client, the DPI side) that follows the redirections."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from dpi.oidc.config import provider_origins, socialaccount_providers
from sandbox.oidc.provider import HOSPITAL, PSC, Client, Flavour
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


@pytest.fixture
def psc(settings, db) -> Iterator[OidcServer]:
    server = start_for(settings, "psc", PSC, "http://testserver")
    yield server
    server.stop()


@pytest.fixture
def hospital_idp(settings, db) -> Iterator[OidcServer]:
    server = start_for(settings, "hopital", HOSPITAL, "http://testserver")
    yield server
    server.stop()


@dataclass
class Flow:
    """One sign-in: the authorization request the DPI sent, then what came back to the DPI."""

    authorize_url: str
    response: object  # the DPI's answer to the callback

    @property
    def authorize_params(self) -> dict[str, str]:
        return {name: values[0] for name, values in parse_qs(urlsplit(self.authorize_url).query).items()}


@pytest.fixture
def browser() -> Iterator[httpx.Client]:
    """The provider side of the user's browser (it keeps the provider's SSO cookie)."""
    with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as client:
        yield client


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


@pytest.fixture
def sign_in(client, browser) -> Callable[..., Flow]:
    def run(provider_id: str, sub: str | None, *, process: str = "login", decision: str = "accept") -> Flow:
        authorize_url = start_sign_in(client, provider_id, process)
        return Flow(authorize_url, back_to_dpi(client, choose(browser, authorize_url, sub, decision)))

    return run
