"""SOAP 1.2 on the wire (``docs/dmp-protocol.md`` §1, §2, §4): read a request, plain or MTOM, write answers.

Reading never trusts the client: the body is parsed with the project's hardened parser, the
``xop:Include`` references of an MTOM request are resolved from its parts (inline base64 is accepted
too), and whatever is not a SOAP 1.2 envelope with its WS-Addressing header is a ``dmp:MalformedRequest``.
"""

from __future__ import annotations

import base64
import re
import uuid
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from lxml import etree

from dpi.xmlsafe import InvalidXML, parse_xml
from sandbox.dmp.constants import MAX_REQUEST_BYTES, NS, qname


class DmpFault(Exception):
    """A SOAP fault to answer: ``Sender`` faults with HTTP 400, ``Receiver`` faults with HTTP 500."""

    def __init__(self, subcode: str, text: str, *, receiver: bool = False) -> None:
        super().__init__(text)
        self.subcode = subcode
        self.text = text
        self.receiver = receiver

    @property
    def http_status(self) -> int:
        return 500 if self.receiver else 400


def malformed(text: str) -> DmpFault:
    return DmpFault("dmp:MalformedRequest", text)


@dataclass(frozen=True)
class SoapRequest:
    """A readable SOAP 1.2 request: its header fields and the first element of its body."""

    envelope: etree._Element
    action: str
    message_id: str
    body: etree._Element


@dataclass(frozen=True)
class Attachment:
    """A document sent as an MTOM part."""

    content_id: str
    mime_type: str
    data: bytes


@dataclass
class SoapResponse:
    """What to send back: the envelope, and the parts of an MTOM answer (ITI-43)."""

    envelope: bytes
    status: int = 200
    attachments: list[Attachment] = field(default_factory=list)
    mtom: bool = False


# --- Reading ---------------------------------------------------------------------------------------

_PARAM = re.compile(r';\s*([\w-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)')


def content_type_params(content_type: str) -> tuple[str, dict[str, str]]:
    """``type/subtype`` in lower case and its parameters (names lower-cased, quotes removed)."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    params = {name.lower(): value.strip('"') for name, value in _PARAM.findall(content_type)}
    return media_type, params


def read_request(content_type: str, body: bytes) -> SoapRequest:
    """The SOAP request in ``body``; raises :class:`DmpFault` (``dmp:MalformedRequest``)."""
    media_type, params = content_type_params(content_type)
    if media_type == "application/soap+xml":
        return _read_envelope(body, {})
    if media_type == "multipart/related":
        if params.get("type", "").lower() != "application/xop+xml":
            raise malformed(_("Requête multipart qui n'est pas MTOM/XOP (type=application/xop+xml attendu)."))
        root, parts = _split_mtom(body, params)
        return _read_envelope(root, parts)
    raise malformed(
        _("Type de contenu « %(type)s » : une enveloppe SOAP 1.2 (application/soap+xml) est attendue.")
        % {"type": media_type or "-"}
    )


def _split_mtom(body: bytes, params: dict[str, str]) -> tuple[bytes, dict[str, bytes]]:
    """The root part and the other parts by Content-ID, from a multipart/related body."""
    boundary = params.get("boundary", "")
    if not boundary:
        raise malformed(_("Requête MTOM sans paramètre boundary."))
    parts: dict[str, tuple[str, bytes]] = {}
    order: list[str] = []
    delimiter = b"--" + boundary.encode("latin-1")
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        headers, _separator, content = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        fields = _part_headers(headers)
        content_id = fields.get("content-id", "").strip().strip("<>")
        parts[content_id] = (fields.get("content-type", ""), content.removesuffix(b"\r\n"))
        order.append(content_id)
    if not order:
        raise malformed(_("Requête MTOM sans partie lisible."))
    start = params.get("start", "").strip("<>") or order[0]
    if start not in parts:
        raise malformed(_("Partie racine MTOM introuvable (start=%(start)s).") % {"start": start})
    root_type, _params = content_type_params(parts[start][0])
    if root_type != "application/xop+xml":
        raise malformed(_("La partie racine MTOM doit être application/xop+xml."))
    others = {content_id: content for content_id, (_type, content) in parts.items() if content_id != start}
    return parts[start][1], others


def _part_headers(raw: bytes) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in raw.decode("latin-1").split("\r\n"):
        name, separator, value = line.partition(":")
        if separator:
            fields[name.strip().lower()] = value.strip()
    return fields


def _read_envelope(data: bytes, parts: dict[str, bytes]) -> SoapRequest:
    try:
        envelope = parse_xml(data, max_bytes=MAX_REQUEST_BYTES)
    except InvalidXML as exc:
        raise malformed(_("Enveloppe SOAP illisible : %(reason)s") % {"reason": exc}) from exc
    if envelope.tag != qname("env", "Envelope"):
        raise malformed(_("L'élément racine n'est pas une enveloppe SOAP 1.2 (%(tag)s).") % {"tag": envelope.tag})
    _resolve_xop(envelope, parts)
    header = envelope.find("env:Header", NS)
    action = _header_text(header, "wsa:Action")
    message_id = _header_text(header, "wsa:MessageID")
    if not action or not message_id:
        raise malformed(_("En-tête WS-Addressing incomplet : wsa:Action et wsa:MessageID sont obligatoires."))
    body = envelope.find("env:Body", NS)
    content = next(iter(body), None) if body is not None else None
    if content is None or not isinstance(content.tag, str):
        raise malformed(_("Corps SOAP vide."))
    return SoapRequest(envelope=envelope, action=action, message_id=message_id, body=content)


def _header_text(header: etree._Element | None, path: str) -> str:
    element = header.find(path, NS) if header is not None else None
    return (element.text or "").strip() if element is not None else ""


def _resolve_xop(envelope: etree._Element, parts: dict[str, bytes]) -> None:
    """Replace each ``xop:Include`` by the base64 text of the part it names."""
    for include in envelope.iter(qname("xop", "Include")):
        content_id = (include.get("href") or "").removeprefix("cid:")
        if content_id not in parts:
            raise malformed(_("xop:Include vers une partie absente : %(cid)s") % {"cid": content_id})
        parent = include.getparent()
        parent.remove(include)
        parent.text = base64.b64encode(parts[content_id]).decode("ascii")


# --- Writing ---------------------------------------------------------------------------------------

_ENVELOPE_NSMAP = {prefix: NS[prefix] for prefix in ("env", "wsa", "wsse", "dmp")}
# declared once on the envelope; dmp and wsse also name fault subcodes in text (QNames)
_RESPONSE_NSMAP = {prefix: NS[prefix] for prefix in ("env", "wsa", "wsse", "dmp", "rim", "rs", "query", "xdsb", "xop")}


def envelope(*, action: str, relates_to: str, body: etree._Element) -> bytes:
    """A SOAP 1.2 response envelope: ``wsa:Action``, ``wsa:RelatesTo`` = the request's MessageID."""
    root = etree.Element(qname("env", "Envelope"), nsmap=_ENVELOPE_NSMAP)
    header = etree.SubElement(root, qname("env", "Header"))
    etree.SubElement(header, qname("wsa", "Action"), {qname("env", "mustUnderstand"): "1"}).text = action
    etree.SubElement(header, qname("wsa", "MessageID")).text = f"urn:uuid:{uuid.uuid4()}"
    if relates_to:
        etree.SubElement(header, qname("wsa", "RelatesTo")).text = relates_to
    etree.SubElement(root, qname("env", "Body")).append(body)
    etree.cleanup_namespaces(root, top_nsmap=_RESPONSE_NSMAP, keep_ns_prefixes=["dmp", "wsse"])
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def fault_response(fault: DmpFault, *, relates_to: str = "") -> SoapResponse:
    """The SOAP 1.2 fault of §4 (French reason)."""
    element = etree.Element(qname("env", "Fault"))
    code = etree.SubElement(element, qname("env", "Code"))
    etree.SubElement(code, qname("env", "Value")).text = "env:Receiver" if fault.receiver else "env:Sender"
    etree.SubElement(etree.SubElement(code, qname("env", "Subcode")), qname("env", "Value")).text = fault.subcode
    reason = etree.SubElement(element, qname("env", "Reason"))
    text = etree.SubElement(reason, qname("env", "Text"), {"{http://www.w3.org/XML/1998/namespace}lang": "fr"})
    text.text = fault.text
    data = envelope(action="http://www.w3.org/2005/08/addressing/soap/fault", relates_to=relates_to, body=element)
    return SoapResponse(envelope=data, status=fault.http_status)


def mtom_body(response: SoapResponse, boundary: str) -> tuple[str, bytes]:
    """Content-Type and body of an MTOM answer: the envelope part, then one part per document."""
    start = "root@dmp"
    content_type = (
        f'multipart/related; type="application/xop+xml"; start="<{start}>"; '
        f'start-info="application/soap+xml"; boundary="{boundary}"'
    )
    chunks = [
        _part(start, 'application/xop+xml; charset=UTF-8; type="application/soap+xml"', "8bit", response.envelope)
    ]
    chunks += [_part(item.content_id, item.mime_type, "binary", item.data) for item in response.attachments]
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + chunk + b"\r\n" for chunk in chunks)
    return content_type, body + b"--" + boundary.encode() + b"--\r\n"


def _part(content_id: str, content_type: str, encoding: str, data: bytes) -> bytes:
    headers = f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: {encoding}\r\nContent-ID: <{content_id}>\r\n"
    return headers.encode("ascii") + b"\r\n" + data
