"""The sandbox Annuaire Santé FHIR server (API v2, R4, JSON) on loopback, for the demo and the tests.

As strict as the gateway: the ``ESANTE-API-KEY`` header is required (401), 17 requests per second per
key (429 with ``Retry-After``), only GET searches on Practitioner, PractitionerRole and Organization and
reads by id, every error an ``OperationOutcome``. ``mode`` switches failures: ``error`` answers 500,
``slow`` waits ``slow_seconds`` before answering. Every request is recorded (``requests``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from django.conf import settings

from sandbox.annuaire.resources import Directory, build_directory
from sandbox.annuaire.search import SearchError, outcome, search

logger = logging.getLogger(__name__)

BASE_PATH = "/fhir/v2"
RATE_PER_SECOND = 17
FHIR_JSON = "application/fhir+json;charset=utf-8"


class AnnuaireServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, host: str, port: int, *, api_key: str, people: int, seed: int = 0) -> None:
        self.api_key = api_key
        self.directory: Directory = build_directory(people, seed)
        self.mode = "normal"
        self.slow_seconds = 5.0
        self.requests: list[str] = []
        self.calls: dict[str, deque[float]] = {}
        self.lock = threading.Lock()
        super().__init__((host, port), Handler)

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}{BASE_PATH}"

    def over_limit(self, key: str) -> bool:
        """Whether this call is the 18th (or more) of ``key`` within the last second."""
        now = time.monotonic()
        with self.lock:
            calls = self.calls.setdefault(key, deque())
            while calls and calls[0] <= now - 1:
                calls.popleft()
            if len(calls) >= RATE_PER_SECOND:
                return True
            calls.append(now)
            return False

    def start(self) -> None:
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()

    def handle_error(self, request: object, client_address: tuple) -> None:
        """A client gone before the answer (its timeout) is normal life for a server: a line in the log."""
        logger.info("Sandbox Annuaire: connection from %s ended with an error", client_address, exc_info=True)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: AnnuaireServer

    def do_GET(self) -> None:  # noqa: N802 (the base class's name)
        self.server.requests.append(self.path)
        key = self.headers.get("ESANTE-API-KEY", "")
        if key != self.server.api_key:
            return self.answer(401, outcome("Clé d'API ESANTE-API-KEY absente ou invalide.", "security"))
        if self.server.over_limit(key):
            return self.answer(
                429, outcome("Trop de requêtes : 17 par seconde au plus.", "throttled"), {"Retry-After": "1"}
            )
        if self.server.mode == "error":
            return self.answer(500, outcome("Erreur interne du serveur (mode error du bac à sable).", "exception"))
        if self.server.mode == "slow":
            time.sleep(self.server.slow_seconds)
        self.route()

    def do_POST(self) -> None:  # noqa: N802
        self.refuse_method()

    do_PUT = do_DELETE = do_PATCH = do_POST  # noqa: N815

    def refuse_method(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(min(length, 1 << 20))
        self.answer(405, outcome(f"Méthode {self.command} non autorisée.", "not-supported"))

    def route(self) -> None:
        parts = urlsplit(self.path)
        if not parts.path.startswith(BASE_PATH + "/"):
            return self.answer(404, outcome(f"Ressource inconnue : {parts.path}.", "not-found"))
        segments = parts.path[len(BASE_PATH) + 1 :].split("/")
        try:
            if len(segments) == 1:
                query = parse_qsl(parts.query, keep_blank_values=True)
                return self.answer(200, search(self.server.directory, segments[0], query, self.server.base_url))
            if len(segments) == 2 and f"{segments[0]}/{segments[1]}" in self.server.directory.index:
                return self.answer(200, self.server.directory.index[f"{segments[0]}/{segments[1]}"])
        except SearchError as error:
            return self.answer(400, outcome(str(error), "invalid"))
        self.answer(404, outcome(f"Ressource inconnue : {parts.path}.", "not-found"))

    def answer(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", FHIR_JSON)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
        logger.debug("Sandbox Annuaire %s: " + format, self.address_string(), *args)


def make_server(port: int | None = None) -> AnnuaireServer:
    return AnnuaireServer(
        settings.SANDBOX_ANNUAIRE_HOST,
        settings.SANDBOX_ANNUAIRE_PORT if port is None else port,
        api_key=settings.SANDBOX_ANNUAIRE_API_KEY,
        people=settings.SANDBOX_ANNUAIRE_PEOPLE,
        seed=settings.SANDBOX_ANNUAIRE_SEED,
    )


class AnnuaireSimulator:
    """The sandbox Annuaire Santé for ``manage.py run_sandbox``: SANDBOX_ANNUAIRE_HOST:SANDBOX_ANNUAIRE_PORT."""

    name = "Annuaire Santé"

    async def serve(self, stop: asyncio.Event) -> None:
        server = await asyncio.to_thread(make_server)
        server.start()
        try:
            await stop.wait()
        finally:
            await asyncio.to_thread(server.shutdown)
            server.server_close()
