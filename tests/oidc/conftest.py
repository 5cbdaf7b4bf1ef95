"""The sandbox identity providers on ephemeral loopback ports, the DPI configured to use them, and a
"browser" (httpx, the provider side; Django's client, the DPI side) that follows the redirections
(the helpers: ``tests.support.oidc``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from sandbox.oidc.provider import HOSPITAL, PSC
from sandbox.oidc.server import OidcServer
from tests.support.oidc import TIMEOUT, Flow, back_to_dpi, choose, start_for, start_sign_in


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


@pytest.fixture
def browser() -> Iterator[httpx.Client]:
    """The provider side of the user's browser (it keeps the provider's SSO cookie)."""
    with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as client:
        yield client


@pytest.fixture
def sign_in(client, browser) -> Callable[..., Flow]:
    def run(provider_id: str, sub: str | None, *, process: str = "login", decision: str = "accept") -> Flow:
        authorize_url = start_sign_in(client, provider_id, process)
        return Flow(authorize_url, back_to_dpi(client, choose(browser, authorize_url, sub, decision)))

    return run
