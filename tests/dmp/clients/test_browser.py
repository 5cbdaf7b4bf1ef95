"""TD0.10 and the DRIMbox: forms the browser posts, carrying a signed VIHF (docs/dmp-protocol.md §9)."""

from __future__ import annotations

import base64
import dataclasses

import pytest
from lxml import etree
from signxml import XMLVerifier

from dmp.clients.browser import drimbox_form, webps_form
from dmp.clients.namespaces import tag
from tests.dmp.clients.fakes import config_for


@pytest.fixture
def web_config(pki):
    return dataclasses.replace(
        config_for(pki), webps_url="https://dmp.test/webps/contexte", drimbox_url="https://drimbox.test/contexte"
    )


def resource_id(encoded: str, pki) -> str:
    assertion = etree.fromstring(base64.b64decode(encoded))
    XMLVerifier().verify(assertion, ca_pem_file=str(pki.ca), id_attribute="ID")
    for attribute in assertion.iter(tag("saml", "Attribute")):
        if attribute.get("Name") == "urn:oasis:names:tc:xacml:2.0:resource:resource-id":
            return attribute.findtext(tag("saml", "AttributeValue"))
    raise AssertionError("no resource-id")


@pytest.mark.parametrize("page", ["dossier", "vaccination"])
def test_webps_form_posts_a_signed_vihf_for_the_patient(actor, patient, web_config, pki, page):
    form = webps_form(actor, patient, page=page, config=web_config)

    assert form.action == "https://dmp.test/webps/contexte"
    assert set(form.fields) == {"vihf", "page"}
    assert form.fields["page"] == page
    assert resource_id(form.fields["vihf"], pki) == "279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH"


def test_webps_form_refuses_an_unknown_page(actor, patient, web_config):
    with pytest.raises(ValueError):
        webps_form(actor, patient, page="documents", config=web_config)


def test_drimbox_form_with_a_study(actor, patient, web_config, pki):
    form = drimbox_form(actor, patient, study="1.2.250.1.999.1.6.9", accession="ACC-12", config=web_config)

    assert form.action == "https://drimbox.test/contexte"
    assert {name: value for name, value in form.fields.items() if name != "vihf"} == {
        "study": "1.2.250.1.999.1.6.9",
        "accession": "ACC-12",
    }
    resource_id(form.fields["vihf"], pki)


def test_drimbox_form_without_study_sends_only_the_vihf(actor, patient, web_config):
    assert set(drimbox_form(actor, patient, config=web_config).fields) == {"vihf"}
