"""HTTP side of the sandbox identity providers: discovery, authorize (the simulated e-CPS or the hospital's
login page), token, userinfo, JWKS, end-session, CIBA and the e-CPS app page that answers CIBA requests.

Both providers run in ``manage.py run_sandbox`` (``SANDBOX_PSC_PORT``, ``SANDBOX_HOSPITAL_IDP_PORT``); the tests
start them on ephemeral loopback ports with :func:`start_provider_in_thread`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from functools import cached_property
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.errors import OAuth2Error
from authlib.oauth2.rfc6749.requests import OAuth2Payload
from django.conf import settings
from django.template.loader import render_to_string

from sandbox.dmp.listeners import DatabaseHandler, HttpServer, Listener
from sandbox.dmp.psc_login import WEBPS_PSC_CLIENT
from sandbox.oidc import ciba
from sandbox.oidc.people import Person, hospital_people, psc_people
from sandbox.oidc.provider import CIBA_GRANT, HOSPITAL, PSC, Client, Flavour, Provider, Session

logger = logging.getLogger(__name__)

MAX_FORM_BYTES = 64 * 1024
CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action *; base-uri 'none'"
Response = tuple[int, Any, list[tuple[str, str]]]


class Payload(OAuth2Payload):
    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._datalist: dict[str, list[str]] = defaultdict(list)
        for name, value in pairs:
            self._datalist[name].append(value)

    @cached_property
    def data(self) -> dict[str, str]:
        return {name: values[0] for name, values in self._datalist.items()}

    @property
    def datalist(self) -> dict[str, list[str]]:
        return self._datalist


class Request(OAuth2Request):
    """An HTTP request as Authlib reads it: query and form parameters together, the headers as sent."""

    def __init__(self, method: str, uri: str, headers: Any, query: str, form: str = "") -> None:
        super().__init__(method, uri, headers=headers)
        self._args = dict(parse_qsl(query, keep_blank_values=True))
        self._form = dict(parse_qsl(form, keep_blank_values=True))
        self.payload = Payload(parse_qsl(query, keep_blank_values=True) + parse_qsl(form, keep_blank_values=True))

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


class SandboxProvider(Provider):
    def create_oauth2_request(self, request: Request) -> Request:
        return request

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
        return status, body, headers


class OidcHandler(DatabaseHandler):
    server: HttpServer

    @property
    def provider(self) -> SandboxProvider:
        return self.server.owner.provider

    def do_GET(self) -> None:
        self._dispatch("GET", "")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_FORM_BYTES:
            self.close_connection = True
            self._send(413, {"error": "invalid_request", "error_description": "Request too large"}, [])
            return
        self._dispatch("POST", self.rfile.read(length).decode("utf-8", errors="replace"))

    def _dispatch(self, method: str, form: str) -> None:
        parts = urlsplit(self.path)
        request = Request(method, self.provider.base_url + self.path, self.headers, parts.query, form)
        routes = self._routes()
        route = routes.get((method, parts.path))
        if route is None:
            self._send(404, {"error": "not_found"}, [])
            return
        try:
            self._send(*route(request))
        except OAuth2Error as error:
            self._send(*self.provider.handle_error_response(request, error))

    def _routes(self) -> dict[tuple[str, str], Any]:
        provider = self.provider
        realm = urlsplit(provider.issuer).path
        authorize = urlsplit(provider.authorization_endpoint).path
        routes = {
            ("GET", f"{realm}/.well-known/{provider.flavour.discovery_name}"): lambda r: (
                200,
                provider.discovery(),
                [],
            ),
            ("GET", authorize): self._authorize,
            ("POST", authorize): self._sign_in,
            ("POST", f"{realm}/protocol/openid-connect/token"): self._token,
            ("GET", f"{realm}/protocol/openid-connect/userinfo"): self._userinfo,
            ("POST", f"{realm}/protocol/openid-connect/userinfo"): self._userinfo,
            ("GET", f"{realm}/protocol/openid-connect/certs"): lambda r: (200, provider.jwks(), []),
            ("GET", f"{realm}/protocol/openid-connect/logout"): self._logout,
        }
        if provider.flavour.ciba:
            routes[("POST", f"{realm}/protocol/openid-connect/ext/ciba/auth")] = lambda r: (
                200,
                ciba.start(provider, r),
                [],
            )
            routes[("GET", "/ecps")] = self._ecps
            routes[("POST", "/ecps")] = self._ecps_answer
        return routes

    # -- authorization code flow

    def _authorize(self, request: Request) -> Response:
        grant = self.provider.get_consent_grant(request)
        session = self._sso_session()
        if session is not None and request.payload.data.get("prompt") != "login":
            return self.provider.create_authorization_response(request, grant_user=session, grant=grant)
        return self._page(200, "login.html", {"query": urlsplit(self.path).query, "people": self._people()})

    def _sign_in(self, request: Request) -> Response:
        """The login page's answer: the chosen person (or a cancel), then the code for the client."""
        query = request.form.get("query", "")
        original = Request("GET", self.provider.authorization_endpoint + "?" + query, self.headers, query)
        grant = self.provider.get_consent_grant(original)
        if request.form.get("decision") != "accept":
            return self.provider.create_authorization_response(original, grant_user=None, grant=grant)
        person = self.provider.people.get(request.form.get("person", ""))
        if person is None:
            return self._page(400, "error.html", {"error": "Choisissez un compte dans la liste."})
        session = self.provider.open_session(person, self.provider.flavour.acr_values[0])
        status, body, headers = self.provider.create_authorization_response(original, grant_user=session, grant=grant)
        cookie = f"{self.provider.flavour.cookie}={session.sid}; Path=/; HttpOnly; SameSite=Lax"
        return status, body, [*headers, ("Set-Cookie", cookie)]

    def _sso_session(self) -> Session | None:
        cookie = SimpleCookie(self.headers.get("Cookie", ""))
        morsel = cookie.get(self.provider.flavour.cookie)
        return self.provider.current_session(morsel.value) if morsel else None

    def _token(self, request: Request) -> Response:
        if request.payload.data.get("grant_type") == CIBA_GRANT and self.provider.flavour.ciba:
            return 200, ciba.token(self.provider, request), [("Cache-Control", "no-store")]
        return self.provider.create_token_response(request)

    def _userinfo(self, request: Request) -> Response:
        scheme, _space, value = (request.headers.get("Authorization") or "").partition(" ")
        token = self.provider.bearer(value) if scheme.lower() == "bearer" else None
        if token is None:
            challenge = 'Bearer error="invalid_token"'
            return 401, {"error": "invalid_token"}, [("WWW-Authenticate", challenge)]
        content_type, body = self.provider.userinfo(token)
        return 200, body, [("Content-Type", content_type)]

    def _logout(self, request: Request) -> Response:
        response = self.provider.create_endpoint_response("end_session", request)
        if response is not None:
            return response
        return self._page(200, "logged_out.html", {})

    # -- the simulated e-CPS app (CIBA)

    def _ecps(self, request: Request) -> Response:
        return self._page(200, "ecps.html", {"pending": ciba.pending_requests(self.provider)})

    def _ecps_answer(self, request: Request) -> Response:
        answered = ciba.decide(
            self.provider, request.form.get("auth_req_id", ""), accept=request.form.get("decision") == "accept"
        )
        context = {"pending": ciba.pending_requests(self.provider), "answered": answered}
        return self._page(200 if answered else 409, "ecps.html", context)

    # -- plumbing

    def _people(self) -> list[Person]:
        return list(self.provider.people.values())

    def _page(self, status: int, template: str, context: dict[str, Any]) -> Response:
        context = {"provider": self.provider, "flavour": self.provider.flavour, **context}
        body = render_to_string(f"sandbox/oidc/{template}", context)
        return status, body, [("Content-Type", "text/html; charset=utf-8"), ("Content-Security-Policy", CSP)]

    def _send(self, status: int, body: Any, headers: list[tuple[str, str]]) -> None:
        default_type = "application/json" if isinstance(body, dict) else "text/plain; charset=utf-8"
        text = json.dumps(body) if isinstance(body, dict) else body
        payload = text.encode() if isinstance(text, str) else text
        content_type = next((value for name, value in headers if name.lower() == "content-type"), default_type)
        others = {name: value for name, value in headers if name.lower() != "content-type"}
        others.setdefault("Cache-Control", "no-store")
        self.send_body(status, content_type, payload, others)


class OidcServer:
    """One sandbox provider on its listener. Also the tests' handle (``.provider``, its URLs)."""

    def __init__(self, provider: SandboxProvider, host: str, port: int) -> None:
        self.provider = provider
        self.listener = Listener(host, port, lambda address: HttpServer(address, OidcHandler, self))

    def start(self) -> OidcServer:
        self.listener.open()
        self.provider.base_url = f"http://{self.listener.host}:{self.listener.port}"
        logger.info("Sandbox %s on %s", self.provider.flavour.name, self.provider.discovery_url)
        return self

    def stop(self) -> None:
        self.listener.close()


def make_provider(flavour: Flavour, *clients: Client) -> SandboxProvider:
    people = psc_people() if flavour is PSC else hospital_people()
    return SandboxProvider(flavour, people, list(clients))


def start_provider_in_thread(flavour: Flavour, *clients: Client, host: str = "127.0.0.1", port: int = 0) -> OidcServer:
    """Start a sandbox provider in background threads; ``port=0`` picks a free port."""
    return OidcServer(make_provider(flavour, *clients), host, port).start()


def dmp_web_ps_client(redirect_uri: str) -> Client:
    """The sandbox DMP's web PS as registered at the sandbox PSC (its PSC login, ``sandbox.dmp.psc_login``)."""
    return Client(*WEBPS_PSC_CLIENT, [redirect_uri], [])


def demo_client(provider_id: str, client_id: str, secret: str) -> Client:
    """The DPI as registered at a sandbox provider: its callback and post-logout URIs on each demo address."""
    bases = settings.SANDBOX_OIDC_RP_BASE_URLS
    return Client(
        client_id,
        secret,
        [f"{base}/accounts/oidc/{provider_id}/login/callback/" for base in bases],
        [f"{base}/accounts/login/" for base in bases],
    )


class OidcSimulator:
    """A sandbox identity provider for ``manage.py run_sandbox``."""

    def __init__(self, name: str, flavour: Flavour, provider_id: str, port_setting: str) -> None:
        self.name, self.flavour, self.provider_id, self.port_setting = name, flavour, provider_id, port_setting

    async def serve(self, stop: asyncio.Event) -> None:
        config = settings.OIDC_PROVIDERS[self.provider_id]
        clients = [demo_client(self.provider_id, config["client_id"], config["secret"])]
        if self.flavour is PSC:
            web = f"http://{settings.SANDBOX_DMP_HOST}:{settings.SANDBOX_DMP_WEB_PORT}"
            clients.append(dmp_web_ps_client(f"{web}/webps/psc/retour"))
        server = OidcServer(make_provider(self.flavour, *clients), "127.0.0.1", getattr(settings, self.port_setting))
        await asyncio.to_thread(server.start)
        try:
            await stop.wait()
        finally:
            await asyncio.to_thread(server.stop)


SIMULATORS = [
    OidcSimulator("ProSanté Connect", PSC, "psc", "SANDBOX_PSC_PORT"),
    OidcSimulator("IdP hôpital", HOSPITAL, "hopital", "SANDBOX_HOSPITAL_IDP_PORT"),
]
