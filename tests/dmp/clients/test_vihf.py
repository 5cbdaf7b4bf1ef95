"""The VIHF names the signed-in professional and the patient, with the AIR values, and its signature
verifies against the test CA wherever the assertion is placed (docs/dmp-protocol.md §3)."""

from __future__ import annotations

import base64
import dataclasses
from datetime import UTC, datetime

import pytest
from cryptography import x509
from lxml import etree
from signxml import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConfiguration,
    SignatureMethod,
    XMLVerifier,
)
from signxml.exceptions import InvalidSignature

import dpi
from dmp.clients.errors import DmpConfigurationError
from dmp.clients.namespaces import NS, tag
from dmp.clients.vihf import build_assertion, encoded_assertion, signing_material
from tests.dmp.clients.fakes import TOTP, config_for

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
HL7 = NS["hl7"]


def attributes(assertion: etree._Element) -> dict[str, list[etree._Element]]:
    return {
        attribute.get("Name"): list(attribute.iterfind(tag("saml", "AttributeValue")))
        for attribute in assertion.iterfind(f"{tag('saml', 'AttributeStatement')}/{tag('saml', 'Attribute')}")
    }


def texts(values: list[etree._Element]) -> list[str]:
    return [value.text or "" for value in values]


def verify(assertion: etree._Element, pki: object) -> etree._Element:
    expected = SignatureConfiguration(
        expect_references=1,
        signature_methods=frozenset({SignatureMethod.RSA_SHA256}),
        digest_algorithms=frozenset({DigestAlgorithm.SHA256}),
    )
    result = XMLVerifier().verify(assertion, ca_pem_file=str(pki.ca), id_attribute="ID", expect_config=expected)
    return result.signed_xml


@pytest.fixture
def vihf_config(pki):
    return config_for(pki)


def test_assertion_names_the_professional_how_they_signed_in_and_when(actor, patient, vihf_config, pki):
    assertion = build_assertion(actor, patient, vihf_config, now=NOW)

    assert assertion.tag == tag("saml", "Assertion")
    assert assertion.get("Version") == "2.0"
    assert assertion.get("ID").startswith("_")
    assert assertion.get("IssueInstant") == "2026-12-01T10:00:00Z"
    name_id = assertion.find(f"{tag('saml', 'Subject')}/{tag('saml', 'NameID')}")
    assert name_id.text == "810100001236"
    assert name_id.get("Format") == "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
    conditions = assertion.find(tag("saml", "Conditions"))
    assert (conditions.get("NotBefore"), conditions.get("NotOnOrAfter")) == (
        "2026-12-01T10:00:00Z",
        "2026-12-01T10:05:00Z",
    )
    authn = assertion.find(tag("saml", "AuthnStatement"))
    assert authn.get("AuthnInstant") == "2026-12-01T08:30:00Z"
    assert authn.findtext(f"{tag('saml', 'AuthnContext')}/{tag('saml', 'AuthnContextClassRef')}") == TOTP


def test_issuer_is_the_signing_certificate_subject_and_the_signature_follows_it(actor, patient, vihf_config, pki):
    assertion = build_assertion(actor, patient, vihf_config, now=NOW)

    certificate = x509.load_pem_x509_certificate(pki.path("structure.crt").read_bytes())
    issuer, signature = assertion[0], assertion[1]
    assert issuer.tag == tag("saml", "Issuer")
    assert issuer.text == certificate.subject.rfc4514_string()
    assert issuer.get("Format") == "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName"
    assert signature.tag == tag("ds", "Signature")
    assert signature.get("Id") is None  # the placeholder was replaced


def test_air_attributes(actor, patient, vihf_config):
    values = attributes(build_assertion(actor, patient, vihf_config, now=NOW))

    assert texts(values["VIHF_Version"]) == ["3.0"]
    assert texts(values["Authentification_Mode"]) == ["AIR"]
    assert texts(values["Identifiant_Structure"]) == ["1000897406"]
    assert texts(values["Secteur_Activite"]) == ["SA01^1.2.250.1.71.4.2.4"]
    assert texts(values["urn:oasis:names:tc:xspa:1.0:subject:subject-id"]) == ["MARTIN Claire"]
    assert texts(values["urn:oasis:names:tc:xacml:2.0:resource:resource-id"]) == [
        "279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH"
    ]
    assert texts(values["Ressource_URN"]) == ["urn:dmp"]
    assert texts(values["LPS_Nom"]) == ["DPI Segur open source"]
    assert texts(values["LPS_Version"]) == [dpi.__version__]
    assert texts(values["LPS_ID_HOMOLOGATION_DMP"]) == [""]


def test_roles_are_profession_then_specialty_as_hl7_ce(actor, patient, vihf_config):
    roles = [
        value[0]
        for value in attributes(build_assertion(actor, patient, vihf_config))[
            "urn:oasis:names:tc:xacml:2.0:subject:role"
        ]
    ]

    assert [(role.tag, role.get("code"), role.get("codeSystem")) for role in roles] == [
        (f"{{{HL7}}}Role", "10", "1.2.250.1.71.1.2.7"),
        (f"{{{HL7}}}Role", "SM26", "1.2.250.1.71.1.2.5"),
    ]
    assert {role.get(tag("xsi", "type")) for role in roles} == {"CE"}
    assert roles[0].nsmap[None] == HL7  # so that xsi:type="CE" resolves to HL7's CE


def test_a_nurse_has_no_specialty_role(actor, patient, vihf_config):
    nurse = dataclasses.replace(actor, profession="60", specialty="")

    roles = attributes(build_assertion(nurse, patient, vihf_config))["urn:oasis:names:tc:xacml:2.0:subject:role"]

    assert [role[0].get("code") for role in roles] == ["60"]


@pytest.mark.parametrize(
    ("purpose", "label"), [("normal", "Accès normal"), ("BRIS_DE_GLACE", "Accès en urgence (bris de glace)")]
)
def test_purpose_of_use_is_normal_or_emergency_access(actor, patient, vihf_config, purpose, label):
    user = dataclasses.replace(actor, purpose=purpose)

    (value,) = attributes(build_assertion(user, patient, vihf_config))[
        "urn:oasis:names:tc:xspa:1.0:subject:purposeofuse"
    ]

    purpose_of_use = value[0]
    assert purpose_of_use.tag == f"{{{HL7}}}PurposeOfUse"
    assert (purpose_of_use.get("code"), purpose_of_use.get("codeSystem")) == (purpose, "1.2.250.1.213.1.1.4.248")
    assert purpose_of_use.get("displayName") == label


def test_signature_verifies_against_the_test_ca_with_the_contract_algorithms(actor, patient, vihf_config, pki):
    assertion = build_assertion(actor, patient, vihf_config)

    signed = verify(assertion, pki)

    assert signed.get("ID") == assertion.get("ID")
    signature = assertion.find(tag("ds", "Signature"))
    reference = signature.find(f"{tag('ds', 'SignedInfo')}/{tag('ds', 'Reference')}")
    assert reference.get("URI") == f"#{assertion.get('ID')}"
    transforms = [t.get("Algorithm") for t in reference.iter(tag("ds", "Transform"))]
    assert transforms == [
        "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
        CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0.value,
    ]
    canonicalization = signature.find(f"{tag('ds', 'SignedInfo')}/{tag('ds', 'CanonicalizationMethod')}")
    assert canonicalization.get("Algorithm") == CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0.value
    embedded = signature.findtext(f"{tag('ds', 'KeyInfo')}/{tag('ds', 'X509Data')}/{tag('ds', 'X509Certificate')}")
    structure = x509.load_pem_x509_certificate(pki.path("structure.crt").read_bytes())
    assert x509.load_der_x509_certificate(base64.b64decode(embedded)) == structure


def test_signature_still_verifies_inside_a_soap_header_with_other_namespaces(actor, patient, vihf_config, pki):
    envelope = etree.fromstring(
        b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" xmlns="urn:other" '
        b'xmlns:saml="urn:not-saml"><e:Header><Security/></e:Header></e:Envelope>'
    )
    envelope[0][0].append(build_assertion(actor, patient, vihf_config))

    received = etree.fromstring(etree.tostring(envelope))

    verify(received.find(f".//{tag('saml', 'Assertion')}"), pki)


def test_a_changed_assertion_no_longer_verifies(actor, patient, vihf_config, pki):
    assertion = build_assertion(actor, patient, vihf_config)
    assertion.find(f"{tag('saml', 'Subject')}/{tag('saml', 'NameID')}").text = "810000000000"

    with pytest.raises(InvalidSignature):
        verify(etree.fromstring(etree.tostring(assertion)), pki)


def test_browser_form_value_is_the_base64_of_a_signed_assertion(actor, patient, vihf_config, pki):
    assertion = etree.fromstring(base64.b64decode(encoded_assertion(actor, patient, vihf_config)))

    verify(assertion, pki)


def test_missing_signing_key_is_a_configuration_error(actor, patient, pki, tmp_path):
    config = dataclasses.replace(config_for(pki), signing_key=tmp_path / "absent.key")

    with pytest.raises(DmpConfigurationError) as raised:
        build_assertion(actor, patient, config)

    assert raised.value.permanent
    assert "absent.key" in raised.value.detail


def test_signing_material_is_read_once_per_certificate(actor, patient, vihf_config):
    build_assertion(actor, patient, vihf_config)
    before = signing_material.cache_info()

    build_assertion(actor, patient, vihf_config)

    after = signing_material.cache_info()
    assert (after.hits, after.misses) == (before.hits + 1, before.misses)
