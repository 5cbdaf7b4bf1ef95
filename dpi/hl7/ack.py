"""Original-mode acknowledgements: building the ACK the DPI answers, reading the ACK a peer answers."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from dpi.hl7.errors import ApplicationError, ErrorDetail
from dpi.hl7.parsing import Encoding, Header, codec_for, escape, read_envelope, unescape

DEFAULT_VERSION = "2.5"
ACCEPTED_CODES = ("AA", "CA")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


class MalformedAck(ValueError):
    """The bytes a peer answered are not an acknowledgement."""


@dataclass(frozen=True)
class Ack:
    """An acknowledgement read from a peer."""

    code: str
    control_id: str  # MSA-2, the MSH-10 of the message acknowledged
    errors: tuple[ErrorDetail, ...] = ()

    @property
    def accepted(self) -> bool:
        return self.code in ACCEPTED_CODES


def ack_charset(header: Header) -> tuple[str, str]:
    """MSH-18 value and codec of the ACK: the request's when known, else the default."""
    codec = codec_for(header.charset)
    if codec:
        return header.charset, codec
    return settings.HL7_DEFAULT_CHARSET, codec_for("") or "utf-8"


def build_ack(header: Header, *, code: str, errors: Sequence[ErrorDetail] = ()) -> str:
    """The ACK text answering a message whose header is ``header``, segments terminated by CR."""
    charset, _codec = ack_charset(header)
    msh = [
        "MSH",
        "^~\\&",
        _copy(header.receiving_application) or escape(settings.HL7_APPLICATION),
        _copy(header.receiving_facility) or escape(settings.HL7_FACILITY),
        _copy(header.sending_application),
        _copy(header.sending_facility),
        timezone.localtime().strftime("%Y%m%d%H%M%S%z"),
        "",
        f"ACK^{_copy(header.trigger_event)}^ACK",
        new_control_id(),
        _copy(header.processing_id) or "P",
        _copy(header.version) or DEFAULT_VERSION,
        "",
        "",
        "",
        "",
        _copy(header.country),
        _copy(charset),
    ]
    segments = ["|".join(msh).rstrip("|"), f"MSA|{code}|{_copy(header.control_id)}"]
    segments += [_err_segment(error) for error in errors]
    return "".join(f"{segment}\r" for segment in segments)


def encode_ack(text: str, header: Header) -> bytes:
    """ACK bytes in the charset of the request."""
    _charset, codec = ack_charset(header)
    return text.encode(codec, errors="replace")


def new_control_id() -> str:
    return uuid.uuid4().hex[:20]


def _copy(value: str) -> str:
    """A request field copied into the ACK: no control characters, no stray field separator."""
    return _CONTROL_CHARACTERS.sub("", value).replace("|", "\\F\\")


def _err_segment(error: ErrorDetail) -> str:
    fields = [
        "ERR",
        "",
        _copy(error.location),
        "^".join((error.code, escape(error.label), "HL70357")),
        error.severity,
        _application_error(error.application_error),
        "",
        "",
        escape(error.text),
    ]
    return "|".join(fields).rstrip("|")


def _application_error(error: ApplicationError | None) -> str:
    if error is None:
        return ""
    return "^".join(escape(part) for part in (error.code, error.label, error.system))


def parse_ack(data: bytes) -> Ack:
    """Read an acknowledgement; raise :class:`MalformedAck` if it has no MSH or no MSA."""
    envelope = read_envelope(data)
    header = envelope.header
    if not header.fields:
        raise MalformedAck(envelope.problem.text if envelope.problem else "no MSH segment")
    segments = [(segment[:3], segment.split(header.encoding.field)) for segment in envelope.segments]
    msa = next((fields for name, fields in segments if name == "MSA"), [])
    if len(msa) < 2 or not msa[1]:
        raise MalformedAck("no MSA segment")
    return Ack(
        code=msa[1],
        control_id=msa[2] if len(msa) > 2 else "",
        errors=tuple(_read_error(fields, header.encoding) for name, fields in segments if name == "ERR"),
    )


def _read_error(fields: list[str], encoding: Encoding) -> ErrorDetail:
    def component(number: int, position: int) -> str:
        parts = fields[number].split(encoding.component) if number < len(fields) else []
        return unescape(parts[position - 1], encoding) if position <= len(parts) else ""

    application = component(5, 1)
    return ErrorDetail(
        code=component(3, 1),
        text=component(8, 1) or component(3, 2),
        location=fields[2] if len(fields) > 2 else "",
        severity=component(4, 1),
        application_error=ApplicationError(application, component(5, 2), component(5, 3)) if application else None,
    )
