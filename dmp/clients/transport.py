"""HTTPS to the DMP: mutual TLS, timeouts, a capped answer size, one connection pool per configuration.

The DMP authenticates the structure by its TLS client certificate and the DPI checks the DMP's
server certificate against ``DMP_CA_BUNDLE`` only (not the system's authorities). Anything that
keeps the answer from arriving (timeout, refused or reset connection, TLS failure) is transient:
:class:`~dmp.clients.errors.DmpUnavailable`. What the answer says is for :mod:`dmp.clients.soap`.
"""

from __future__ import annotations

import ssl
import threading
from dataclasses import dataclass

import httpx

from dmp.clients.config import DmpClientConfig
from dmp.clients.errors import DmpConfigurationError, unavailable, unreadable


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    content_type: str
    body: bytes


_clients: dict[DmpClientConfig, httpx.Client] = {}
_clients_lock = threading.Lock()


def post(config: DmpClientConfig, url: str, body: bytes, content_type: str) -> HttpAnswer:
    """POST ``body`` and read the whole answer, refusing it past ``config.max_response_bytes``."""
    try:
        with client_for(config).stream("POST", url, content=body, headers={"Content-Type": content_type}) as answer:
            data = _read_capped(answer, config.max_response_bytes)
            return HttpAnswer(answer.status_code, answer.headers.get("content-type", ""), data)
    except httpx.TimeoutException as exc:
        raise unavailable(f"{type(exc).__name__}: {exc}", code="timeout") from exc
    except httpx.TransportError as exc:
        code = "tls" if _caused_by_tls(exc) else "connection"
        raise unavailable(f"{type(exc).__name__}: {exc}", code=code) from exc


def client_for(config: DmpClientConfig) -> httpx.Client:
    """The pooled client of ``config`` (httpx clients are thread-safe and keep connections alive)."""
    with _clients_lock:
        client = _clients.get(config)
        if client is None:
            client = _clients[config] = httpx.Client(
                verify=_tls_context(config),
                timeout=httpx.Timeout(config.timeout_seconds, connect=config.connect_timeout_seconds),
                limits=httpx.Limits(max_connections=20, max_keepalive_connections=10, keepalive_expiry=30),
            )
        return client


def _tls_context(config: DmpClientConfig) -> ssl.SSLContext:
    try:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(config.ca_bundle))
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(str(config.client_cert), str(config.client_key))
    except OSError as exc:  # ssl.SSLError is an OSError
        raise DmpConfigurationError(
            "Le certificat de l'établissement ou l'autorité de confiance du DMP est introuvable ou illisible : "
            "prévenez l'administrateur.",
            detail=f"{config.client_cert}, {config.client_key}, {config.ca_bundle}: {exc}",
        ) from exc
    return context


def _read_capped(answer: httpx.Response, limit: int) -> bytes:
    declared = answer.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise unreadable(f"answer of {declared} bytes announced, {limit} at most")
    data = bytearray()
    for chunk in answer.iter_bytes():
        data += chunk
        if len(data) > limit:
            raise unreadable(f"answer over {limit} bytes")
    return bytes(data)


def _caused_by_tls(exc: BaseException) -> bool:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False
