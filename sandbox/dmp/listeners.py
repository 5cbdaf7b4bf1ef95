"""Listeners of the sandbox DMP: Python's ``http.server``, one thread per connection, closable on demand.

The TLS handshake happens in the connection's thread, so a client that never finishes it blocks nobody.
A listener can be closed (the ``down`` mode: its open connections are cut too, so the DPI sees refused
or reset connections) and opened again on the same port.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

from django.db import close_old_connections, connection

from sandbox.pki import Pki

if TYPE_CHECKING:
    from sandbox.dmp.server import DmpServer

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.2  # how often the supervisor reads the behaviour
SHUTDOWN_POLL_SECONDS = 0.05  # how soon a closing listener stops accepting
HANDSHAKE_TIMEOUT = 10.0


class HttpServer(ThreadingHTTPServer):
    """A threading HTTP server that knows its open connections, to cut them when it closes."""

    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], owner: DmpServer) -> None:
        self.owner = owner
        self.open_connections: set[socket.socket] = set()
        self.lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: socket.socket, client_address: tuple) -> None:
        with self.lock:
            self.open_connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: socket.socket) -> None:
        with self.lock:
            self.open_connections.discard(request)
        super().shutdown_request(request)

    def cut_connections(self) -> None:
        with self.lock:
            opened = list(self.open_connections)
        for request in opened:
            try:
                request.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: object, client_address: tuple) -> None:
        """A refused handshake or a peer gone is normal life for a server: a line in the log, no traceback."""
        logger.info("Sandbox DMP: connection from %s ended with an error", client_address, exc_info=True)


class TlsServer(HttpServer):
    """The HTTPS listener: mutual TLS, client certificate required and issued by the sandbox CA."""

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], owner: DmpServer) -> None:
        super().__init__(address, handler, owner)
        self.context = _tls_context(owner.pki)

    def get_request(self) -> tuple[socket.socket, tuple]:
        raw, address = self.socket.accept()
        return self.context.wrap_socket(raw, server_side=True, do_handshake_on_connect=False), address

    def finish_request(self, request: socket.socket, client_address: tuple) -> None:
        assert isinstance(request, ssl.SSLSocket)  # noqa: S101 (get_request wraps every connection)
        request.settimeout(HANDSHAKE_TIMEOUT)
        request.do_handshake()
        request.settimeout(None)
        super().finish_request(request, client_address)


def _tls_context(pki: Pki) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cafile=str(pki.ca))
    context.load_cert_chain(str(pki.path("server.crt")), str(pki.path("server.key")))
    return context


class DatabaseHandler(BaseHTTPRequestHandler):
    """Requests use the ORM from the connection's thread: fresh connections around each, closed at the end."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave at once, not after the client's delayed ACK
    server: HttpServer

    def handle_one_request(self) -> None:
        close_old_connections()
        try:
            super().handle_one_request()
        finally:
            close_old_connections()

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            connection.close()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
        logger.debug("Sandbox DMP %s: " + format, self.address_string(), *args)

    def send_body(self, status: int, content_type: str, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:  # said, so that a client does not send its next request on this connection
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)


class Listener:
    """One listener that can be closed and opened again on the same port (``down`` mode)."""

    def __init__(self, host: str, port: int, make: Callable[[tuple[str, int]], HttpServer]) -> None:
        self.host, self.port, self.make = host, port, make
        self.server: HttpServer | None = None

    @property
    def listening(self) -> bool:
        return self.server is not None

    def open(self) -> None:
        server = self.make((self.host, self.port))
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, args=(SHUTDOWN_POLL_SECONDS,), daemon=True).start()
        self.server = server

    def close(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            server.shutdown()
            server.server_close()
            server.cut_connections()
