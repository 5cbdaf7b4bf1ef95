"""The hardened XML parser every XML input goes through (dpi/xmlsafe.py)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from lxml import etree

from dpi.xmlsafe import InvalidXML, UnsafeXML, parse_xml


def first_line_of_passwd() -> str:
    return Path("/etc/passwd").read_text(errors="replace").splitlines()[0]


def test_well_formed_document_is_parsed_with_its_stylesheet_instruction():
    root = parse_xml(b'<?xml version="1.0"?>\n<?xml-stylesheet type="text/xsl" href="cda.xsl"?>\n<doc a="1">t</doc>')

    (instruction,) = list(root.itersiblings(preceding=True))
    assert (root.tag, root.get("a"), root.text) == ("doc", "1", "t")
    assert (instruction.target, instruction.get("href")) == ("xml-stylesheet", "cda.xsl")


def test_byte_order_mark_is_accepted():
    assert parse_xml(b"\xef\xbb\xbf<doc/>").tag == "doc"


@pytest.mark.parametrize(
    "payload",
    [
        b'<!DOCTYPE doc [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><doc>&xxe;</doc>',
        b'<!DOCTYPE doc [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><doc a="&xxe;"/>',
        b'<!DOCTYPE doc [<!ENTITY % xxe SYSTEM "file:///etc/passwd"> %xxe;]><doc/>',
        b'<!DOCTYPE doc SYSTEM "file:///etc/passwd"><doc/>',
    ],
    ids=["entity-in-text", "entity-in-attribute", "parameter-entity", "external-dtd"],
)
def test_xxe_is_refused_and_the_file_never_read(payload):
    with pytest.raises(UnsafeXML, match="DOCTYPE") as raised:
        parse_xml(payload)

    assert first_line_of_passwd() not in str(raised.value)


def test_entity_pointing_at_the_network_is_refused_without_connecting():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        server.settimeout(0.5)
        port = server.getsockname()[1]
        payload = f'<!DOCTYPE doc [<!ENTITY e SYSTEM "http://127.0.0.1:{port}/x">]><doc>&e;</doc>'.encode()

        with pytest.raises(UnsafeXML):
            parse_xml(payload)
        with pytest.raises(TimeoutError):
            server.accept()


def test_billion_laughs_is_refused_without_expansion():
    entities = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    payload = f'<!DOCTYPE lolz [<!ENTITY lol0 "lol">{entities}]><lolz>&lol9;</lolz>'.encode()

    with pytest.raises(UnsafeXML, match="DOCTYPE"):
        parse_xml(payload)


def test_doctype_without_entities_is_refused_too():
    with pytest.raises(UnsafeXML, match="DOCTYPE"):
        parse_xml(b"<!DOCTYPE doc><doc/>")


def test_input_above_the_size_limit_is_refused():
    with pytest.raises(UnsafeXML, match="taille autorisée"):
        parse_xml(b"<doc>" + b"x" * 100 + b"</doc>", max_bytes=100)


def test_input_at_the_size_limit_is_accepted():
    payload = b"<doc>" + b"x" * 89 + b"</doc>"

    assert parse_xml(payload, max_bytes=len(payload)).text == "x" * 89


def test_parser_limits_stay_on():
    too_deep = b"<a>" * 300 + b"</a>" * 300
    too_long_text = b"<doc>" + b"x" * 10_000_001 + b"</doc>"

    with pytest.raises(UnsafeXML, match="limite"):
        parse_xml(too_deep)
    with pytest.raises(UnsafeXML, match="limite"):
        parse_xml(too_long_text)


@pytest.mark.parametrize("payload", [b"", b" \n\t"], ids=["empty", "blank"])
def test_empty_input_is_invalid(payload):
    with pytest.raises(InvalidXML, match="vide"):
        parse_xml(payload)


def test_malformed_input_says_where():
    with pytest.raises(InvalidXML, match="mal formé.*line 1") as raised:
        parse_xml(b"<doc><b></doc>")

    assert not isinstance(raised.value, UnsafeXML)


@pytest.mark.parametrize(
    "payload",
    [
        b'<?xml version="1.0" encoding="UTF-8"?><doc>caf\xe9</doc>',
        b'<?xml version="1.0" encoding="X-NO-SUCH-CHARSET"?><doc/>',
    ],
    ids=["latin1-bytes-declared-utf8", "unknown-encoding"],
)
def test_wrong_encoding_declaration_is_invalid(payload):
    with pytest.raises(InvalidXML, match="encodage"):
        parse_xml(payload)


def test_text_input_is_a_programming_error():
    with pytest.raises(TypeError):
        parse_xml("<doc/>")  # type: ignore[arg-type]


def test_errors_are_value_errors_for_callers():
    assert issubclass(UnsafeXML, InvalidXML) and issubclass(InvalidXML, ValueError)


def test_undeclared_entity_is_malformed_not_resolved():
    with pytest.raises(InvalidXML, match="mal formé"):
        parse_xml(b"<doc>&passwd;</doc>")


def test_returned_tree_keeps_comments_and_namespaces():
    root = parse_xml(b'<h:doc xmlns:h="urn:hl7-org:v3"><!-- note --><h:id/></h:doc>')

    assert isinstance(root[0], etree._Comment)
    assert root[1].tag == "{urn:hl7-org:v3}id"
