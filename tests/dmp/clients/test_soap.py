"""One SOAP exchange: the request's header, and every kind of answer mapped to its typed error
(docs/dmp-protocol.md §2 and §4)."""

from __future__ import annotations

import logging

import pytest
from lxml import etree

from dmp.clients import soap
from dmp.clients.errors import MESSAGES, DmpProtocolError, DmpRefused, DmpUnavailable
from dmp.clients.namespaces import tag
from tests.dmp.clients.fakes import Answer
from tests.dmp.clients.fakes import soap as envelope

PING = soap.Operation("urn:test:Ping", "{urn:test}Pong")
PONG = envelope("urn:test:PingResponse", '<t:Pong xmlns:t="urn:test">ok</t:Pong>')
FAULT_ACTION = "http://www.w3.org/2005/08/addressing/soap/fault"
SENDER_SUBCODES = [code for code in MESSAGES if ":" in code and code != "dmp:ServiceUnavailable"]


def fault(subcode: str, *, code: str = "env:Sender", reason: str = "Texte du DMP", prefixes: str = "") -> bytes:
    declarations = prefixes or (
        'xmlns:dmp="urn:dpi-segur:dmp:patients:1" xmlns:wsa="http://www.w3.org/2005/08/addressing" '
        'xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"'
    )
    return envelope(
        FAULT_ACTION,
        f"<env:Fault {declarations}><env:Code><env:Value>{code}</env:Value>"
        f"<env:Subcode><env:Value>{subcode}</env:Value></env:Subcode></env:Code>"
        f'<env:Reason><env:Text xml:lang="fr">{reason}</env:Text></env:Reason></env:Fault>',
    )


@pytest.fixture
def ping(fake_dmp, config, actor, patient):
    def call(*answers: Answer) -> soap.SoapAnswer:
        fake_dmp.answer(*answers)
        return soap.call(
            config,
            url=fake_dmp.url,
            operation=PING,
            payload=etree.Element("{urn:test}Ping"),
            actor=actor,
            patient=patient,
        )

    return call


def test_request_header_carries_addressing_and_the_vihf(ping, fake_dmp):
    answer = ping(Answer(body=PONG))

    assert answer.body.text == "ok"
    (request,) = fake_dmp.received
    assert request.content_type == 'application/soap+xml; charset=UTF-8; action="urn:test:Ping"'
    header = request.envelope.find(tag("env", "Header"))
    must_understand = tag("env", "mustUnderstand")
    action, message_id, reply_to, to, security = header
    assert (action.tag, action.text, action.get(must_understand)) == (tag("wsa", "Action"), "urn:test:Ping", "1")
    assert message_id.text.startswith("urn:uuid:")
    assert reply_to.findtext(tag("wsa", "Address")) == "http://www.w3.org/2005/08/addressing/anonymous"
    assert (to.tag, to.text, to.get(must_understand)) == (tag("wsa", "To"), fake_dmp.url, "1")
    assert (security.tag, security.get(must_understand)) == (tag("wsse", "Security"), "1")
    assert [child.tag for child in security] == [tag("saml", "Assertion")]
    assert request.envelope.find(tag("env", "Body"))[0].tag == "{urn:test}Ping"


@pytest.mark.parametrize("subcode", SENDER_SUBCODES)
def test_sender_faults_are_refusals_with_the_dpi_message_and_the_dmp_reason(ping, subcode):
    with pytest.raises(DmpRefused) as raised:
        ping(Answer(status=400, body=fault(subcode)))

    assert raised.value.permanent
    assert raised.value.code == subcode
    assert str(raised.value) == str(MESSAGES[subcode])
    assert raised.value.detail == "Texte du DMP"


def test_closed_dmp_message(ping):
    with pytest.raises(DmpRefused, match="^Le DMP de ce patient est fermé.$"):
        ping(Answer(status=400, body=fault("dmp:DMPClosed")))


def test_service_unavailable_is_transient(ping):
    with pytest.raises(DmpUnavailable) as raised:
        ping(Answer(status=500, body=fault("dmp:ServiceUnavailable", code="env:Receiver")))

    assert not raised.value.permanent
    assert raised.value.code == "dmp:ServiceUnavailable"


def test_fault_codes_are_read_whatever_prefix_the_dmp_declared(ping):
    declarations = 'xmlns:d="urn:dpi-segur:dmp:patients:1" xmlns:s="http://www.w3.org/2003/05/soap-envelope"'

    with pytest.raises(DmpRefused) as raised:
        ping(Answer(status=400, body=fault("d:ProfessionalBlocked", code="s:Sender", prefixes=declarations)))

    assert raised.value.code == "dmp:ProfessionalBlocked"
    assert str(raised.value) == "Le patient a bloqué votre accès à son DMP."


def test_an_unknown_subcode_is_a_refusal_naming_it(ping):
    with pytest.raises(DmpRefused) as raised:
        ping(Answer(status=400, body=fault("dmp:SomethingNew")))

    assert str(raised.value) == "Le DMP a refusé la demande (code dmp:SomethingNew)."


def test_an_answer_to_another_request_is_refused(ping):
    with pytest.raises(DmpProtocolError, match="illisible") as raised:
        ping(Answer(body=envelope("urn:test:PingResponse", "<t:Pong xmlns:t='urn:test'/>", relates_to="urn:uuid:x")))

    assert "RelatesTo" in raised.value.detail


def test_an_answer_without_relates_to_is_refused(ping):
    body = PONG.replace(b"<wsa:RelatesTo>$RELATES_TO</wsa:RelatesTo>", b"")

    with pytest.raises(DmpProtocolError):
        ping(Answer(body=body))


def test_the_wrong_response_action_is_refused(ping):
    with pytest.raises(DmpProtocolError) as raised:
        ping(Answer(body=envelope("urn:test:Other", "<t:Pong xmlns:t='urn:test'/>")))

    assert "wsa:Action" in raised.value.detail


def test_the_wrong_message_is_refused(ping):
    with pytest.raises(DmpProtocolError) as raised:
        ping(Answer(body=envelope("urn:test:PingResponse", "<t:Other xmlns:t='urn:test'/>")))

    assert "{urn:test}Other" in raised.value.detail


@pytest.mark.parametrize("status", [200, 404])
def test_an_html_page_is_unreadable(ping, status):
    with pytest.raises(DmpProtocolError):
        ping(Answer(status=status, content_type="text/html", body=b"<html><body>Erreur</body></html>"))


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_without_soap_fault_is_transient(ping, status):
    with pytest.raises(DmpUnavailable) as raised:
        ping(Answer(status=status, content_type="text/html", body=b"<html>Bad gateway</html>"))

    assert raised.value.code == f"http {status}"


def test_a_server_error_with_a_soap_body_but_no_fault_is_transient(ping):
    with pytest.raises(DmpUnavailable):
        ping(Answer(status=500, body=PONG))


def test_broken_xml_is_unreadable(ping):
    with pytest.raises(DmpProtocolError):
        ping(Answer(body=b"<env:Envelope xmlns:env='http://www.w3.org/2003/05/soap-envelope'><env:Body>"))


def test_a_doctype_is_refused_by_the_hardened_parser(ping):
    body = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]>' + PONG[PONG.index(b"<env:Envelope") :]

    with pytest.raises(DmpProtocolError) as raised:
        ping(Answer(body=body))

    assert "DOCTYPE" in raised.value.detail


def test_a_soap_1_1_envelope_is_unreadable(ping):
    body = b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>'

    with pytest.raises(DmpProtocolError):
        ping(Answer(content_type="text/xml", body=body))


def test_each_call_is_logged_without_patient_data(ping, fake_dmp, caplog):
    caplog.set_level(logging.INFO, logger="dmp.clients.soap")

    ping(Answer(body=PONG))
    with pytest.raises(DmpRefused):
        ping(Answer(status=400, body=fault("dmp:DMPClosed")))

    ok, refused = (record.getMessage() for record in caplog.records if record.name == "dmp.clients.soap")
    assert ok.startswith(f"DMP urn:test:Ping {fake_dmp.url}: ok in ")
    assert refused.startswith(f"DMP urn:test:Ping {fake_dmp.url}: DmpRefused dmp:DMPClosed in ")
    assert "279035121518989" not in caplog.text
    assert "810100001236" not in caplog.text
