"""The XML namespaces of docs/dmp-protocol.md §1, and Clark-notation tag names built from them."""

from __future__ import annotations

NS = {
    "env": "http://www.w3.org/2003/05/soap-envelope",
    "wsa": "http://www.w3.org/2005/08/addressing",
    "wsse": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "query": "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0",
    "rim": "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0",
    "rs": "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0",
    "lcm": "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0",
    "xdsb": "urn:ihe:iti:xds-b:2007",
    "xop": "http://www.w3.org/2004/08/xop/include",
    "hl7": "urn:hl7-org:v3",
    "dmp": "urn:dpi-segur:dmp:patients:1",  # [assumed]: the DMP integration guide's namespace replaces it
}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def tag(prefix: str, local: str) -> str:
    """``tag("rim", "Slot")`` -> ``{urn:oasis:...:rim:3.0}Slot``."""
    return f"{{{NS[prefix]}}}{local}"


def nsmap(*prefixes: str) -> dict[str, str]:
    """The namespace declarations to put on an element built here, for the given prefixes."""
    return {prefix: NS[prefix] for prefix in prefixes}
