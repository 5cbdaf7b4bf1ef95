"""The CDA view names professions, encounters and facilities by the national value sets' labels, even when
the producer wrote only the code."""

from __future__ import annotations

from lxml import etree

from documents.cda import build_cda
from documents.rendering import render_cda_html
from tests.documents.test_cda import TINY_PDF, second_version
from tests.documents.test_rendering import card_value

H = {"h": "urn:hl7-org:v3"}
CODED = (
    "//h:assignedAuthor/h:code",
    "//h:encompassingEncounter/h:code",
    "//h:healthCareFacility/h:code",
    "//h:administrativeGenderCode",
)


def _without_labels(data: bytes, *, code: str = "") -> bytes:
    """The document as a producer that writes codes only would send it (``code`` replaces the author's)."""
    root = etree.fromstring(data)
    for path in CODED:
        for element in root.xpath(path, namespaces=H):
            del element.attrib["displayName"]
    if code:
        for element in root.xpath("//h:assignedAuthor/h:code", namespaces=H):
            element.set("code", code)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_codes_without_display_name_are_shown_with_the_value_set_label():
    data = _without_labels(build_cda(second_version(), pdf=TINY_PDF, level="N3"), code="G15_10/SM14")
    html = render_cda_html(data)
    assert card_value(html, "cda-author", "Profession, spécialité") == (
        "Médecin - Chirurgie viscérale et digestive (SM) (G15_10/SM14)"
    )
    assert card_value(html, "cda-encounter", "Type") == "Hospitalisation (établissement, y compris HAD) (IMP)"
    assert card_value(html, "cda-encounter", "Type de structure") == "Etablissement public de santé (SA01)"
    assert card_value(html, "cda-patient", "Sexe") == "Féminin"


def test_the_producers_own_label_is_kept_and_an_unknown_code_stays_as_written():
    data = build_cda(second_version(), pdf=TINY_PDF, level="N3")
    root = etree.fromstring(data)
    author_code = root.xpath("//h:assignedAuthor/h:code", namespaces=H)[0]
    author_code.set("displayName", "Cardiologue")
    facility_code = root.xpath("//h:healthCareFacility/h:code", namespaces=H)[0]
    facility_code.set("code", "SA99")
    del facility_code.attrib["displayName"]
    html = render_cda_html(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    assert card_value(html, "cda-author", "Profession, spécialité") == "Cardiologue (G15_10/SM04)"
    assert card_value(html, "cda-encounter", "Type de structure") == "SA99"
