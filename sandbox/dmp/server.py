"""The sandbox DMP: SOAP over HTTPS with mutual TLS (``docs/dmp-protocol.md``), and its web pages over HTTP.

The behaviour (:class:`~sandbox.models.DmpBehaviour`) is read for every request (``slow``, ``fault``),
and every 0.2 s by a supervisor that closes both listeners in ``down`` mode and opens them again afterwards.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from pathlib import Path

from cryptography import x509
from django.conf import settings
from django.db import close_old_connections, connection

from sandbox.dmp.constants import MAX_REQUEST_BYTES, PATH_PREFIX
from sandbox.dmp.listeners import POLL_SECONDS, DatabaseHandler, HttpServer, Listener, TlsServer
from sandbox.dmp.pipeline import Inbound, process
from sandbox.dmp.psc_login import WEBPS_PSC_CLIENT, PscClient
from sandbox.dmp.soap import SoapResponse, mtom_body
from sandbox.dmp.vihf import Trust
from sandbox.dmp.web import WebHandler
from sandbox.models import DmpBehaviour
from sandbox.pki import ensure_test_pki

logger = logging.getLogger(__name__)

ENDPOINTS = ("patients", "registry", "repository")


class SoapHandler(DatabaseHandler):
    def do_POST(self) -> None:
        endpoint = self.path.removeprefix(PATH_PREFIX) if self.path.startswith(PATH_PREFIX) else ""
        length = int(self.headers.get("Content-Length") or -1)
        if endpoint not in ENDPOINTS:
            if 0 <= length <= MAX_REQUEST_BYTES:
                self.rfile.read(length)  # read and dropped: the connection can carry the next request
            else:
                self.close_connection = True  # an unread body would be taken for the next request
            self.send_body(404, "text/plain; charset=utf-8", b"Service inconnu.")
            return
        if length < 0:
            self.close_connection = True
            self.send_body(411, "text/plain; charset=utf-8", b"Content-Length obligatoire.")
            return
        too_large = length > MAX_REQUEST_BYTES
        self.close_connection = self.close_connection or too_large
        body = b"" if too_large else self.rfile.read(length)
        behaviour = DmpBehaviour.current()
        inbound = Inbound(endpoint, self.headers.get("Content-Type", ""), body, self._client_certificate(), too_large)
        response = process(inbound, trust=self.server.owner.trust, mode=behaviour.mode)
        if behaviour.mode == DmpBehaviour.Mode.SLOW:
            time.sleep(behaviour.slow_seconds)
        self._send_soap(response)

    def _client_certificate(self) -> x509.Certificate | None:
        der = self.connection.getpeercert(binary_form=True)  # type: ignore[attr-defined]
        return x509.load_der_x509_certificate(der) if der else None

    def _send_soap(self, response: SoapResponse) -> None:
        if response.mtom:
            content_type, body = mtom_body(response, f"MIMEBoundary_{uuid.uuid4().hex}")
        else:
            content_type, body = "application/soap+xml; charset=UTF-8", response.envelope
        self.send_body(response.status, content_type, body)


class DmpServer:
    """The sandbox DMP: both listeners and the supervisor that follows the behaviour. Also the tests' handle."""

    def __init__(self, host: str, port: int, web_port: int, *, pki_dir: Path | None = None) -> None:
        self.pki = ensure_test_pki(pki_dir or settings.DMP_PKI_DIR)
        self.trust = Trust.from_file(self.pki.ca)
        self.soap = Listener(host, port, lambda address: TlsServer(address, SoapHandler, self))
        self.web = Listener(host, web_port, lambda address: HttpServer(address, WebHandler, self))
        self.psc: PscClient | None = None  # the web PS's login through ProSanté Connect, when configured
        self._stop = threading.Event()
        self._supervisor: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- the URLs the DPI is configured with

    @property
    def base_url(self) -> str:
        return f"https://{self.soap.host}:{self.soap.port}{PATH_PREFIX}"

    @property
    def patients_url(self) -> str:
        return self.base_url + "patients"

    @property
    def registry_url(self) -> str:
        return self.base_url + "registry"

    @property
    def repository_url(self) -> str:
        return self.base_url + "repository"

    @property
    def webps_url(self) -> str:
        return f"http://{self.web.host}:{self.web.port}/webps/contexte"

    @property
    def webps_psc_url(self) -> str:
        return f"http://{self.web.host}:{self.web.port}/webps/psc"

    @property
    def psc_redirect_uri(self) -> str:
        return f"{self.webps_psc_url}/retour"

    @property
    def drimbox_url(self) -> str:
        return f"http://{self.web.host}:{self.web.port}/drimbox/contexte"

    # -- life

    def start(self) -> DmpServer:
        """Open the listeners (the ports are known once this returns) and start following the behaviour."""
        self.soap.open()
        self.web.open()
        self.follow_behaviour()
        self._supervisor = threading.Thread(target=self._supervise, name="dmp-supervisor", daemon=True)
        self._supervisor.start()
        logger.info("Sandbox DMP on %s (web pages %s)", self.base_url, self.webps_url)
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._supervisor is not None:
            self._supervisor.join()
        with self._lock:
            self.soap.close()
            self.web.close()
        logger.info("Sandbox DMP stopped")

    def follow_behaviour(self) -> None:
        """Close or open the listeners as the behaviour says, now (the supervisor does it every 0.2 s)."""
        close_old_connections()
        try:
            down = DmpBehaviour.current().mode == DmpBehaviour.Mode.DOWN
        finally:
            close_old_connections()
        with self._lock:
            for listener in (self.soap, self.web):
                if down and listener.listening:
                    listener.close()
                elif not down and not listener.listening and not self._stop.is_set():
                    listener.open()

    def _supervise(self) -> None:
        try:
            while not self._stop.wait(POLL_SECONDS):
                try:
                    self.follow_behaviour()
                except Exception:  # database briefly unavailable: keep the current state
                    logger.exception("Sandbox DMP: cannot follow its behaviour")
        finally:
            connection.close()


def start_dmp_in_thread(
    host: str = "127.0.0.1", port: int = 0, web_port: int = 0, *, pki_dir: Path | None = None
) -> DmpServer:
    """Start the sandbox DMP in background threads; ``port=0`` picks free ports (see the handle's URLs)."""
    return DmpServer(host, port, web_port, pki_dir=pki_dir).start()


class DmpSimulator:
    """The sandbox DMP for ``manage.py run_sandbox``: SANDBOX_DMP_HOST, SANDBOX_DMP_PORT and SANDBOX_DMP_WEB_PORT."""

    name = "DMP"

    async def serve(self, stop: asyncio.Event) -> None:
        server = DmpServer(settings.SANDBOX_DMP_HOST, settings.SANDBOX_DMP_PORT, settings.SANDBOX_DMP_WEB_PORT)
        await asyncio.to_thread(server.start)
        server.psc = PscClient(
            settings.OIDC_PROVIDERS["psc"]["discovery_url"], *WEBPS_PSC_CLIENT, server.psc_redirect_uri
        )
        try:
            await stop.wait()
        finally:
            await asyncio.to_thread(server.stop)
