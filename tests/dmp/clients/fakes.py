"""A tiny DMP over HTTPS for the DMP client tests, and what they build answers and configurations with.

:class:`FakeDmp` is a stdlib HTTPS server that requires a client certificate from the test CA,
records what it receives and answers what the test tells it to. It is no DMP (the sandbox DMP is
that): it lets each test pin one answer, byte for byte, and see the request the client sent.
"""

from __future__ import annotations

import dataclasses
import re
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from lxml import etree

from dmp.clients.config import DmpClientConfig
from sandbox.pki import Pki

FIXTURES = Path(__file__).parent / "fixtures"
RELATES_TO = "$RELATES_TO"  # replaced by the request's MessageID in every answer
TOTP = "urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken"


@dataclass
class Answer:
    status: int = 200
    content_type: str = "application/soap+xml; charset=UTF-8"
    body: bytes = b""
    declare_length: bool = True
    delay: float = 0.0  # seconds before answering (a DMP that does not answer)


@dataclass
class Received:
    content_type: str
    body: bytes
    client_subject: str  # RFC 4514-ish subject of the TLS client certificate

    @property
    def envelope(self) -> etree._Element:
        """The SOAP envelope sent (the root part of an MTOM request)."""
        start = self.body.find(b"<?xml")
        end = self.body.rfind(b"Envelope>") + len(b"Envelope>")
        return etree.fromstring(self.body[start:end])


@dataclass
class FakeDmp:
    url: str
    answers: list[Answer] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def answer(self, *answers: Answer) -> None:
        """Queue the answers to the next requests, in order."""
        self.answers.extend(answers)


def soap(action: str, body: bytes | str, *, relates_to: str = RELATES_TO, header: str = "") -> bytes:
    """A SOAP 1.2 answer around ``body`` (an XML fragment, or a fixture file's content)."""
    if isinstance(body, bytes):
        body = etree.tostring(etree.fromstring(body), encoding="unicode")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:wsa="http://www.w3.org/2005/08/addressing"><env:Header>'
        f"<wsa:Action>{action}</wsa:Action><wsa:RelatesTo>{relates_to}</wsa:RelatesTo>{header}"
        f"</env:Header><env:Body>{body}</env:Body></env:Envelope>"
    ).encode()


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def server_context(pki: Pki, stem: str = "server") -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.path(f"{stem}.crt"), pki.path(f"{stem}.key"))
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(pki.ca)
    return context


class QuietServer(ThreadingHTTPServer):
    """A client that gave up (timeout, refused certificate) is what the tests want: no traceback."""

    def handle_error(self, request: object, client_address: object) -> None:
        return None


def start_fake_dmp(context: ssl.SSLContext) -> tuple[FakeDmp, Callable[[], None]]:
    state: dict[str, FakeDmp] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            dmp = state["dmp"]
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            subject = dict(item[0] for item in self.connection.getpeercert().get("subject", ()))
            dmp.received.append(Received(self.headers.get("Content-Type", ""), body, str(subject)))
            answer = dmp.answers.pop(0) if dmp.answers else Answer(status=500, body=b"no answer queued")
            if answer.delay:
                dmp.release.wait(answer.delay)
            match = re.search(rb"MessageID>([^<]+)<", body)
            payload = answer.body.replace(RELATES_TO.encode(), match.group(1) if match else b"")
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            if answer.declare_length:
                self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            return None

    server = QuietServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    dmp = state["dmp"] = FakeDmp(url=f"https://127.0.0.1:{server.server_address[1]}/services")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()

    def stop() -> None:
        dmp.release.set()
        server.shutdown()
        server.server_close()

    return dmp, stop


def config_for(pki: Pki, url: str = "https://127.0.0.1:9/services", **changes: object) -> DmpClientConfig:
    """The settings' configuration, with the test PKI and every endpoint at ``url``."""
    values = {
        "patients_url": f"{url}/patients",
        "registry_url": f"{url}/registry",
        "repository_url": f"{url}/repository",
        "client_cert": pki.path("structure.crt"),
        "client_key": pki.path("structure.key"),
        "signing_cert": pki.path("structure.crt"),
        "signing_key": pki.path("structure.key"),
        "ca_bundle": pki.ca,
        "timeout_seconds": 2.0,
        "connect_timeout_seconds": 2.0,
    }
    return dataclasses.replace(DmpClientConfig.from_settings(), **(values | changes))


def free_port() -> int:
    """A port nothing listens on (bound then closed): connecting to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
