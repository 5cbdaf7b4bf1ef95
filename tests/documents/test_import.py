"""Integrating a CDA received from outside: one service recognising duplicates and new versions,
comparing the identity, refusing bad input while storing nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from lxml import etree

from documents.cda import InvalidCda, VersionStatus, build_cda
from documents.models import Document, DocumentVersion, Provenance
from documents.services import integrate_cda
from tests.documents.test_cda import QUALIFIED, TINY_PDF, make_content, national_example, second_version
from tests.factories import EpisodeFactory, PatientFactory

pytestmark = pytest.mark.django_db

XXE = b"""<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<ClinicalDocument xmlns="urn:hl7-org:v3"><title>&x;</title></ClinicalDocument>"""
LAUGHS = b"""<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><ClinicalDocument xmlns="urn:hl7-org:v3">&c;</ClinicalDocument>"""


@pytest.fixture
def patient(care_unit):
    """The identity of tests.documents.test_cda.QUALIFIED, with an episode in the doctor's unit."""
    patient = PatientFactory(
        birth_name=QUALIFIED.birth_name, first_names=QUALIFIED.first_names, birth_date=QUALIFIED.birth_date,
        sex=QUALIFIED.sex, birth_place_insee=QUALIFIED.birth_place_insee, ins=QUALIFIED.ins,
        ins_oid=QUALIFIED.ins_oid, identity_status="qualifiee",
    )  # fmt: skip
    EpisodeFactory(patient=patient, care_unit=care_unit)
    return patient


def _cda(content) -> bytes:
    return build_cda(content, pdf=TINY_PDF, level="N1")


def _without_set_id(data: bytes) -> bytes:
    root = etree.fromstring(data)
    for element in root.findall("{urn:hl7-org:v3}setId"):
        root.remove(element)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_import_stores_a_new_document_with_manual_provenance_and_its_pdf(patient, doctor):
    result = integrate_cda(patient=patient, data=_cda(make_content()), provenance=Provenance.MANUAL, acting_user=doctor)
    assert result.status == VersionStatus.NEW_DOCUMENT and result.warnings == ()
    document = result.document
    assert (document.provenance, document.set_id, document.type_code) == ("manual", "1.2.250.1.999.2.2.1001", "11490-0")
    assert bytes(result.version.pdf) == TINY_PDF and result.version.version_number == 1


def test_second_version_with_set_id_becomes_version_2_of_the_same_document(patient, doctor):
    first = integrate_cda(patient=patient, data=_cda(make_content()), provenance="manual", acting_user=doctor)
    second = integrate_cda(patient=patient, data=_cda(second_version()), provenance="manual", acting_user=doctor)
    assert second.status == VersionStatus.NEW_VERSION and second.document == first.document
    assert second.version.replaces == first.version
    assert list(first.document.versions.values_list("version_number", flat=True)) == [2, 1]


def test_new_version_without_set_id_is_recognised_by_related_document(patient, doctor):
    first = integrate_cda(patient=patient, data=_without_set_id(_cda(make_content())), provenance="manual",
                          acting_user=doctor)  # fmt: skip
    second = integrate_cda(patient=patient, data=_without_set_id(_cda(second_version())), provenance="manual",
                           acting_user=doctor)  # fmt: skip
    assert second.status == VersionStatus.NEW_VERSION and second.document == first.document


def test_duplicate_and_outdated_versions_are_refused_and_store_nothing(patient, doctor):
    integrate_cda(patient=patient, data=_cda(make_content()), provenance="manual", acting_user=doctor)
    integrate_cda(patient=patient, data=_cda(second_version()), provenance="manual", acting_user=doctor)
    with pytest.raises(ValidationError, match="déjà dans le dossier"):
        integrate_cda(patient=patient, data=_cda(second_version()), provenance="manual", acting_user=doctor)
    stale = make_content(id_root="1.2.250.1.999.2.1.1003", version_number=1)
    with pytest.raises(ValidationError, match="plus récente"):
        integrate_cda(patient=patient, data=_cda(stale), provenance="manual", acting_user=doctor)
    assert DocumentVersion.objects.count() == 2


def test_identity_difference_is_refused_unless_accepted(care_unit, doctor):
    other = PatientFactory(birth_name="AUTRE", first_names="PAUL", sex="M")
    EpisodeFactory(patient=other, care_unit=care_unit)
    with pytest.raises(ValidationError) as refused:
        integrate_cda(patient=other, data=_cda(make_content()), provenance="manual", acting_user=doctor)
    assert any("nom de naissance" in message for message in refused.value.messages)
    assert not Document.objects.exists()
    result = integrate_cda(patient=other, data=_cda(make_content()), provenance="manual", acting_user=doctor,
                           accept_identity_differences=True)  # fmt: skip
    assert result.warnings


@pytest.mark.parametrize(
    "data",
    [b"", b"<ClinicalDocument", XXE, LAUGHS, b"<?xml version='1.0'?><html><body>pas un CDA</body></html>",
     b"<a>" + b"x" * (21 * 1024 * 1024) + b"</a>"],
    ids=["empty", "malformed", "xxe", "billion-laughs", "not-cda", "oversized"],
)  # fmt: skip
def test_bad_input_gives_a_clear_error_and_stores_nothing(patient, doctor, data):
    with pytest.raises(InvalidCda) as error:
        integrate_cda(patient=patient, data=data, provenance="manual", acting_user=doctor)
    assert str(error.value) and "root:" not in str(error.value)  # never the content of /etc/passwd
    assert not Document.objects.exists()


def test_national_example_is_imported_through_the_upload_form(client, care_unit, doctor):
    sample = national_example("DOC_NON_STRUCTURE_CDA-R2-N1.xml")
    patient = PatientFactory(birth_name="X")
    EpisodeFactory(patient=patient, care_unit=care_unit)
    client.force_login(doctor)
    url = reverse("documents:import", args=[patient.pk])
    refused = client.post(url, {"cda": SimpleUploadedFile("doc.xml", sample)})
    assert refused.status_code == 200 and "nom de naissance" in refused.content.decode()  # asked to confirm
    accepted = client.post(url, {"cda": SimpleUploadedFile("doc.xml", sample), "accept_identity_differences": "on"})
    document = Document.objects.get()
    assert accepted.status_code == 302 and document.provenance == Provenance.MANUAL
    assert bytes(document.current_version.pdf).startswith(b"%PDF")


def test_upload_of_a_non_cda_shows_the_error(client, patient, doctor):
    client.force_login(doctor)
    response = client.post(reverse("documents:import", args=[patient.pk]),
                           {"cda": SimpleUploadedFile("x.xml", XXE)})  # fmt: skip
    assert response.status_code == 200 and "DOCTYPE" in response.content.decode()
    assert not Document.objects.exists()


def test_document_without_pdf_opens_on_its_cda_rendering(client, care_unit, doctor):
    sample = national_example("LDL-SES_2022.01.xml")
    patient = PatientFactory(birth_name="X")
    EpisodeFactory(patient=patient, care_unit=care_unit)
    result = integrate_cda(patient=patient, data=sample, provenance=Provenance.MANUAL, acting_user=doctor,
                           accept_identity_differences=True)  # fmt: skip
    assert not bytes(result.version.pdf)
    client.force_login(doctor)
    page = client.get(reverse("documents:detail", args=[result.document.pk])).content.decode()
    assert 'data-testid="cda-frame"' in page and 'data-testid="pdf-frame"' not in page


PRODUCER_XSL = b"""<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
 xmlns:h="urn:hl7-org:v3"><xsl:template match="/"><html><body><p class="producer">Rendu du producteur :
 <xsl:value-of select="h:ClinicalDocument/h:title"/></p><script>alert(1)</script></body></html>
</xsl:template></xsl:stylesheet>"""


def test_the_producer_stylesheet_sent_with_an_import_renders_the_document_sanitised(client, patient, doctor):
    client.force_login(doctor)
    response = client.post(
        reverse("documents:import", args=[patient.pk]),
        {
            "cda": SimpleUploadedFile("d.xml", _cda(make_content())),
            "stylesheet": SimpleUploadedFile("p.xsl", PRODUCER_XSL),
        },
    )
    document = Document.objects.get()
    assert response.status_code == 302
    page = client.get(reverse("documents:detail", args=[document.pk])).content.decode()
    assert 'data-testid="tab-producer"' in page
    rendered = client.get(reverse("documents:cda", args=[document.pk, 1]), {"stylesheet": "producer"})
    html = rendered.content.decode()
    assert "Rendu du producteur" in html and "<script" not in html
    assert rendered["Content-Security-Policy"].startswith("default-src 'none'")


def test_a_producer_stylesheet_that_reads_a_file_falls_back_to_ours_with_a_note(patient, doctor):
    from documents.rendering import render_cda_html

    reading = PRODUCER_XSL.replace(b"<xsl:template", b'<xsl:import href="file:///etc/passwd"/><xsl:template', 1)
    html = render_cda_html(_cda(make_content()), stylesheet="producer", producer_xsl=reading)
    assert "feuille de style du producteur n'a pas pu" in html and "Rendu du producteur" not in html


def test_a_stylesheet_that_is_not_xml_is_refused_at_upload_and_nothing_is_stored(client, patient, doctor):
    client.force_login(doctor)
    response = client.post(
        reverse("documents:import", args=[patient.pk]),
        {
            "cda": SimpleUploadedFile("d.xml", _cda(make_content())),
            "stylesheet": SimpleUploadedFile("p.xsl", b"not xml"),
        },
    )
    assert response.status_code == 200 and "Feuille de style illisible" in response.content.decode()
    assert not Document.objects.exists()
