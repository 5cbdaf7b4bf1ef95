"""One SOAP 1.2 exchange with the DMP: envelope, WS-Addressing, the VIHF, and reading the answer.

:func:`call` is the one way the transaction modules talk to the DMP. It signs a fresh VIHF for the
actor and the patient, posts the envelope (MTOM for ITI-43), and returns the body of the answer
once it is known to be the answer to *this* request (``wsa:RelatesTo``) and the expected message.
Faults become typed errors (docs/dmp-protocol.md §4): a ``Sender`` fault is a refusal, a
``Receiver`` fault is the DMP's own trouble (transient), as is an HTTP 5xx without a fault.
"""

from __future__ import annotations

import base64
import binascii
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from lxml import etree

from dmp.clients import mtom, transport
from dmp.clients.config import DmpClientConfig
from dmp.clients.errors import DmpError, refused, unavailable, unreadable
from dmp.clients.namespaces import NS, nsmap, tag
from dmp.clients.types import Actor, PatientRef
from dmp.clients.vihf import build_assertion
from dpi.xmlsafe import InvalidXML, parse_xml

logger = logging.getLogger(__name__)

ANONYMOUS = "http://www.w3.org/2005/08/addressing/anonymous"
SOAP_MEDIA_TYPES = {"application/soap+xml", "application/xml", "text/xml"}
_PREFIXES = {uri: prefix for prefix, uri in NS.items()}


@dataclass(frozen=True)
class Operation:
    """A request ``wsa:Action`` and the body element its answer must hold; the answer's action is
    the request's followed by ``Response`` for every transaction of the contract (§2)."""

    action: str
    response: str  # Clark notation of the answer's body element

    @property
    def response_action(self) -> str:
        return f"{self.action}Response"


@dataclass(frozen=True)
class SoapAnswer:
    body: etree._Element  # the element inside env:Body
    attachments: Mapping[str, bytes] = field(default_factory=dict)  # MTOM parts by Content-ID

    def binary(self, element: etree._Element) -> bytes:
        """The bytes an element carries: an ``xop:Include`` of an attachment, or inline base64."""
        include = element.find(tag("xop", "Include"))
        if include is not None:
            key = mtom.content_id(include.get("href", ""))
            if key not in self.attachments:
                raise unreadable(f"xop:Include of a missing part {key!r}")
            return self.attachments[key]
        try:
            return base64.b64decode("".join((element.text or "").split()), validate=True)
        except binascii.Error as exc:
            raise unreadable(f"inline base64 unreadable: {exc}") from exc


def call(
    config: DmpClientConfig,
    *,
    url: str,
    operation: Operation,
    payload: etree._Element,
    actor: Actor,
    patient: PatientRef,
    mtom_request: bool = False,
) -> SoapAnswer:
    """Send ``payload`` for ``actor`` about ``patient``; the answer's body, or a :class:`DmpError`."""
    message_id = f"urn:uuid:{uuid.uuid4()}"
    envelope = _envelope(operation.action, message_id, url, build_assertion(actor, patient, config), payload)
    data = etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")
    if mtom_request:
        body, content_type = mtom.encode(data)
    else:
        body, content_type = data, f'application/soap+xml; charset=UTF-8; action="{operation.action}"'
    started = time.monotonic()
    outcome = "error"
    try:
        answer = _read(transport.post(config, url, body, content_type), operation, message_id, config)
        outcome = "ok"
        return answer
    except DmpError as error:
        outcome = f"{type(error).__name__} {error.code}"
        raise
    finally:
        elapsed = (time.monotonic() - started) * 1000
        logger.info("DMP %s %s: %s in %.0f ms", operation.action, url, outcome, elapsed)


def _envelope(
    action: str, message_id: str, url: str, assertion: etree._Element, payload: etree._Element
) -> etree._Element:
    envelope = etree.Element(tag("env", "Envelope"), nsmap=nsmap("env", "wsa", "wsse"))
    header = etree.SubElement(envelope, tag("env", "Header"))
    must_understand = {tag("env", "mustUnderstand"): "1"}
    _text(header, tag("wsa", "Action"), action, must_understand)
    _text(header, tag("wsa", "MessageID"), message_id)
    _text(etree.SubElement(header, tag("wsa", "ReplyTo")), tag("wsa", "Address"), ANONYMOUS)
    _text(header, tag("wsa", "To"), url, must_understand)
    etree.SubElement(header, tag("wsse", "Security"), must_understand).append(assertion)
    etree.SubElement(envelope, tag("env", "Body")).append(payload)
    return envelope


def _read(answer: transport.HttpAnswer, operation: Operation, message_id: str, config: DmpClientConfig) -> SoapAnswer:
    media_type = answer.content_type.split(";", 1)[0].strip().lower()
    if media_type == "multipart/related":
        parts = mtom.decode(answer.body, answer.content_type)
        xml, attachments = parts.root, parts.attachments
    elif media_type in SOAP_MEDIA_TYPES:
        xml, attachments = answer.body, {}
    else:
        raise _not_soap(answer, f"content type {media_type or 'missing'!r}")
    try:
        envelope = parse_xml(xml, max_bytes=config.max_response_bytes)
    except InvalidXML as exc:
        raise _not_soap(answer, f"XML unreadable: {exc}") from exc
    if envelope.tag != tag("env", "Envelope"):
        raise _not_soap(answer, f"root element {envelope.tag!r}")
    content = _body_content(envelope)
    if content.tag == tag("env", "Fault"):
        raise _fault_error(content)
    if answer.status != 200:
        raise _not_soap(answer, "an error status without a SOAP fault")
    _check_header(envelope, operation, message_id)
    if content.tag != operation.response:
        raise unreadable(f"expected {operation.response}, got {content.tag}")
    return SoapAnswer(body=content, attachments=attachments)


def _body_content(envelope: etree._Element) -> etree._Element:
    body = envelope.find(tag("env", "Body"))
    content = None if body is None else next(iter(body.iterchildren(etree.Element)), None)
    if content is None:
        raise unreadable("SOAP answer with an empty body")
    return content


def _check_header(envelope: etree._Element, operation: Operation, message_id: str) -> None:
    relates_to = envelope.findtext(f"{tag('env', 'Header')}/{tag('wsa', 'RelatesTo')}", "").strip()
    if relates_to != message_id:
        raise unreadable(f"wsa:RelatesTo {relates_to!r} is not the request's {message_id}")
    action = envelope.findtext(f"{tag('env', 'Header')}/{tag('wsa', 'Action')}", "").strip()
    if action != operation.response_action:
        raise unreadable(f"wsa:Action {action!r}, expected {operation.response_action}")


def _fault_error(fault: etree._Element) -> DmpError:
    code = fault.find(f"{tag('env', 'Code')}/{tag('env', 'Value')}")
    subcode = fault.find(f"{tag('env', 'Code')}/{tag('env', 'Subcode')}/{tag('env', 'Value')}")
    reason = (fault.findtext(f"{tag('env', 'Reason')}/{tag('env', 'Text')}") or "").strip()
    if code is None:
        return unreadable("SOAP fault without a code")
    name = _qualified_name(subcode if subcode is not None else code)
    if _qualified_name(code) == "env:Receiver":
        return unavailable(reason, code=name)
    return refused(name, reason)


def _qualified_name(element: etree._Element) -> str:
    """A QName value (``d:DMPClosed``) with the contract's prefix for its namespace (``dmp:DMPClosed``),
    whatever prefix the DMP declared."""
    text = (element.text or "").strip()
    prefix, _, local = text.rpartition(":")
    uri = element.nsmap.get(prefix or None)
    return f"{_PREFIXES[uri]}:{local}" if uri in _PREFIXES else text


def _not_soap(answer: transport.HttpAnswer, why: str) -> DmpError:
    """An answer that is no SOAP message: the DMP's trouble on a 5xx (a proxy's error page...),
    else an answer the DPI cannot read."""
    detail = f"HTTP {answer.status}: {why}"
    if answer.status >= 500:
        return unavailable(detail, code=f"http {answer.status}")
    return unreadable(detail)


def _text(parent: etree._Element, name: str, text: str, attributes: Mapping[str, str] | None = None) -> None:
    etree.SubElement(parent, name, attributes or {}).text = text
