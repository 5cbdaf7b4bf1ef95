"""Display of CDA documents (documents/rendering.py, documents/xslt/cda.xsl): our stylesheet on the national
examples and on our own documents, the narrative block, hostile documents and stylesheets, the agency's
stylesheet option, and the pages in Debian's chromium (screenshots under var/artefacts/cda/)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from lxml import html as lxml_html

from documents.cda import InvalidCda, build_cda
from documents.rendering import CSP_FOR_RENDERED_CDA, agency_stylesheet_path, render_cda_html
from dpi.xmlsafe import parse_xml
from tests.documents.test_cda import (
    QUALIFIED,
    SECTIONS,
    TINY_PDF,
    make_content,
    national_example,
    national_example_names,
    second_version,
)
from tests.support.browser import ARTEFACTS as BROWSER_ARTEFACTS

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

# every rendering looks up the verdicts of too costly stylesheets in the cache, which may be the database's
pytestmark = pytest.mark.django_db
H = {"h": "urn:hl7-org:v3"}
ARTEFACTS = BROWSER_ARTEFACTS / "cda"
PNG_1PX = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
GIF_1PX = "R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"
HEADINGS = "self::h2 or self::h3 or self::h4 or self::h5 or self::h6"
FALLBACK_NOTE = "La feuille de style de l'ANS n'a pas pu être appliquée"
NOT_INSTALLED_NOTE = "La feuille de style de l'ANS n'est pas installée"


def cda(body: str, *, title: str = "Document de test", media: str = "") -> bytes:
    """A small N3 document: ``body`` is the content of structuredBody, ``media`` extra entries of its last section."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xhtml="http://www.w3.org/1999/xhtml">
  <id root="1.2.250.1.999.9.1"/>
  <code code="11488-4" displayName="CR de consultation" codeSystem="2.16.840.1.113883.6.1"/>
  <title>{title}</title>
  <effectiveTime value="20240315143000+0100"/>
  <recordTarget><patientRole><id root="1.2.250.1.213.1.4.10" extension="279035121518989"/>
    <patient><name><family qualifier="BR">PAT-TROIS</family><given>DOMINIQUE</given></name></patient>
  </patientRole></recordTarget>
  <component><structuredBody>{body}
    <component><section><title>Pièces jointes</title>{media}</section></component>
  </structuredBody></component>
</ClinicalDocument>""".encode()


def observation_media(media_id: str, media_type: str, data: str) -> str:
    return (
        f'<entry><observationMedia classCode="OBS" moodCode="EVN" ID="{media_id}">'
        f'<value mediaType="{media_type}" representation="B64">{data}</value></observationMedia></entry>'
    )


def page(html: str) -> lxml_html.HtmlElement:
    return lxml_html.document_fromstring(html)


def text_of(element: lxml_html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def page_text(html: str) -> str:
    return text_of(page(html).body)


def card_value(html: str, card: str, label: str) -> str:
    values = page(html).xpath(f"//section[contains(@class, '{card}')]//div[dt = $label]/dd", label=label)
    return text_of(values[0]) if values else ""


def assert_inert(html: str) -> None:
    """Nothing in the page can run code, load anything or leave the page."""
    tree = page(html)
    dangerous = "//script | //iframe | //frame | //object | //embed | //form | //base | //link | //meta[@http-equiv]"
    assert tree.xpath(dangerous) == []
    for element in tree.iter():
        for name, value in element.attrib.items():
            if name.startswith("xmlns"):
                continue
            assert not name.lower().startswith("on"), f"{element.tag}@{name}"
            compact = "".join(value.split()).lower()
            assert not compact.startswith(("javascript:", "vbscript:", "http:", "https:", "//")), f"{name}={value}"
            if compact.startswith("data:"):
                assert compact.startswith(("data:image/png;", "data:image/jpeg;", "data:image/gif;")), value
    assert "javascript:" not in html.lower()
    assert "evil.example" not in html


# --- Our stylesheet on every document ---------------------------------------------------------------------


@pytest.mark.parametrize("name", national_example_names())
def test_every_national_example_shows_its_title_patient_and_section_titles(name):
    data = national_example(name)
    root = parse_xml(data)
    html = render_cda_html(data)
    text = page_text(html)
    assert " ".join(root.findtext("h:title", namespaces=H).split()) in text
    birth_name = root.findtext("h:recordTarget/h:patientRole/h:patient/h:name/h:family[@qualifier='BR']", namespaces=H)
    assert card_value(html, "cda-patient", "Nom de naissance") == birth_name
    headings = [text_of(heading) for heading in page(html).xpath(f"//main//section/*[{HEADINGS}]")]
    titles = [" ".join(title.split()) for title in root.xpath("//h:section/h:title/text()", namespaces=H)]
    assert [title for title in titles if title not in headings] == []
    if root.find("h:component/h:nonXMLBody", namespaces=H) is not None:
        assert "son contenu est un PDF, affiché dans la vue PDF" in text


def test_national_examples_show_the_test_ins_with_its_oid_and_marker():
    html = render_cda_html(national_example("LDL-SES_2022.01.xml"))
    assert card_value(html, "cda-patient", "INS") == "279035121518989 [TEST] INS-NIR de test, OID 1.2.250.1.213.1.4.10"
    assert card_value(html, "cda-patient", "Sexe") == "Féminin"
    assert card_value(html, "cda-patient", "Date de naissance") == "28/03/1979"
    assert card_value(html, "cda-patient", "Lieu de naissance") == "DOMPREMY (code INSEE 51215)"
    assert card_value(html, "cda-author", "Nom") == "Dr Charles DAVID"
    assert card_value(html, "cda-legal-authenticator", "Nom") == "Pr Léon AUGUIN"
    assert card_value(html, "cda-custodian", "Nom") == "Hôpital Européen Georges Pompidou"
    assert card_value(html, "cda-encounter", "Période") == "du 29/10/2019 à 11:17 au 03/12/2019 à 13:30"


def test_an_image_of_the_document_is_shown_and_its_pdf_copy_is_announced():
    html = render_cda_html(national_example("eP-MED-DM_2024.01_PosoStruct.xml"))
    images = page(html).xpath("//img[contains(@class, 'cda-image')]/@src")
    assert len(images) == 1 and images[0].startswith("data:image/jpeg;base64,")
    assert "Document PDF joint : copie du document, affichée dans la vue PDF." in page_text(html)


def test_a_pdf_attached_besides_the_copy_is_announced_as_not_shown():
    text = page_text(render_cda_html(national_example("BIO-CR-BIO_2024.01_CR-2nde-intention-PDF.xml")))
    assert "Document PDF joint, non affiché ici." in text
    assert "Document PDF joint : copie du document, affichée dans la vue PDF." in text


def test_a_n3_we_build_shows_its_sections_paragraphs_and_tables():
    html = render_cda_html(build_cda(make_content(), pdf=TINY_PDF, level="N3"))
    tree = page(html)
    sections = tree.xpath("//main/section[contains(@class, 'cda-section')]")
    assert [text_of(section.find("h2")) for section in sections] == [
        *(section.title for section in SECTIONS),
        "Copie du document",
    ]
    for element, section in zip(sections, SECTIONS, strict=False):
        assert [text_of(paragraph) for paragraph in element.xpath(".//p")] == list(section.paragraphs)
        assert [text_of(cell) for cell in element.xpath(".//th")] == list(section.table_header)
        assert [[text_of(cell) for cell in row.xpath("td")] for row in element.xpath(".//tbody/tr")] == [
            list(row) for row in section.table_rows
        ]
    assert text_of(sections[-1]).endswith("Document PDF joint : copie du document, affichée dans la vue PDF.")
    assert card_value(html, "cda-document", "Niveau") == "N3, document structuré"


def test_a_n1_we_build_says_its_pdf_is_in_the_pdf_view():
    html = render_cda_html(build_cda(make_content(), pdf=TINY_PDF, level="N1"))
    assert [text_of(heading) for heading in page(html).xpath("//main//h2")] == ["Contenu du document"]
    assert "Document non structuré (CDA de niveau 1) : son contenu est un PDF, affiché dans la vue PDF." in (
        page_text(html)
    )
    assert card_value(html, "cda-document", "Niveau") == "N1, document non structuré"


def test_the_header_of_a_document_we_build_carries_every_item():
    html = render_cda_html(build_cda(second_version(), pdf=TINY_PDF, level="N3"))
    tree = page(html)
    assert text_of(tree.find(".//h1")) == "Lettre de liaison de sortie"
    assert tree.findtext(".//title") == "Lettre de liaison de sortie"
    assert text_of(tree.xpath("//p[@class='cda-kicker']")[0]) == (
        "Lettre de liaison à la sortie d'un établissement de soins (11490-0)"
    )
    expected = {
        ("cda-patient", "Nom de naissance"): "PAT-TROIS",
        ("cda-patient", "Prénom(s) de naissance"): "DOMINIQUE MARIE-LOUISE",
        ("cda-patient", "Premier prénom"): "DOMINIQUE",
        ("cda-patient", "Nom utilisé"): "MARTIN",
        ("cda-patient", "Prénom utilisé"): "DOMI",
        ("cda-patient", "Sexe"): "Féminin",
        ("cda-patient", "Date de naissance"): "28/03/1979",
        ("cda-patient", "Lieu de naissance"): "(code INSEE 51215)",
        ("cda-patient", "INS"): "279035121518989 [TEST] INS-NIR de test, OID 1.2.250.1.213.1.4.10",
        ("cda-patient", "Identifiant"): "IPP000123 OID 1.2.250.1.999.1.1",
        ("cda-document", "Date du document"): "15/03/2024 à 14:30",
        ("cda-document", "Confidentialité"): "Normale",
        ("cda-document", "Version"): "2",
        ("cda-document", "Identifiant"): "1.2.250.1.999.2.1.1002",
        ("cda-document", "Lot de versions"): "1.2.250.1.999.2.2.1001",
        ("cda-document", "Remplace le document"): "1.2.250.1.999.2.1.1001",
        ("cda-document", "Acte documenté"): "du 10/03/2024 à 09:00 au 15/03/2024 à 11:00",
        ("cda-author", "Nom"): "Charles BOILEAU",
        ("cda-author", "Structure"): "CH de Test - site Nord",
        ("cda-author", "Rédigé le"): "15/03/2024 à 14:30",
        ("cda-legal-authenticator", "Nom"): "Charles BOILEAU",
        ("cda-legal-authenticator", "Validé le"): "15/03/2024 à 14:30",
        ("cda-custodian", "Nom"): "Centre hospitalier de Test",
        ("cda-custodian", "Identifiant"): "1750000001 (OID 1.2.250.1.71.4.2.2)",
        ("cda-encounter", "Type"): "Hospitalisation (établissement, y compris HAD) (IMP)",
        ("cda-encounter", "Période"): "du 10/03/2024 à 08:00 au 15/03/2024 à 12:00",
        ("cda-encounter", "Lieu"): "Cardiologie",
        ("cda-encounter", "Type de structure"): "Etablissement public de santé (SA01)",
    }
    assert {key: card_value(html, *key) for key in expected} == expected


@pytest.mark.parametrize(
    ("ins_oid", "marker", "kind"),
    [
        ("1.2.250.1.213.1.4.8", "", "INS-NIR"),
        ("1.2.250.1.213.1.4.9", "", "INS-NIA"),
        ("1.2.250.1.213.1.4.10", "[TEST] ", "INS-NIR de test"),
        ("1.2.250.1.213.1.4.11", "[DEMO] ", "INS-NIR de démonstration"),
    ],
)
def test_the_ins_shows_its_authority_and_the_test_or_demo_marker(ins_oid, marker, kind):
    patient = dataclasses.replace(QUALIFIED, ins_oid=ins_oid)
    html = render_cda_html(build_cda(make_content(patient=patient), pdf=TINY_PDF, level="N1"))
    assert card_value(html, "cda-patient", "INS") == f"279035121518989 {marker}{kind}, OID {ins_oid}"


def test_without_a_qualified_identity_no_ins_is_shown():
    patient = dataclasses.replace(QUALIFIED, ins="", ins_oid="")
    html = render_cda_html(build_cda(make_content(patient=patient), pdf=TINY_PDF, level="N1"))
    assert card_value(html, "cda-patient", "INS") == ""
    assert "[TEST]" not in html


# --- The narrative block ----------------------------------------------------------------------------------

NARRATIVE = f"""
<component><section>
  <title>Observation</title>
  <text>
    <paragraph>Tension <content styleCode="Bold">élevée</content>, <content styleCode="Italics">à revoir</content>,
      <content styleCode="Underline">urgent</content>, <content styleCode="BoldItalics">très</content>;
      H<sub>2</sub>O, m<sup>2</sup><br/>ligne suivante<footnote ID="fn1">Mesure au repos.</footnote>
      et rappel<footnoteRef IDREF="fn1"/>.</paragraph>
    <paragraph>Voir <linkHtml href="https://www.has-sante.fr/reco">la recommandation</linkHtml>.</paragraph>
    <list><caption>Consignes</caption><item>Repos</item><item>Hydratation</item></list>
    <list listType="ordered" styleCode="LittleRoman"><item>Premier</item><item>Second</item></list>
    <table border="1">
      <caption>Constantes</caption>
      <colgroup><col width="50%"/></colgroup>
      <thead><tr><th scope="col">Mesure</th><th align="right">Valeur</th></tr></thead>
      <tbody><tr><td>Poids</td><td align="right">55 kg</td></tr><tr><td colspan="2">Pas d'autre mesure</td></tr></tbody>
    </table>
    <renderMultiMedia referencedObject="img-png img-gif"><caption>Photographies</caption></renderMultiMedia>
  </text>
  <component><section><title>Sous-section</title><text><paragraph>Détail.</paragraph></text>
    <component><section><title>Sous-sous-section</title></section></component>
  </section></component>
  {observation_media("img-png", "image/png", PNG_1PX)}
  {observation_media("img-gif", "image/gif", GIF_1PX)}
</section></component>
<component><section><title>Autres pièces</title>
  <text><renderMultiMedia referencedObject="rapport"/> <renderMultiMedia referencedObject="irm"/>
    <renderMultiMedia referencedObject="absente"/></text>
  {observation_media("rapport", "application/pdf", "JVBERi0xLjQK")}
  {observation_media("irm", "application/dicom", "AAAA")}
</section></component>"""


def test_the_narrative_block_is_rendered_as_html():
    html = render_cda_html(cda(NARRATIVE))
    tree = page(html)
    section = tree.xpath("//main/section")[0]
    assert [heading.tag for heading in section.xpath(".//h2 | .//h3 | .//h4")] == ["h2", "h3", "h4"]
    paragraph = section.xpath(".//p")[0]
    assert [(span.get("class"), text_of(span)) for span in paragraph.xpath("span")] == [
        ("cda-bold", "élevée"),
        ("cda-italic", "à revoir"),
        ("cda-underline", "urgent"),
        ("cda-bold cda-italic", "très"),
    ]
    assert [(child.tag, text_of(child)) for child in paragraph.xpath("sub | sup | br")] == [
        ("sub", "2"),
        ("sup", "2"),
        ("br", ""),
        ("sup", "[1]"),
        ("sup", "[1]"),
    ]
    assert [text_of(item) for item in section.xpath(".//ol[@class='cda-footnotes']/li")] == ["Mesure au repos."]
    assert text_of(section.xpath(".//p")[1]) == "Voir la recommandation (lien : https://www.has-sante.fr/reco)."
    assert tree.xpath("//a") == []
    assert [text_of(item) for item in section.xpath(".//div[@class='cda-list']/ul/li")] == ["Repos", "Hydratation"]
    assert text_of(section.xpath(".//div[@class='cda-list']/span[@class='cda-caption']")[0]) == "Consignes"
    assert section.xpath(".//div[@class='cda-list']/ol/@type") == ["i"]
    table = section.xpath(".//table")[0]
    assert text_of(table.find("caption")) == "Constantes"
    assert table.xpath("colgroup | col") == []
    assert table.xpath(".//th/@scope") == ["col"]
    assert table.xpath(".//@class") == ["cda-align-right", "cda-align-right"]
    assert table.xpath(".//td[@colspan]/@colspan") == ["2"]
    assert not any(element.get("border") or element.get("width") for element in table.iter())
    media = section.xpath(".//span[@class='cda-media']")[0]
    assert media.xpath("img/@src") == [f"data:image/png;base64,{PNG_1PX}", f"data:image/gif;base64,{GIF_1PX}"]
    assert text_of(media.find("span")) == "Photographies"
    assert [text_of(note) for note in tree.xpath("//main/section[2]//span[@class='cda-attachment']")] == [
        "Document PDF joint, non affiché ici.",
        "Pièce jointe de type « application/dicom » : non affichée ici.",
        "Pièce jointe introuvable (référence « absente »)",
    ]


# --- Hostile documents ------------------------------------------------------------------------------------

HOSTILE_TITLE = "Compte rendu <script>document.title='pwned'</script>"
HOSTILE = f"""
<component><section onload="window.__pwned = 1" style="background: url(https://evil.example/track.png)">
  <title>Résultats<![CDATA[<img src=x onerror="window.__pwned = 1">]]></title>
  <text onclick="window.__pwned = 1">
    <paragraph onmouseover="window.__pwned = 1" style="position: fixed">Avant
      <script>document.title = 'pwned'; window.__pwned = 1;</script>
      <xhtml:script>document.title = 'pwned'; window.__pwned = 1;</xhtml:script>
      <xhtml:iframe src="https://evil.example/">cadre</xhtml:iframe>
      <xhtml:object data="https://evil.example/x.swf">objet</xhtml:object>
      <xhtml:embed src="https://evil.example/x.swf"/>
      <xhtml:img src="https://evil.example/pixel.png" onerror="window.__pwned = 1"/>
      <xhtml:a href="javascript:window.__pwned = 1">clic</xhtml:a>
      <style>body {{ display: none }}</style>
      après</paragraph>
    <paragraph><linkHtml href="javascript:window.__pwned = 1" onclick="window.__pwned = 1">lien piégé</linkHtml>
      <linkHtml href=" JaVa&#9;Script:window.__pwned = 1">lien masqué</linkHtml>
      <linkHtml href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">données</linkHtml></paragraph>
    <table onload="window.__pwned = 1"><tbody><tr><td colspan="2 onmouseover=alert(1)" rowspan="99999"
      style="color: red">cellule</td></tr></tbody></table>
    <renderMultiMedia referencedObject="svg html fake"/>
  </text>
  {observation_media("svg", "image/svg+xml", "PHN2Zz48c2NyaXB0PmFsZXJ0KDEpPC9zY3JpcHQ+PC9zdmc+")}
  {observation_media("html", "text/html", "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==")}
  {observation_media("fake", 'image/png" onerror="window.__pwned = 1', PNG_1PX)}
</section></component>
<component><section><title>Image déguisée</title><text><renderMultiMedia referencedObject="quote"/></text>
  {observation_media("quote", "image/png", '" onerror="window.__pwned = 1')}
</section></component>"""


def hostile_document() -> bytes:
    escaped_title = HOSTILE_TITLE.replace("<", "&lt;")
    return cda(HOSTILE, title=escaped_title)


def test_a_hostile_document_gives_an_inert_page_that_keeps_its_text():
    html = render_cda_html(hostile_document())
    assert_inert(html)
    tree = page(html)
    assert tree.xpath("//*[@style]") == []
    assert [dict(image.attrib) for image in tree.iter("img")] == [
        {"class": "cda-image", "alt": "Image jointe au document", "src": f"data:image/png;base64,{PNG_1PX}"}
    ]
    assert text_of(tree.find(".//h1")) == HOSTILE_TITLE
    assert tree.findtext(".//title") == HOSTILE_TITLE
    paragraph = text_of(tree.xpath("//main//p")[0])
    assert paragraph.startswith("Avant") and paragraph.endswith("après")
    assert "cadre" in paragraph and "pwned" not in paragraph and "display" not in paragraph
    assert "lien piégé (lien non affiché) lien masqué (lien non affiché) données (lien non affiché)" in page_text(html)
    assert tree.xpath("//td/@colspan | //td/@rowspan") == []
    assert [text_of(note) for note in tree.xpath("//span[@class='cda-attachment']")] == [
        "Pièce jointe de type « image/svg+xml » : non affichée ici.",
        "Pièce jointe de type « text/html » : non affichée ici.",
        "Pièce jointe de type « image/png » : non affichée ici.",
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<ClinicalDocument xmlns="urn:hl7-org:v3"><title>&x;</title></ClinicalDocument>',
            "DOCTYPE",
        ),
        (b"<ClinicalDocument xmlns='urn:hl7-org:v3'><title>", "mal formé"),
        (b"<html><body>Bonjour</body></html>", "pas un document CDA R2"),
    ],
    ids=["doctype-xxe", "malformed", "not-cda"],
)
def test_what_is_not_a_readable_cda_is_refused_with_a_clear_error(data, message):
    with pytest.raises(InvalidCda, match=message):
        render_cda_html(data)


def test_an_unknown_stylesheet_name_is_a_programming_error():
    with pytest.raises(ValueError, match="Unknown CDA stylesheet"):
        render_cda_html(cda(""), stylesheet="ans")


# --- The agency's stylesheet ------------------------------------------------------------------------------

AGENCY_MAIN = """<?xml version="1.0" encoding="UTF-8"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" xmlns:hl7="urn:hl7-org:v3">
  <xsl:import href="entete.xsl"/>
  <xsl:output method="html" encoding="ISO-8859-1"/>
  <xsl:variable name="labels" select="document('cda_l10n.xml')/labels"/>
  <xsl:template match="/">
    <html><head><title>ANS</title>
      <link rel="stylesheet" type="text/css" href="../FeuilleDeStyle/cda.css"/></head>
    <body><h1 class="ans-title"><xsl:value-of select="$labels/title"/> : <xsl:value-of
      select="hl7:ClinicalDocument/hl7:title"/></h1><xsl:call-template name="entete"/></body></html>
  </xsl:template>
</xsl:stylesheet>"""
AGENCY_HEADER = """<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:hl7="urn:hl7-org:v3">
  <xsl:template name="entete"><p class="ans-patient">Patient : <xsl:value-of
    select="//hl7:patient/hl7:name/hl7:family"/></p></xsl:template>
</xsl:stylesheet>"""
AGENCY_FILES = {
    "cda_asip.xsl": AGENCY_MAIN,
    "entete.xsl": AGENCY_HEADER,
    "cda_l10n.xml": "<labels><title>Rendu ANS</title></labels>",
    "cda.css": "h1.ans-title { color: rgb(1, 2, 3); } /* </style><script>window.__pwned = 1</script> */",
}


def stylesheet(template: str) -> str:
    return (
        '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" '
        f'xmlns:hl7="urn:hl7-org:v3"><xsl:template match="/">{template}</xsl:template></xsl:stylesheet>'
    )


@pytest.fixture
def agency_folder(tmp_path, settings) -> Path:
    """The agency's stylesheet as a hospital installs it: a folder given to CDA_AGENCY_STYLESHEET_DIR."""
    folder = tmp_path / "FeuilleDeStyle"
    folder.mkdir()
    for name, content in AGENCY_FILES.items():
        (folder / name).write_text(content, encoding="utf-8")
    (tmp_path / "secret.xml").write_text("<secret>mot de passe du serveur</secret>", encoding="utf-8")
    (tmp_path / "outside.xsl").write_text(stylesheet("<p>dehors</p>"), encoding="utf-8")
    settings.CDA_AGENCY_STYLESHEET_DIR = str(folder)
    return folder


def test_the_agency_stylesheet_is_used_when_installed(agency_folder):
    assert agency_stylesheet_path() == agency_folder / "cda_asip.xsl"
    html = render_cda_html(cda(""), stylesheet="agency")
    tree = page(html)
    assert text_of(tree.find(".//h1")) == "Rendu ANS : Document de test"
    assert text_of(tree.xpath("//p[@class='ans-patient']")[0]) == "Patient : PAT-TROIS"
    assert FALLBACK_NOTE not in html and "cda-page" not in html
    assert [style.text for style in tree.iter("style")] == [
        "h1.ans-title { color: rgb(1, 2, 3); } /* <\\/style><script>window.__pwned = 1<\\/script> */"
    ]
    assert_inert(html)


def test_the_agency_stylesheet_file_name_is_a_setting(agency_folder, settings):
    (agency_folder / "autre.xsl").write_text(stylesheet("<html><body><h1>Autre rendu</h1></body></html>"), "utf-8")
    settings.CDA_AGENCY_STYLESHEET_NAME = "autre.xsl"
    assert agency_stylesheet_path() == agency_folder / "autre.xsl"
    assert text_of(page(render_cda_html(cda(""), stylesheet="agency")).find(".//h1")) == "Autre rendu"


def test_our_stylesheet_stays_the_default_when_the_agency_one_is_installed(agency_folder):
    html = render_cda_html(cda(""))
    assert "cda-page" in html and "Rendu ANS" not in html


BROKEN_AGENCY_STYLESHEETS = {
    "malformed": "<xsl:stylesheet",
    "not-a-stylesheet": "<nope/>",
    "runtime-error": stylesheet('<xsl:message terminate="yes">arrêt</xsl:message>'),
    "reads-outside-its-folder": stylesheet("<p><xsl:value-of select=\"document('../secret.xml')\"/></p>"),
    "reads-an-absolute-path": stylesheet("<p><xsl:value-of select=\"document('/etc/hostname')\"/></p>"),
    "reads-the-network": stylesheet("<p><xsl:value-of select=\"document('http://127.0.0.1:9/x.xml')\"/></p>"),
    "imports-outside-its-folder": stylesheet("<p/>").replace('org:v3">', 'org:v3"><xsl:import href="../outside.xsl"/>'),
    "doctype": '<!DOCTYPE x [<!ENTITY s SYSTEM "../secret.xml">]>' + stylesheet("<p>&s;</p>"),
    "writes-a-file": stylesheet('<exsl:document href="ecrit.html"><p/></exsl:document><p/>').replace(
        'org:v3">', 'org:v3" xmlns:exsl="http://exslt.org/common" extension-element-prefixes="exsl">'
    ),
    "no-output": stylesheet(""),
}


@pytest.mark.parametrize("content", BROKEN_AGENCY_STYLESHEETS.values(), ids=BROKEN_AGENCY_STYLESHEETS.keys())
def test_a_failing_agency_stylesheet_falls_back_to_ours_with_a_note(agency_folder, content):
    (agency_folder / "cda_asip.xsl").write_text(content, encoding="utf-8")
    html = render_cda_html(cda(""), stylesheet="agency")
    tree = page(html)
    assert text_of(tree.body[0]) == (
        "La feuille de style de l'ANS n'a pas pu être appliquée à ce document : "
        "il est affiché avec la feuille de style du DPI."
    )
    assert tree.body[0].get("class") == "cda-fallback-note"
    assert text_of(tree.find(".//h1")) == "Document de test"
    assert "mot de passe" not in html and "dehors" not in html
    assert not (agency_folder / "ecrit.html").exists()


@pytest.mark.parametrize("folder", ["", "absent"])
def test_the_agency_stylesheet_not_installed_gives_ours_with_a_note(tmp_path, settings, folder):
    settings.CDA_AGENCY_STYLESHEET_DIR = str(tmp_path / folder) if folder else ""
    assert agency_stylesheet_path() is None
    html = render_cda_html(cda(""), stylesheet="agency")
    assert text_of(page(html).body[0]).startswith(NOT_INSTALLED_NOTE)
    assert text_of(page(html).find(".//h1")) == "Document de test"


HOSTILE_AGENCY = stylesheet(f"""<html><head>
  <meta http-equiv="refresh" content="0; url=https://evil.example/"/>
  <base href="https://evil.example/"/>
  <link rel="prefetch" href="https://evil.example/x"/>
  <style>h1 {{ color: rgb(4, 5, 6); }}</style>
  <script>document.title = 'pwned'; window.__pwned = 1;</script></head>
<body onload="window.__pwned = 1">
  <h1 onclick="window.__pwned = 1"><xsl:value-of select="hl7:ClinicalDocument/hl7:title"/></h1>
  <xsl:text disable-output-escaping="yes">&lt;script&gt;window.__pwned = 1&lt;/script&gt;</xsl:text>
  <style>h2 {{ }} &lt;/style&gt;&lt;script&gt;window.__pwned = 1&lt;/script&gt;</style>
  <a href=" java&#9;script:window.__pwned = 1">a</a> <a href="data:text/html,&lt;script&gt;1&lt;/script&gt;">b</a>
  <a href="https://evil.example/">c</a> <a href="#haut">d</a>
  <img src="https://evil.example/pixel.png" srcset="https://evil.example/2x.png 2x"/>
  <img src="data:image/png;base64,{PNG_1PX}" alt="point"/>
  <svg><a xlink:href="javascript:window.__pwned = 1" xmlns:xlink="http://www.w3.org/1999/xlink">e</a>
    <animate attributeName="href" to="javascript:window.__pwned = 1"/></svg>
  <iframe src="https://evil.example/"/><object data="x.swf"/><embed src="x.swf"/>
  <form action="https://evil.example/"><input name="q"/></form>
  <p style="font-weight: bold">gras</p>
</body></html>""")


def test_the_output_of_any_stylesheet_is_sanitised(agency_folder):
    (agency_folder / "cda_asip.xsl").write_text(HOSTILE_AGENCY, encoding="utf-8")
    html = render_cda_html(cda(""), stylesheet="agency")
    assert_inert(html)
    tree = page(html)
    assert text_of(tree.find(".//h1")) == "Document de test"
    assert [anchor.get("href") for anchor in tree.iter("a")] == [None, None, None, "#haut", None]
    assert [dict(image.attrib) for image in tree.iter("img")] == [
        {},
        {"src": f"data:image/png;base64,{PNG_1PX}", "alt": "point"},
    ]
    assert tree.xpath("//animate | //input") == []
    assert tree.xpath("//p[@style='font-weight: bold']/text()") == ["gras"]
    assert "h1 { color: rgb(4, 5, 6); }" in [style.text for style in tree.iter("style")]


# --- In the browser ---------------------------------------------------------------------------------------


@pytest.fixture
def browser_page(browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


@pytest.mark.browser
@pytest.mark.parametrize("name", national_example_names())
def test_national_examples_display_cleanly_in_chromium(browser_page, name):
    data = national_example(name)
    browser_page.set_content(render_cda_html(data))
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    browser_page.screenshot(path=str(ARTEFACTS / f"{Path(name).stem}.png"), full_page=True)
    title = " ".join(parse_xml(data).findtext("h:title", namespaces=H).split())
    assert browser_page.title() == title
    assert " ".join(browser_page.inner_text("h1").split()) == title
    layout = browser_page.evaluate(
        """() => ({
            overflow: document.documentElement.scrollWidth - window.innerWidth,
            background: getComputedStyle(document.body).backgroundColor,
            brokenImages: [...document.images].filter((image) => !image.naturalWidth).length,
        })"""
    )
    assert layout == {"overflow": 0, "background": "rgb(244, 246, 248)", "brokenImages": 0}


@pytest.mark.browser
@pytest.mark.parametrize("stylesheet_name", ["dpi", "agency"])
def test_no_script_of_a_hostile_document_or_stylesheet_runs_in_chromium(browser_page, agency_folder, stylesheet_name):
    (agency_folder / "cda_asip.xsl").write_text(HOSTILE_AGENCY, encoding="utf-8")
    browser_page.set_content(render_cda_html(hostile_document(), stylesheet=stylesheet_name))
    for element in browser_page.query_selector_all("body *"):
        element.dispatch_event("click")
        element.dispatch_event("mouseover")
    title = HOSTILE_TITLE if stylesheet_name == "dpi" else ""
    assert browser_page.evaluate("() => [document.title, typeof window.__pwned]") == [title, "undefined"]


SPOILERS = (
    "<script>document.title = 'pwned'; window.__pwned = 1;</script>"
    '<img id="tracker" src="https://evil.example/pixel.png" onerror="window.__pwned = 1">'
    '<link rel="stylesheet" href="https://evil.example/x.css">'
    "<style>@import url(https://evil.example/y.css); h1 { background: url(https://evil.example/z.png); }"
    "@font-face { font-family: spy; src: url(https://evil.example/f.woff); } p { font-family: spy; }</style>"
    '<iframe src="https://evil.example/frame"></iframe><video src="https://evil.example/v.mp4" autoplay></video>'
    '<object data="https://evil.example/o.swf"></object>'
)


@pytest.fixture
def dpi_site(browser_page) -> list[str]:
    """Pages of a fake DPI origin served with Playwright's router (nothing leaves the machine): the rendered
    CDA of NARRATIVE, deliberately spoiled after sanitising, under CSP_FOR_RENDERED_CDA, framed or not.
    Returns the list of requests that tried to leave for anything else."""
    spoiled = render_cda_html(cda(NARRATIVE, title="Sous CSP")).replace("</body>", SPOILERS + "</body>")
    framing = '<title>DPI</title><iframe sandbox src="https://dpi.test/document/cda" width="1000" height="700">'
    pages = {
        "https://dpi.test/document/cda": (spoiled, {"Content-Security-Policy": CSP_FOR_RENDERED_CDA}),
        "https://dpi.test/document": (framing, {}),
        "https://other.test/": (framing, {}),
    }
    outside: list[str] = []

    def serve(route: Route) -> None:
        url = route.request.url
        if url in pages:
            body, headers = pages[url]
            route.fulfill(body=body, content_type="text/html; charset=utf-8", headers=headers)
        else:
            outside.append(url)
            route.abort()

    browser_page.route("**/*", serve)
    return outside


RENDERED_STATE = """() => ({
    title: document.title,
    pwned: typeof window.__pwned,
    origin: window.origin,
    h1Color: getComputedStyle(document.querySelector('h1')).color,
    images: [...document.querySelectorAll('img.cda-image')].map((image) => image.naturalWidth),
})"""
SAFE_STATE = {  # an opaque origin ("null"): sandboxed even when opened outside our frame
    "title": "Sous CSP",
    "pwned": "undefined",
    "origin": "null",
    "h1Color": "rgb(16, 42, 67)",
    "images": [1, 1],
}


@pytest.mark.browser
def test_the_csp_alone_keeps_scripts_and_network_off_but_our_css_and_images_on(browser_page, dpi_site):
    """Opened directly (no sandboxed frame, no sanitiser for the spoilers): only the CSP protects the page."""
    browser_page.goto("https://dpi.test/document/cda")
    assert browser_page.evaluate(RENDERED_STATE) == SAFE_STATE
    assert dpi_site == []


@pytest.mark.browser
def test_the_rendered_page_shows_in_a_sandboxed_frame_of_the_dpi_only(browser_page, dpi_site):
    browser_page.goto("https://dpi.test/document")
    frame = browser_page.frame(url="https://dpi.test/document/cda")
    frame.wait_for_selector("h1")
    assert frame.evaluate(RENDERED_STATE) == SAFE_STATE
    assert browser_page.title() == "DPI"
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    browser_page.screenshot(path=str(ARTEFACTS / "sandboxed-frame-under-csp.png"))
    browser_page.goto("https://other.test/")
    assert _frame_refused(browser_page)  # frame-ancestors 'self': refused elsewhere


def _frame_refused(page: Page, attempts: int = 100) -> bool:
    """Whether the embedded frame ends on Chromium's error page (the refusal lands shortly after load)."""
    for _ in range(attempts):
        if page.frames[1].url.startswith("chrome-error:"):
            return True
        page.wait_for_timeout(100)
    return False
    assert dpi_site == []
