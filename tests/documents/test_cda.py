"""CDA R2 library: N1/N3 production, header reading, version detection (documents/cda.py, documents/schema.py)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from lxml import etree

from documents.cda import (
    InstanceId,
    InvalidCda,
    KnownVersion,
    VersionStatus,
    build_cda,
    detect_version,
    parse_cda_header,
)
from documents.content import (
    Author,
    DocumentContent,
    DocumentType,
    Encounter,
    Organization,
    PatientIdentity,
    Section,
)
from documents.schema import cda_schema_errors
from dpi.xmlsafe import DEFAULT_MAX_BYTES, parse_xml

PARIS = ZoneInfo("Europe/Paris")
H = {"h": "urn:hl7-org:v3"}
INS_TEST_OID = "1.2.250.1.213.1.4.10"

# A one-page A4 PDF written by hand (valid cross-reference table).
TINY_PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
    b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>\nendobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000058 00000 n \n0000000115 00000 n \n"
    b"trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n186\n%%EOF\n"
)

HOSPITAL = Organization(name="Centre hospitalier de Test", finess_eg="750000001", finess_ej="750000002")
CARDIOLOGY = Organization(name="CH de Test - site Nord", finess_eg="750000019")
QUALIFIED = PatientIdentity(
    ipp="IPP000123",
    ipp_root="1.2.250.1.999.1.1",
    birth_name="PAT-TROIS",
    first_names="DOMINIQUE MARIE-LOUISE",
    birth_date=date(1979, 3, 28),
    sex="F",
    birth_place_insee="51215",
    used_name="MARTIN",
    used_first_name="DOMI",
    ins="279035121518989",
    ins_oid=INS_TEST_OID,
)
NOT_QUALIFIED = dataclasses.replace(QUALIFIED, ins="", ins_oid="", used_name="", used_first_name="")
DOCTOR = Author(
    national_id="801234567897",
    family_name="BOILEAU",
    given_name="Charles",
    profession_code="10",
    specialty_code="SM04",
    organization=CARDIOLOGY,
)
SECTIONS = (
    Section(code="42349-1", title="Motif d'hospitalisation", paragraphs=("Douleur thoracique & dyspnée.",)),
    Section(
        code="10160-0",
        title="Traitements à la sortie",
        paragraphs=("Poursuivre le traitement.", "Contrôle < 1 mois."),
        table_header=("Médicament", "Posologie"),
        table_rows=(("Bisoprolol 2,5 mg", "1 le matin"), ("Ramipril 5 mg", "1 le soir")),
    ),
)


def make_content(**changes: object) -> DocumentContent:
    content = DocumentContent(
        id_root="1.2.250.1.999.2.1.1001",
        set_id="1.2.250.1.999.2.2.1001",
        version_number=1,
        type=DocumentType(code="11490-0", label="Lettre de liaison à la sortie d'un établissement de soins"),
        title="Lettre de liaison de sortie",
        created_at=datetime(2024, 3, 15, 14, 30, tzinfo=PARIS),
        act_start=datetime(2024, 3, 10, 9, 0, tzinfo=PARIS),
        act_end=datetime(2024, 3, 15, 11, 0, tzinfo=PARIS),
        patient=QUALIFIED,
        author=DOCTOR,
        custodian=HOSPITAL,
        sections=SECTIONS,
        encounter=Encounter(
            visit_number="V2024001",
            kind_code="IMP",
            start=datetime(2024, 3, 10, 8, 0, tzinfo=PARIS),
            end=datetime(2024, 3, 15, 12, 0, tzinfo=PARIS),
            care_unit="Cardiologie",
        ),
    )
    return dataclasses.replace(content, **changes)


def second_version(**changes: object) -> DocumentContent:
    return make_content(
        id_root="1.2.250.1.999.2.1.1002", version_number=2, replaces_id="1.2.250.1.999.2.1.1001", **changes
    )


def xpath(document: bytes, path: str) -> list:
    return etree.fromstring(document).xpath(path, namespaces=H)


def samples_dir() -> Path:
    return Path(settings.SAMPLES_DIR) / "cda" / "ExemplesCDA"


def national_example(name: str) -> bytes:
    path = samples_dir() / name
    if not path.is_file():
        pytest.skip(f"Exemple CDA national absent : {path}")
    return path.read_bytes()


def national_example_names() -> list:
    names = sorted(path.name for path in samples_dir().glob("*.xml"))
    reason = f"Exemples CDA nationaux absents ({samples_dir()})"
    return names or [pytest.param("", marks=pytest.mark.skip(reason=reason))]


# --- Production -----------------------------------------------------------------------------------


@pytest.mark.parametrize("level", ["N1", "N3"])
@pytest.mark.parametrize("patient", [QUALIFIED, NOT_QUALIFIED], ids=["with-ins", "without-ins"])
@pytest.mark.parametrize("replacement", [False, True], ids=["first-version", "replacement"])
def test_built_documents_validate_against_the_french_cda_schema(schema_available, level, patient, replacement):
    content = second_version(patient=patient) if replacement else make_content(patient=patient)

    assert cda_schema_errors(build_cda(content, pdf=TINY_PDF, level=level)) == []


def test_document_without_encounter_or_legal_authenticator_still_validates(schema_available):
    content = make_content(encounter=None, author=dataclasses.replace(DOCTOR, organization=None))

    assert cda_schema_errors(build_cda(content, pdf=TINY_PDF, level="N1")) == []


def test_schema_reports_what_is_wrong_in_an_invalid_document(schema_available):
    document = build_cda(make_content(), pdf=TINY_PDF, level="N1").replace(b"<languageCode", b"<languageKode")

    errors = cda_schema_errors(document)

    assert errors and "languageKode" in errors[0] and errors[0].startswith("ligne ")


@pytest.mark.parametrize("level", ["N1", "N3"])
def test_header_read_back_gives_the_values_it_was_built_from(level):
    content = second_version()

    header = parse_cda_header(build_cda(content, pdf=TINY_PDF, level=level))

    assert (header.id.root, header.id.extension) == (content.id_root, "")
    assert header.set_id.key == content.set_id
    assert header.version_number == 2
    assert (header.type_code, header.type_code_system, header.type_label) == (
        "11490-0",
        "2.16.840.1.113883.6.1",
        "Lettre de liaison à la sortie d'un établissement de soins",
    )
    assert header.title == "Lettre de liaison de sortie"
    assert header.effective_time == content.created_at
    assert header.confidentiality == "N"
    assert header.patient.ins.root == INS_TEST_OID and header.patient.ins.extension == "279035121518989"
    assert header.patient.birth_name == "PAT-TROIS"
    assert header.patient.first_names == ("DOMINIQUE", "MARIE-LOUISE")
    assert header.patient.first_name == "DOMINIQUE"
    assert header.patient.birth_date == date(1979, 3, 28)
    assert header.patient.sex == "F"
    assert header.patient.birth_place_insee == "51215"
    assert (header.patient.used_name, header.patient.used_first_name) == ("MARTIN", "DOMI")
    assert header.author_id.extension == "801234567897"
    assert (header.author_family_name, header.author_given_name) == ("BOILEAU", "Charles")
    assert header.custodian_name == "Centre hospitalier de Test"
    assert (header.service_start, header.service_end) == (content.act_start, content.act_end)
    assert header.replaced_id.key == "1.2.250.1.999.2.1.1001"
    assert header.level == level
    assert header.pdf == TINY_PDF


def test_identifiers_are_root_only_oids_and_structures_use_1_plus_finess_eg():
    document = build_cda(make_content(), pdf=TINY_PDF, level="N1")

    assert xpath(document, "/h:ClinicalDocument/h:id/@extension") == []
    assert xpath(document, "/h:ClinicalDocument/h:setId/@extension") == []
    assert xpath(document, "//h:custodian//h:id/@extension") == ["1750000001"]
    assert xpath(document, "//h:author//h:representedOrganization/h:id/@extension") == ["1750000019"]
    assert set(xpath(document, "//h:representedOrganization/h:id/@root")) == {"1.2.250.1.71.4.2.2"}


def test_ins_comes_first_then_the_ipp_for_a_qualified_identity():
    document = build_cda(make_content(), pdf=TINY_PDF, level="N1")

    ids = xpath(document, "//h:recordTarget/h:patientRole/h:id")

    assert [(i.get("root"), i.get("extension")) for i in ids] == [
        (INS_TEST_OID, "279035121518989"),
        ("1.2.250.1.999.1.1", "IPP000123"),
    ]


def test_identity_that_is_not_qualified_carries_no_ins():
    document = build_cda(make_content(patient=NOT_QUALIFIED), pdf=TINY_PDF, level="N3")

    header = parse_cda_header(document)

    assert xpath(document, "//h:patientRole/h:id/@root") == ["1.2.250.1.999.1.1"]
    assert header.patient.ins is None
    assert b"279035121518989" not in document


def test_unqualified_given_holds_every_birth_first_name_and_br_given_only_the_first():
    document = build_cda(make_content(), pdf=TINY_PDF, level="N1")

    assert xpath(document, "//h:patient/h:name/h:given[not(@qualifier)]/text()") == ["DOMINIQUE MARIE-LOUISE"]
    assert xpath(document, "//h:patient/h:name/h:given[@qualifier='BR']/text()") == ["DOMINIQUE"]
    assert xpath(document, "//h:patient/h:name/h:family[@qualifier='BR']/text()") == ["PAT-TROIS"]
    assert xpath(document, "//h:patient/h:name/h:family[@qualifier='CL']/text()") == ["MARTIN"]


def test_used_names_are_left_out_when_unknown():
    document = build_cda(make_content(patient=NOT_QUALIFIED), pdf=TINY_PDF, level="N1")

    assert xpath(document, "//h:patient/h:name/*[@qualifier='CL']") == []


def test_only_n1_declares_the_xds_sd_template():
    n1 = build_cda(make_content(), pdf=TINY_PDF, level="N1")
    n3 = build_cda(make_content(), pdf=TINY_PDF, level="N3")

    assert xpath(n1, "/h:ClinicalDocument/h:templateId/@root") == [
        "2.16.840.1.113883.2.8.2.1",
        "1.2.250.1.213.1.1.1.1",
        "1.3.6.1.4.1.19376.1.2.20",
    ]
    assert xpath(n3, "/h:ClinicalDocument/h:templateId/@root") == ["2.16.840.1.113883.2.8.2.1", "1.2.250.1.213.1.1.1.1"]


def test_n1_body_is_the_pdf_in_base64():
    document = build_cda(make_content(), pdf=TINY_PDF, level="N1")

    (text,) = xpath(document, "/h:ClinicalDocument/h:component/h:nonXMLBody/h:text")

    assert (text.get("mediaType"), text.get("representation")) == ("application/pdf", "B64")
    assert xpath(document, "//h:structuredBody") == []


def test_n3_narrative_has_exactly_the_sections_paragraphs_and_table_of_the_content():
    document = build_cda(make_content(), pdf=TINY_PDF, level="N3")
    sections = xpath(document, "//h:structuredBody/h:component/h:section")

    assert [s.findtext("h:title", namespaces=H) for s in sections] == [
        "Motif d'hospitalisation",
        "Traitements à la sortie",
        "Copie du document",
    ]
    for section, expected in zip(sections, SECTIONS, strict=False):
        assert section.find("h:code", H).get("code") == expected.code
        assert [p.text for p in section.findall("h:text/h:paragraph", H)] == list(expected.paragraphs)
    table = sections[1].find("h:text/h:table", H)
    assert [th.text for th in table.findall("h:thead/h:tr/h:th", H)] == ["Médicament", "Posologie"]
    rows = [[td.text for td in tr.findall("h:td", H)] for tr in table.findall("h:tbody/h:tr", H)]
    assert rows == [["Bisoprolol 2,5 mg", "1 le matin"], ["Ramipril 5 mg", "1 le soir"]]
    assert sections[0].find("h:text/h:table", H) is None


def test_n3_pdf_copy_section_embeds_the_same_pdf_behind_its_narrative_reference():
    document = build_cda(make_content(), pdf=TINY_PDF, level="N3")

    (section,) = xpath(document, "//h:section[h:templateId/@root='1.2.250.1.213.1.1.2.243']")
    (reference,) = section.xpath("h:text/h:renderMultiMedia/@referencedObject", namespaces=H)
    (organizer,) = section.xpath("h:entry/h:organizer", namespaces=H)
    (media,) = organizer.xpath("h:component/h:observationMedia", namespaces=H)

    assert section.find("h:code", H).get("code") == "55108-5"
    assert organizer.find("h:templateId", H).get("root") == "1.2.250.1.213.1.1.3.18"
    assert organizer.xpath("h:component/h:observation/h:value/@code", namespaces=H) == ["55108-5"]
    assert media.get("ID") == reference
    assert media.find("h:value", H).get("mediaType") == "application/pdf"
    assert parse_cda_header(document).pdf == TINY_PDF


def test_replacement_points_at_the_previous_version_and_first_version_has_no_related_document():
    assert xpath(build_cda(make_content(), pdf=TINY_PDF, level="N1"), "//h:relatedDocument") == []

    document = build_cda(second_version(), pdf=TINY_PDF, level="N1")

    assert xpath(document, "//h:relatedDocument/@typeCode") == ["RPLC"]
    assert xpath(document, "//h:relatedDocument/h:parentDocument/h:id/@root") == ["1.2.250.1.999.2.1.1001"]


def test_encounter_goes_in_component_of_only_when_known():
    with_encounter = build_cda(make_content(), pdf=TINY_PDF, level="N1")
    without = build_cda(make_content(encounter=None), pdf=TINY_PDF, level="N1")

    assert xpath(with_encounter, "//h:encompassingEncounter/h:code/@code") == ["IMP"]
    assert xpath(with_encounter, "//h:healthCareFacility/h:code/@code") == ["SA01"]
    assert xpath(with_encounter, "//h:healthCareFacility/h:location/h:name/text()") == ["Cardiologie"]
    assert xpath(without, "//h:componentOf") == []


def test_external_consultation_uses_the_ci_sis_encounter_code_system():
    content = make_content(encounter=Encounter("V1", "EXTERNE", None, None, "Consultations"))

    document = build_cda(content, pdf=TINY_PDF, level="N1")

    assert xpath(document, "//h:encompassingEncounter/h:code/@codeSystem") == ["1.2.250.1.213.1.1.4.2.291"]
    assert xpath(document, "//h:encompassingEncounter/h:effectiveTime/h:low/@nullFlavor") == ["UNK"]


def test_act_dates_are_the_service_event_interval():
    document = build_cda(make_content(), pdf=TINY_PDF, level="N1")

    assert xpath(document, "//h:serviceEvent/h:effectiveTime/h:low/@value") == ["20240310090000+0100"]
    assert xpath(document, "//h:serviceEvent/h:effectiveTime/h:high/@value") == ["20240315110000+0100"]
    assert xpath(document, "//h:serviceEvent//h:standardIndustryClassCode/@code") == ["ETABLISSEMENT"]


def test_times_carry_the_paris_offset_in_winter_and_summer():
    summer = make_content(created_at=datetime(2024, 7, 1, 8, 15, tzinfo=UTC))

    assert xpath(build_cda(summer, pdf=TINY_PDF, level="N1"), "/h:ClinicalDocument/h:effectiveTime/@value") == [
        "20240701101500+0200"
    ]
    assert xpath(build_cda(make_content(), pdf=TINY_PDF, level="N1"), "/h:ClinicalDocument/h:effectiveTime/@value") == [
        "20240315143000+0100"
    ]


def test_building_the_same_content_twice_gives_the_same_bytes():
    content = make_content()

    assert build_cda(content, pdf=TINY_PDF, level="N3") == build_cda(content, pdf=TINY_PDF, level="N3")


def test_output_is_utf8_with_an_xml_declaration():
    document = build_cda(make_content(), pdf=TINY_PDF, level="N3")

    assert document.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<ClinicalDocument')
    assert "Douleur thoracique &amp; dyspnée.".encode() in document


def test_document_types_of_the_national_value_set_keep_their_code_system(schema_available):
    value_set = Path(settings.SAMPLES_DIR) / "cda-valuesets" / "JDV_J07_XdsTypeCode_CISIS.xml"
    if not value_set.is_file():
        pytest.skip(f"Jeu de valeurs JDV_J07 absent : {value_set}")
    concepts = parse_xml(value_set.read_bytes()).xpath("//svs:Concept", namespaces={"svs": "urn:ihe:iti:svs:2008"})
    by_code = {concept.get("code"): concept for concept in concepts}
    for code in ("34874-8", "11488-4", "ATTEST-RESID"):
        concept = by_code[code]
        doc_type = DocumentType(code=code, label=concept.get("displayName"), code_system=concept.get("codeSystem"))

        document = build_cda(make_content(type=doc_type), pdf=TINY_PDF, level="N1")
        header = parse_cda_header(document)

        assert cda_schema_errors(document) == []
        assert (header.type_code, header.type_code_system, header.type_label) == (
            code,
            concept.get("codeSystem"),
            concept.get("displayName"),
        )


@pytest.mark.parametrize(
    ("changes", "pdf", "level"),
    [
        ({}, b"not a pdf", "N1"),
        ({}, TINY_PDF, "N2"),
        ({"created_at": datetime(2024, 3, 15, 14, 30)}, TINY_PDF, "N1"),  # noqa: DTZ001 - naive on purpose
        ({"id_root": "urn:uuid:not-an-oid"}, TINY_PDF, "N1"),
        ({"replaces_id": "1.2.250.1.999.2.1.1000"}, TINY_PDF, "N1"),  # a replacement cannot be version 1
        ({"confidentiality": "MASQUE_PS"}, TINY_PDF, "N1"),  # DMP visibility is not a CDA confidentiality
        ({"patient": dataclasses.replace(QUALIFIED, ins_oid="1.2.250.1.213.1.4.2")}, TINY_PDF, "N1"),  # INS-C
    ],
    ids=["not-pdf", "unknown-level", "naive-time", "id-not-oid", "replacement-v1", "visibility-code", "ins-c"],
)
def test_inconsistent_content_is_refused_with_a_clear_error(changes, pdf, level):
    with pytest.raises(ValueError, match=r"\w"):
        build_cda(make_content(**changes), pdf=pdf, level=level)


# --- National examples ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", national_example_names())
def test_every_national_example_is_read_and_classified(name):
    header = parse_cda_header(national_example(name))

    assert header.id.root and header.set_id and header.version_number >= 1
    assert header.level in ("N1", "N3")
    assert header.patient.ins.root == INS_TEST_OID
    assert header.stylesheet_href == "../FeuilleDeStyle/CDA-FO.xsl"
    assert detect_version(header, []).status is VersionStatus.NEW_DOCUMENT
    assert detect_version(header, [header.known_version()]).status is VersionStatus.DUPLICATE


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "DOC_NON_STRUCTURE_CDA-R2-N1.xml",
            {
                "id": "1.3.6.1.4.1.19376.1.2.20.12345.1.1",
                "set_id": "1.3.6.1.4.1.19376.1.2.20.12345.1",
                "version": 1,
                "level": "N1",
                "pdf_starts": b"%PDF-1.5",
                "replaced": None,
            },
        ),
        (
            "IMG_CR_IMG_2024.01_CDA-R2-Niveau-1.xml",
            {
                "id": "1.2.250.1.213.1.1.1.45.2024.2.1",
                "set_id": "1.2.250.1.213.1.1.1.45.2024.2",
                "version": 2,
                "level": "N1",
                "pdf_starts": b"%PDF-",
                "replaced": "90E1C8EC-F951-4B26-A305-A34848818DD6",
            },
        ),
        (
            "LDL-SES_2022.01.xml",
            {
                "id": "1.2.250.1.213.1.1.1.29.2022.1.1",
                "set_id": "1.2.250.1.213.1.1.1.29.2022.1",
                "version": 1,
                "level": "N3",
                "pdf_starts": None,
                "replaced": None,
            },
        ),
        (
            # Two PDFs in this one: scanned lab results (PDF 1.4) and the PDF copy of the document (PDF 1.6).
            "BIO-CR-BIO_2024.01_CR-2nde-intention-PDF.xml",
            {
                "id": "1.2.250.1.213.1.1.1.55.2024.1.1",
                "set_id": "1.2.250.1.213.1.1.1.55.2024.1",
                "version": 1,
                "level": "N3",
                "pdf_starts": b"%PDF-1.6",
                "replaced": None,
            },
        ),
    ],
    ids=["n1-unstructured", "n1-imaging-v2", "n3-discharge-letter", "n3-biology-with-pdf-copy"],
)
def test_header_of_national_examples(name, expected):
    header = parse_cda_header(national_example(name))

    assert header.id.key == expected["id"]
    assert header.set_id.key == expected["set_id"]
    assert header.version_number == expected["version"]
    assert header.level == expected["level"]
    assert (header.replaced_id.key if header.replaced_id else None) == expected["replaced"]
    if expected["pdf_starts"]:
        assert header.pdf.startswith(expected["pdf_starts"])
    else:
        assert header.pdf is None
    patient = header.patient
    assert patient.ins.key == f"{INS_TEST_OID}^279035121518989"
    assert patient.ids[0] == patient.ins and patient.ids[1].root == "1.2.3.4.567.8.9.10"
    assert (patient.birth_name, patient.first_names, patient.first_name) == (
        "PAT-TROIS",
        ("DOMINIQUE", "MARIE-LOUISE"),
        "DOMINIQUE",
    )
    assert (patient.birth_date, patient.sex, patient.birth_place_insee) == (date(1979, 3, 28), "F", "51215")
    assert header.custodian_id.root == "1.2.250.1.71.4.2.2"
    assert header.service_start is not None and header.service_start.utcoffset() is not None


def test_national_imaging_report_v2_replaces_its_stored_first_version():
    header = parse_cda_header(national_example("IMG_CR_IMG_2024.01_CDA-R2-Niveau-1.xml"))
    first = KnownVersion("90E1C8EC-F951-4B26-A305-A34848818DD6", set_id=header.set_id.key, version_number=1)

    verdict = detect_version(header, [first])

    assert verdict.status is VersionStatus.NEW_VERSION
    assert verdict.known == first


def test_national_examples_validate_against_the_schema_we_validate_ours_with(schema_available):
    assert cda_schema_errors(national_example("LDL-SES_2022.01.xml")) == []


# --- Version detection ----------------------------------------------------------------------------


def header_of(content: DocumentContent, **changes: object):
    return dataclasses.replace(parse_cda_header(build_cda(content, pdf=TINY_PDF, level="N1")), **changes)


V1 = make_content()
V2 = second_version()
V3 = make_content(id_root="1.2.250.1.999.2.1.1003", version_number=3, replaces_id="1.2.250.1.999.2.1.1002")


def test_first_version_of_a_document_is_a_new_document():
    verdict = detect_version(
        header_of(V1), [KnownVersion("1.2.250.1.999.9.9", set_id="1.2.250.1.999.9", version_number=1)]
    )

    assert verdict.status is VersionStatus.NEW_DOCUMENT
    assert verdict.set_id == V1.set_id


def test_same_id_is_a_duplicate():
    stored = header_of(V1).known_version()

    verdict = detect_version(header_of(V1), [stored])

    assert verdict.status is VersionStatus.DUPLICATE
    assert verdict.known == stored


def test_same_set_id_and_greater_version_is_a_new_version_of_the_latest_stored():
    stored = [header_of(V1).known_version()]

    verdict = detect_version(header_of(V2), stored)

    assert verdict.status is VersionStatus.NEW_VERSION
    assert verdict.known == stored[0]
    assert verdict.set_id == V1.set_id


def test_without_set_id_a_new_id_with_next_version_and_related_document_is_a_new_version():
    """DSR Q&A: a producer that sends no setId still links versions through relatedDocument RPLC."""
    v1 = header_of(V1, set_id=None)
    stored_v1 = dataclasses.replace(v1.known_version(), set_id=detect_version(v1, []).set_id)
    v2 = header_of(V2, set_id=None)

    verdict = detect_version(v2, [stored_v1])

    assert verdict.status is VersionStatus.NEW_VERSION
    assert verdict.known == stored_v1
    assert verdict.set_id == stored_v1.set_id == V1.id_root


def test_without_set_id_the_chain_continues_from_the_stored_versions():
    stored_v1 = KnownVersion(V1.id_root, set_id=V1.id_root, version_number=1)
    stored_v2 = KnownVersion(V2.id_root, set_id=V1.id_root, version_number=2)

    verdict = detect_version(header_of(V3, set_id=None), [stored_v1, stored_v2])

    assert verdict.status is VersionStatus.NEW_VERSION
    assert verdict.known == stored_v2


def test_stored_version_without_set_id_is_still_found_through_related_document():
    stored_v1 = KnownVersion(V1.id_root, version_number=1)

    verdict = detect_version(header_of(V2, set_id=None), [stored_v1])

    assert verdict.status is VersionStatus.NEW_VERSION
    assert verdict.known == stored_v1


def test_new_version_naming_an_unknown_set_id_joins_the_document_of_its_parent():
    stored_v1 = KnownVersion(V1.id_root, set_id=V1.set_id, version_number=1)

    verdict = detect_version(header_of(V2, set_id=InstanceId("1.2.250.1.999.9.9")), [stored_v1])

    assert verdict.status is VersionStatus.NEW_VERSION
    assert verdict.set_id == V1.set_id


def test_older_version_arriving_after_a_newer_one_is_stale():
    stored = [header_of(V1).known_version(), header_of(V3).known_version()]

    verdict = detect_version(header_of(V2), stored)

    assert verdict.status is VersionStatus.STALE
    assert verdict.known.version_number == 3


def test_same_version_number_under_another_id_is_stale():
    stored = [header_of(V2).known_version()]

    verdict = detect_version(header_of(V2, id=InstanceId("1.2.250.1.999.2.1.9")), stored)

    assert verdict.status is VersionStatus.STALE


def test_related_document_to_an_unknown_id_without_set_id_is_a_new_document():
    verdict = detect_version(header_of(V2, set_id=None), [KnownVersion("1.2.250.1.999.7.7", version_number=1)])

    assert verdict.status is VersionStatus.NEW_DOCUMENT
    assert verdict.set_id == V2.id_root


def test_missing_version_number_counts_as_one():
    stored = [header_of(V1).known_version()]

    verdict = detect_version(header_of(V2, version_number=None), stored)

    assert verdict.status is VersionStatus.STALE


# --- Bad inputs -----------------------------------------------------------------------------------


def minimal_cda(body: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<ClinicalDocument xmlns="urn:hl7-org:v3"><id root="1.2.3"/>'
        "<recordTarget><patientRole><id root='1.2.4' extension='1'/></patientRole></recordTarget>"
        f"<component>{body}</component></ClinicalDocument>"
    ).encode()


def test_minimal_cda_is_readable():
    header = parse_cda_header(minimal_cda("<structuredBody/>"))

    assert (header.id.key, header.level, header.pdf, header.set_id) == ("1.2.3", "N3", None, None)


def test_malformed_xml_is_an_invalid_cda():
    with pytest.raises(InvalidCda, match="mal formé"):
        parse_cda_header(b'<?xml version="1.0"?><ClinicalDocument xmlns="urn:hl7-org:v3"><id root="1.2"></Clinical')


@pytest.mark.parametrize(
    "payload",
    [
        b'<?xml version="1.0"?><!DOCTYPE ClinicalDocument [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b'<ClinicalDocument xmlns="urn:hl7-org:v3"><title>&xxe;</title></ClinicalDocument>',
        b'<?xml version="1.0"?><!DOCTYPE ClinicalDocument [<!ENTITY % xxe SYSTEM "file:///etc/passwd"> %xxe;]>'
        b'<ClinicalDocument xmlns="urn:hl7-org:v3"/>',
    ],
    ids=["general-entity", "parameter-entity"],
)
def test_xxe_is_refused_and_never_reads_the_file(payload):
    passwd = Path("/etc/passwd").read_text(errors="replace").splitlines()[0]

    with pytest.raises(InvalidCda, match="DOCTYPE") as raised:
        parse_cda_header(payload)

    assert passwd not in str(raised.value) and passwd not in repr(raised.value.__cause__)


def test_billion_laughs_is_refused():
    entities = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    payload = (
        f'<?xml version="1.0"?><!DOCTYPE ClinicalDocument [<!ENTITY lol0 "lol">{entities}]>'
        '<ClinicalDocument xmlns="urn:hl7-org:v3"><title>&lol9;</title></ClinicalDocument>'
    ).encode()

    with pytest.raises(InvalidCda, match="DOCTYPE"):
        parse_cda_header(payload)


def test_oversized_file_is_refused_before_parsing():
    payload = minimal_cda() + b" " * (DEFAULT_MAX_BYTES + 1 - len(minimal_cda()))

    with pytest.raises(InvalidCda, match="taille autorisée"):
        parse_cda_header(payload)


@pytest.mark.parametrize(
    "payload",
    [
        b'<?xml version="1.0"?><Envelope xmlns="http://www.w3.org/2003/05/soap-envelope"/>',
        b'<?xml version="1.0"?><ClinicalDocument><id root="1.2.3"/></ClinicalDocument>',
    ],
    ids=["other-root", "no-hl7-namespace"],
)
def test_xml_that_is_not_a_cda_is_refused(payload):
    with pytest.raises(InvalidCda, match="pas un document CDA R2"):
        parse_cda_header(payload)


@pytest.mark.parametrize("payload", [b"", b"   \n"], ids=["empty", "blank"])
def test_empty_file_is_refused(payload):
    with pytest.raises(InvalidCda, match="vide"):
        parse_cda_header(payload)


def test_content_not_in_the_declared_encoding_is_refused():
    payload = minimal_cda("<structuredBody/>").replace(
        b'<id root="1.2.3"/>', b'<id root="1.2.3"/><title>r\xe9sum\xe9</title>'
    )

    with pytest.raises(InvalidCda, match="encodage"):
        parse_cda_header(payload)


def test_latin1_document_that_declares_it_is_read():
    payload = minimal_cda("<structuredBody/>").replace(b"UTF-8", b"ISO-8859-1")
    payload = payload.replace(b'<id root="1.2.3"/>', b'<id root="1.2.3"/><title>r\xe9sum\xe9</title>')

    assert parse_cda_header(payload).title == "résumé"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "sans corps"),
        ('<nonXMLBody><text mediaType="application/pdf" representation="B64">%%%</text></nonXMLBody>', "base64"),
        (
            '<nonXMLBody><text mediaType="application/pdf" representation="B64">aGVsbG8=</text></nonXMLBody>',
            "pas un PDF",
        ),
        ('<nonXMLBody><text mediaType="application/pdf">%PDF-1.4</text></nonXMLBody>', "B64"),
    ],
    ids=["no-body", "bad-base64", "not-a-pdf", "not-base64"],
)
def test_unreadable_body_is_an_invalid_cda(body, message):
    with pytest.raises(InvalidCda, match=message):
        parse_cda_header(minimal_cda(body))


def test_document_without_id_is_refused():
    with pytest.raises(InvalidCda, match="sans identifiant"):
        parse_cda_header(minimal_cda("<structuredBody/>").replace(b'<id root="1.2.3"/>', b""))


def test_document_without_patient_is_refused():
    payload = minimal_cda("<structuredBody/>").replace(
        b"<recordTarget><patientRole><id root='1.2.4' extension='1'/></patientRole></recordTarget>", b""
    )

    with pytest.raises(InvalidCda, match="sans patient"):
        parse_cda_header(payload)


def test_unreadable_date_is_refused():
    payload = minimal_cda("<structuredBody/>").replace(
        b'<id root="1.2.3"/>', b'<id root="1.2.3"/><effectiveTime value="2024-03-15"/>'
    )

    with pytest.raises(InvalidCda, match="Date CDA illisible"):
        parse_cda_header(payload)


def test_invalid_cda_is_a_value_error():
    assert issubclass(InvalidCda, ValueError)
