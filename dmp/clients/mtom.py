"""MTOM/XOP (multipart/related) for ITI-43: the request the DPI sends, the answers it reads.

A small parser of its own rather than the ``email`` package: documents are binary (PDF inside a
CDA, images), and splitting on the exact delimiter keeps every byte as sent. Only what MTOM needs
is read: each part's Content-ID, Content-Type and Content-Transfer-Encoding.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesHeaderParser
from urllib.parse import unquote

from dmp.clients.errors import unreadable

ROOT_CONTENT_TYPE = 'application/xop+xml; charset=UTF-8; type="application/soap+xml"'
IDENTITY_ENCODINGS = {"", "binary", "8bit", "7bit"}


@dataclass(frozen=True)
class Multipart:
    root: bytes  # the SOAP envelope (the root part)
    attachments: dict[str, bytes] = field(default_factory=dict)  # the other parts, by Content-ID


def encode(envelope: bytes) -> tuple[bytes, str]:
    """``envelope`` as an MTOM message of one part; returns the body and its Content-Type."""
    boundary = f"MIMEBoundary_{uuid.uuid4().hex}"
    root_id = f"root.{uuid.uuid4().hex}@dpi"
    head = (
        f"--{boundary}\r\n"
        f"Content-Type: {ROOT_CONTENT_TYPE}\r\n"
        "Content-Transfer-Encoding: binary\r\n"
        f"Content-ID: <{root_id}>\r\n\r\n"
    )
    body = head.encode("ascii") + envelope + f"\r\n--{boundary}--\r\n".encode("ascii")
    content_type = (
        f'multipart/related; type="application/xop+xml"; start="<{root_id}>"; '
        f'start-info="application/soap+xml"; boundary="{boundary}"'
    )
    return body, content_type


def decode(body: bytes, content_type: str) -> Multipart:
    """Split a multipart/related answer into its root part and its attachments."""
    header = _header(content_type)
    boundary = header.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise unreadable("multipart answer without a boundary")
    start = header.get_param("start")
    parts = [_part(piece) for piece in _pieces(body, boundary.encode("latin-1"))]
    if not parts:
        raise unreadable("multipart answer without any part")
    root_id = content_id(start) if isinstance(start, str) else parts[0][0]
    by_id = dict(parts)
    if root_id not in by_id:
        raise unreadable("multipart answer without its root part")
    root = by_id.pop(root_id)
    return Multipart(root=root, attachments=by_id)


def content_id(value: str) -> str:
    """A Content-ID header, or a ``cid:`` reference to it, in the one form used as a key."""
    value = value.strip()
    if value.lower().startswith("cid:"):
        value = unquote(value[4:])  # a cid URL is percent-encoded (RFC 2392)
    return value.strip("<>")


def _header(content_type: str) -> Message:
    message = Message()
    message["Content-Type"] = content_type
    return message


def _pieces(body: bytes, boundary: bytes) -> list[bytes]:
    """The parts between the delimiters; a missing closing delimiter means a truncated answer."""
    pieces = (b"\r\n" + body).split(b"\r\n--" + boundary)
    for index, piece in enumerate(pieces[1:], start=1):
        if piece.startswith(b"--"):
            return pieces[1:index]
    raise unreadable("multipart answer truncated: no closing delimiter")


def _part(piece: bytes) -> tuple[str, bytes]:
    padding, crlf, rest = piece.partition(b"\r\n")
    if padding.strip() or not crlf:
        raise unreadable("multipart answer with a malformed delimiter line")
    if rest.startswith(b"\r\n"):
        raw_headers, content = b"", rest[2:]
    else:
        raw_headers, separator, content = rest.partition(b"\r\n\r\n")
        if not separator:
            raise unreadable("multipart part without the end of its headers")
    headers = BytesHeaderParser().parsebytes(raw_headers + b"\r\n\r\n")
    return content_id(headers.get("Content-ID", "")), _decoded(content, headers.get("Content-Transfer-Encoding", ""))


def _decoded(content: bytes, encoding: str) -> bytes:
    encoding = encoding.strip().lower()
    if encoding in IDENTITY_ENCODINGS:
        return content
    if encoding == "base64":
        try:
            return base64.b64decode(b"".join(content.split()), validate=True)
        except binascii.Error as exc:
            raise unreadable(f"multipart part with bad base64: {exc}") from exc
    raise unreadable(f"multipart part with an unsupported transfer encoding {encoding!r}")
