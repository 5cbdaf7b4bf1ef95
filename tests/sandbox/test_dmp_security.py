"""The sandbox DMP checks what the real one checks (docs/dmp-protocol.md §3), in that order, with the faults of §4."""

from __future__ import annotations

import datetime

import httpx
import pytest
from lxml import etree

from sandbox.dmp.identifiers import GENERIC_NATIONAL_IDS
from sandbox.models import DmpAuthorisation, DmpCall, PatientDmp
from tests.sandbox.dmp_requests import (
    DS,
    SAML,
    TD02,
    Credentials,
    DmpClient,
    Vihf,
    assertion,
    envelope,
    find_documents,
    mtom,
    national_id,
    td02,
)

NOW = datetime.datetime.now(datetime.UTC)


def test_a_client_without_certificate_gets_no_handshake(dmp_server, dmp_pki):
    client = DmpClient(dmp_pki, certificate=None)

    with pytest.raises(httpx.TransportError):
        client.post(dmp_server.patients_url, TD02, envelope(TD02, td02(), None))


def test_a_certificate_from_another_authority_gets_no_handshake(dmp_server, dmp_pki):
    client = DmpClient(dmp_pki, certificate="rogue")

    with pytest.raises(httpx.TransportError):
        client.post(dmp_server.patients_url, TD02, envelope(TD02, td02(), None))


def test_a_request_without_vihf_is_invalid_security(dmp_server, dmp_client):
    reply = dmp_client.post(dmp_server.patients_url, TD02, envelope(TD02, td02(), None))

    assert reply.status == 400
    assert reply.fault[0] == "wsse:InvalidSecurity"


@pytest.mark.parametrize("signer", [None, "rogue", "other-structure"], ids=["unsigned", "untrusted", "foreign"])
def test_an_unsigned_untrusted_or_foreign_signature_fails_the_check(dmp_call, patient_dmp, signer):
    reply = dmp_call("patients", td02(), signer=signer)

    assert reply.fault[0] == "wsse:FailedCheck"


def test_a_tampered_assertion_fails_the_check(dmp_server, dmp_client, dmp_pki, patient_dmp):
    signed = assertion(Vihf(), Credentials(dmp_pki))
    signed.find(f"{{{SAML}}}Subject/{{{SAML}}}NameID").text = national_id("1000000002")

    reply = dmp_client.post(dmp_server.patients_url, TD02, envelope(TD02, td02(), signed))

    assert reply.fault[0] == "wsse:FailedCheck"


def test_the_signature_must_follow_the_issuer(dmp_server, dmp_client, dmp_pki, patient_dmp):
    signed = assertion(Vihf(), Credentials(dmp_pki))
    signed.append(signed.find(f"{{{DS}}}Signature"))  # moved to the end: schema-invalid

    reply = dmp_client.post(dmp_server.patients_url, TD02, envelope(TD02, td02(), signed))

    assert reply.fault[0] == "wsse:FailedCheck"


def test_another_structure_signing_with_its_own_tls_certificate_is_accepted(dmp_server, dmp_pki, patient_dmp):
    client = DmpClient(dmp_pki, certificate="other-structure")
    signed = assertion(Vihf(), Credentials(dmp_pki, "other-structure"))

    reply = client.post(dmp_server.patients_url, TD02, envelope(TD02, td02(), signed))

    assert reply.fault is None
    assert DmpCall.objects.get().client_certificate.endswith("O=Autre Établissement,C=FR")


@pytest.mark.parametrize(
    ("offset", "lifetime"),
    [
        (-datetime.timedelta(minutes=10), datetime.timedelta(minutes=30)),
        (datetime.timedelta(minutes=10), datetime.timedelta(minutes=5)),
        (datetime.timedelta(0), datetime.timedelta(seconds=-1)),
    ],
    ids=["too-old", "from-the-future", "past-not-on-or-after"],
)
def test_an_assertion_out_of_its_time_is_expired(dmp_call, patient_dmp, offset, lifetime):
    # issued relative to when the test runs, not to when the module was collected (a long run would drift)
    vihf = Vihf(issued=datetime.datetime.now(datetime.UTC) + offset, lifetime=lifetime)
    assert dmp_call("patients", td02(), vihf=vihf).fault[0] == "dmp:VIHFExpired"


@pytest.mark.parametrize(
    "name",
    [
        "VIHF_Version",
        "Authentification_Mode",
        "Identifiant_Structure",
        "Secteur_Activite",
        "urn:oasis:names:tc:xspa:1.0:subject:subject-id",
        "urn:oasis:names:tc:xacml:2.0:subject:role",
        "urn:oasis:names:tc:xacml:2.0:resource:resource-id",
        "Ressource_URN",
        "urn:oasis:names:tc:xspa:1.0:subject:purposeofuse",
        "LPS_ID_HOMOLOGATION_DMP",
    ],
)
def test_every_attribute_is_required_and_the_fault_names_it(dmp_call, patient_dmp, name):
    subcode, reason = dmp_call("patients", td02(), vihf=Vihf(omit=frozenset({name}))).fault

    assert subcode == "dmp:VIHFInvalid"
    assert name in reason


@pytest.mark.parametrize(
    "changes",
    [
        {"vihf_version": "2.0"},
        {"ressource_urn": "urn:autre"},
        {"secteur": "SA01"},
        {"structure": "000897406"},
        {"purpose": "curiosite"},
        {"version": "1.1"},
        {"roles": (("10", "1.2.250.1.71.1.2.7"),)},  # a physician without specialty
        {"roles": (("10", "1.2.3.4"), ("SM26", "1.2.250.1.71.1.2.5"))},  # profession without its OID
    ],
    ids=["version", "urn", "sector", "structure", "purpose", "saml-version", "no-specialty", "role-oid"],
)
def test_a_wrong_attribute_is_invalid(dmp_call, patient_dmp, changes):
    assert dmp_call("patients", td02(), vihf=Vihf(**changes)).fault[0] == "dmp:VIHFInvalid"


@pytest.mark.parametrize(
    "name_id",
    ["dr.martin", "1000897406", "3123456789", "810000000010", next(iter(GENERIC_NATIONAL_IDS))],
    ids=["login", "structure", "siret", "luhn", "generic"],
)
def test_a_subject_that_is_not_a_personal_national_id_is_refused(dmp_call, patient_dmp, name_id):
    assert dmp_call("patients", td02(), vihf=Vihf(name_id=name_id)).fault[0] == "dmp:VIHFGenericAccount"


@pytest.mark.parametrize(
    "vihf",
    [
        Vihf(name_id="0123456789"),  # ADELI
        Vihf(roles=(("60", "1.2.250.1.71.1.2.7"),)),  # a nurse has no specialty
        Vihf(authn_class="eidas1"),  # ProSanté Connect
        Vihf(purpose="BRIS_DE_GLACE"),
    ],
    ids=["adeli", "nurse", "psc", "emergency"],
)
def test_other_valid_professionals_and_sign_ins_are_accepted(dmp_call, patient_dmp, vihf):
    assert dmp_call("patients", td02(), vihf=vihf).fault is None


@pytest.mark.parametrize(
    "changes",
    [{"mode": "INDIRECTE"}, {"authn_class": "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"}],
    ids=["indirect", "password-only"],
)
def test_anything_but_air_with_two_factors_is_refused(dmp_call, patient_dmp, changes):
    assert dmp_call("patients", td02(), vihf=Vihf(**changes)).fault[0] == "dmp:AuthenticationModeRefused"


@pytest.mark.parametrize(
    "changes", [{"ins": "279035121518988"}, {"ins_oid": "1.2.3"}, {"ins": "27903512151"}], ids=["key", "oid", "short"]
)
def test_a_malformed_ins_is_refused(dmp_call, patient_dmp, changes):
    assert dmp_call("patients", td02(), vihf=Vihf(**changes)).fault[0] == "dmp:InvalidINS"


def test_the_resource_id_must_be_the_patient_of_the_request(dmp_call, patient_dmp):
    reply = dmp_call("patients", td02(ins="180037512345631"))

    assert reply.fault[0] == "dmp:PatientMismatch"


def test_the_checks_come_in_the_order_of_the_contract(dmp_call, patient_dmp):
    """Expired and generic: the time check (step 4) answers first."""
    old = NOW - datetime.timedelta(hours=1)
    vihf = Vihf(name_id="dr.martin", issued=old, lifetime=datetime.timedelta(hours=2))

    assert dmp_call("patients", td02(), vihf=vihf).fault[0] == "dmp:VIHFExpired"


# --- DMP rules -------------------------------------------------------------------------------------


def test_no_dmp(dmp_call, dmp_patient):
    assert dmp_call("registry", find_documents()).fault[0] == "dmp:DMPNotFound"


def test_closed_dmp(dmp_call, patient_dmp):
    PatientDmp.objects.filter(pk=patient_dmp.pk).update(status="closed", closed_at=NOW, closure_reason="décès")

    reply = dmp_call("registry", find_documents())

    assert reply.fault == ("dmp:DMPClosed", "Le DMP de ce patient est fermé.")


@pytest.mark.parametrize("until", [None, NOW - datetime.timedelta(days=1)], ids=["none", "expired"])
def test_no_valid_authorisation(dmp_call, patient_dmp, until):
    DmpAuthorisation.objects.filter(dmp=patient_dmp).update(until=until or NOW)
    if until is None:
        DmpAuthorisation.objects.all().delete()

    assert dmp_call("registry", find_documents()).fault[0] == "dmp:AccessNotAuthorized"


def test_a_blocked_professional_is_refused_even_with_an_authorisation(dmp_call, patient_dmp):
    PatientDmp.objects.filter(pk=patient_dmp.pk).update(blocked_professionals=[national_id()])

    assert dmp_call("registry", find_documents()).fault[0] == "dmp:ProfessionalBlocked"


# --- SOAP itself -----------------------------------------------------------------------------------


def test_an_action_sent_to_the_wrong_endpoint_is_not_supported(dmp_call, patient_dmp):
    assert dmp_call("repository", td02()).fault[0] == "wsa:ActionNotSupported"


def test_a_fault_relates_to_the_request_and_is_a_sender_fault_with_400(dmp_server, dmp_client, dmp_pki, patient_dmp):
    data = envelope(TD02, td02(), assertion(Vihf(mode="INDIRECTE"), Credentials(dmp_pki)))
    message_id = etree.fromstring(data).findtext(".//{http://www.w3.org/2005/08/addressing}MessageID")

    reply = dmp_client.post(dmp_server.patients_url, TD02, data)

    assert reply.status == 400
    assert reply.relates_to == message_id
    code = reply.envelope.findtext(".//{http://www.w3.org/2003/05/soap-envelope}Code/{*}Value")
    assert code == "env:Sender"


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        ("text/plain", b"bonjour"),
        ("application/soap+xml", b"<pas du xml"),
        ("application/soap+xml", b'<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><Body/></Envelope>'),
        ("application/soap+xml", b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'),
    ],
    ids=["not-soap", "not-xml", "soap-1.1", "doctype"],
)
def test_what_is_not_a_soap_12_request_is_malformed(dmp_server, dmp_client, content_type, data):
    reply = dmp_client.post(dmp_server.patients_url, TD02, data, content_type=content_type)

    assert reply.fault[0] == "dmp:MalformedRequest"


def test_a_body_over_10_mb_is_refused(dmp_server, dmp_client):
    reply = dmp_client.post(dmp_server.patients_url, TD02, b" " * (10 * 1024 * 1024 + 1))

    assert reply.fault[0] == "dmp:RequestTooLarge"
    assert DmpCall.objects.get().outcome == "dmp:RequestTooLarge"


def test_an_mtom_request_is_understood(dmp_server, dmp_client, dmp_pki, patient_dmp):
    content_type, data = mtom(envelope(TD02, td02(), assertion(Vihf(), Credentials(dmp_pki))))

    reply = dmp_client.post(dmp_server.patients_url, TD02, data, content_type=content_type)

    assert reply.fault is None
    assert reply.body.findtext("{*}statutDMP") == "ACTIF"
