"""Writing CDA R2 XML: the small helpers the header (:mod:`documents.cda`) and the volets
(:mod:`documents.ldl_ses`) share. Deterministic: the same input gives the same bytes."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime

from django.utils.timezone import get_default_timezone
from django.utils.translation import gettext as _
from lxml import etree

from documents.codes import Concept

NS = "urn:hl7-org:v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
H = f"{{{NS}}}"


def sub(parent: etree._Element, tag: str, text: str = "", /, **attributes: str) -> etree._Element:
    """A child in the CDA namespace; empty attributes are left out."""
    element = etree.SubElement(parent, H + tag, {name: value for name, value in attributes.items() if value})
    if text:
        element.text = text
    return element


def add_code(parent: etree._Element, tag: str, concept: Concept, **extra: str) -> etree._Element:
    """A coded element with the label of its value set (``displayName``)."""
    return sub(parent, tag, code=concept.code, displayName=concept.label, codeSystem=concept.code_system, **extra)


def typed(element: etree._Element, xsi_type: str) -> etree._Element:
    element.set(f"{{{XSI}}}type", xsi_type)
    return element


def derived_uuid(document_id: str, part: str) -> str:
    """A stable UUID for an inner element, so that building twice gives the same bytes."""
    return str(uuid.uuid5(uuid.NAMESPACE_OID, f"{document_id}/{part}")).upper()


def ts(moment: datetime) -> str:
    """CDA TS with the offset of the local time zone (Europe/Paris): ``20240315143000+0100``."""
    if moment.utcoffset() is None:
        raise ValueError(_("Date sans fuseau horaire : %(moment)s.") % {"moment": moment.isoformat()})
    return moment.astimezone(get_default_timezone()).strftime("%Y%m%d%H%M%S%z")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
