"""MLLP client for outbound messages: send, wait for the ACK, retry transport failures, journal both.

Errors come in two kinds, as in healthchecks' transports: a *transient* failure (connection
refused, reset, timeout) is retried with exponential backoff and, if it persists, raised with
``permanent=False`` so the caller may try again later; a *permanent* one (the peer answered
AE/AR, or something that is not an ACK) is raised at once with ``permanent=True``.

Call :func:`send` outside any transaction: the journal rows must survive the caller's rollback.
"""

from __future__ import annotations

import logging
import socket
import time

from django.conf import settings
from django.utils.translation import gettext as _

from dpi import integrations
from dpi.hl7.ack import Ack, MalformedAck, parse_ack
from dpi.hl7.mllp import FrameReader, frame
from dpi.hl7.models import Message
from dpi.hl7.parsing import codec_for, declared_charset, read_envelope, split_segments

logger = logging.getLogger(__name__)


class TransportError(integrations.TransportError):
    """Sending over MLLP failed; ``permanent`` says whether trying again could help."""

    def __init__(self, text: str, *, permanent: bool, ack: Ack | None = None, message: Message | None = None):
        super().__init__(text, permanent=permanent, code=ack.code if ack else "")
        self.ack = ack
        self.message = message


class MLLPConnection:
    """A blocking MLLP connection: one message out, its ACK back, then the next."""

    def __init__(self, host: str, port: int, *, timeout: float = 10.0, connect_timeout: float | None = None) -> None:
        self._socket = socket.create_connection((host, port), timeout=connect_timeout or timeout)
        self._socket.settimeout(timeout)
        self._frames = FrameReader(settings.MLLP_MAX_MESSAGE_BYTES)

    def __enter__(self) -> MLLPConnection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def exchange(self, payload: bytes) -> bytes:
        """Send one message and return the payload of the next frame the peer sends."""
        self._socket.sendall(frame(payload))
        while True:
            data = self._socket.recv(65536)
            if not data:
                raise ConnectionResetError(_("Connexion fermée par le partenaire avant l'acquittement"))
            frames = self._frames.feed(data)
            if frames:
                return frames[0].payload

    def close(self) -> None:
        self._socket.close()


def send(
    message: str | bytes,
    *,
    host: str,
    port: int,
    timeout: float = 10.0,
    connect_timeout: float | None = None,
    retries: int = 0,
    backoff: float = 0.5,
    max_backoff: float = 30.0,
) -> Ack:
    """Send ``message`` to ``host:port`` and return its ACK when accepted (AA or CA).

    Transport failures are retried ``retries`` times (none by default: a worker should not sleep, its job
    row retries later), waiting ``backoff * 2**attempt`` seconds (at most ``max_backoff``). Raises
    :class:`TransportError`.
    """
    raw = _encode(message)
    journal = Message.from_envelope(
        read_envelope(raw),
        direction=Message.Direction.OUTBOUND,
        peer=f"{host}:{port}",
        size=len(raw),
        status=Message.Status.PENDING,
    )
    journal.save()
    delays = [min(backoff * 2**attempt, max_backoff) for attempt in range(retries)]
    answer = _deliver(
        journal, raw, host=host, port=port, timeout=timeout, connect_timeout=connect_timeout, delays=delays
    )
    return _conclude(journal, answer)


def _deliver(
    journal: Message,
    raw: bytes,
    *,
    host: str,
    port: int,
    timeout: float,
    connect_timeout: float | None,
    delays: list[float],
) -> bytes:
    """The ACK bytes, trying again after each delay on transport failures."""
    attempt = 0
    while True:
        try:
            with MLLPConnection(host, port, timeout=timeout, connect_timeout=connect_timeout) as connection:
                return connection.exchange(raw)
        except OSError as exc:
            error = _("Tentative %(attempt)d : %(error)s") % {"attempt": attempt + 1, "error": repr(exc)}
            logger.warning("HL7 message %s to %s:%s: %s", journal.control_id, host, port, error)
            if attempt == len(delays):
                journal.record_outcome(status=Message.Status.ERROR, ack_code="", ack=b"", error=error)
                raise TransportError(error, permanent=False, message=journal) from exc
            journal.error = error
            journal.save(update_fields=["error"])
            time.sleep(delays[attempt])
            attempt += 1


def _encode(message: str | bytes) -> bytes:
    """Text is sent with CR segment terminators, in the charset its MSH-18 declares."""
    if isinstance(message, bytes):
        return message
    codec = codec_for(declared_charset(message.encode("ascii", errors="replace"))) or "utf-8"
    text = "".join(f"{segment}\r" for segment in split_segments(message))
    try:
        return text.encode(codec)
    except UnicodeEncodeError as exc:
        raise TransportError(str(exc), permanent=True) from exc


def _conclude(journal: Message, answer: bytes) -> Ack:
    try:
        ack = parse_ack(answer)
    except MalformedAck as exc:
        error = _("Acquittement illisible : %(error)s") % {"error": exc}
        journal.record_outcome(status=Message.Status.ERROR, ack_code="", ack=answer, error=error)
        raise TransportError(error, permanent=True, message=journal) from exc
    error = _rejection(journal, ack)
    status = Message.Status.ERROR if error else Message.Status.PROCESSED
    journal.record_outcome(status=status, ack_code=ack.code[:2], ack=answer, error=error)
    if error:
        raise TransportError(error, permanent=True, ack=ack, message=journal)
    return ack


def _rejection(journal: Message, ack: Ack) -> str:
    if ack.control_id != journal.control_id:
        return _("Acquittement d'un autre message (MSA-2 = %(id)s)") % {"id": ack.control_id}
    if not ack.accepted:
        details = "; ".join(f"[{error.code}] {error.text}" for error in ack.errors)
        return _("Message refusé (%(code)s) %(details)s") % {"code": ack.code, "details": details}
    return ""
