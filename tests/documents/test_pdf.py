"""The printed document: PDF/A, same content as the CDA (SC.CDA/DD.02), INS datamatrix only when qualified (VISU.04).

The datamatrix is read back the way a scanner would: the first page is rasterised by poppler's ``pdftoppm`` and
decoded by libdmtx (``pylibdmtx``), an implementation independent of the encoder.
"""

from __future__ import annotations

import base64
import dataclasses
import re
import subprocess
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from pylibdmtx.pylibdmtx import decode
from pypdf import PdfReader
from weasyprint import HTML

from documents.content import (
    INS_OIDS,
    Author,
    DocumentContent,
    DocumentType,
    Encounter,
    Organization,
    PatientIdentity,
    Section,
)
from documents.datamatrix import GS, ins_datamatrix_svg, ins_payload, normalise_trait
from documents.pdf import render_pdf

TEST_INS = "279035121518989"
TEST_NIR_OID = "1.2.250.1.213.1.4.10"
NIA_OID = "1.2.250.1.213.1.4.9"
RASTER_DPI = 200
A4_PIXELS = (1654, 2339)  # at RASTER_DPI
SCAN_REGION = 0.4  # the scan reads the top-right 40 % x 40 % of page 1, where the INS belongs
SYMBOL_EDGE_MM = (8, 40)  # and symbols 8 to 40 mm wide: libdmtx takes minutes to search a whole page in vain


def qualified_patient(**changes: object) -> PatientIdentity:
    patient = PatientIdentity(
        ipp="0012345678",
        ipp_root="1.2.250.1.999.1.1",
        birth_name="LÉGER",
        first_names="MARIE-HÉLÈNE CÉCILE JOSÉPHINE",
        birth_date=date(1979, 3, 28),
        sex="F",
        birth_place_insee="51215",
        used_name="DURAND",
        used_first_name="Marie",
        ins=TEST_INS,
        ins_oid=TEST_NIR_OID,
    )
    return dataclasses.replace(patient, **changes)


def sample_content(
    patient: PatientIdentity | None = None, sections: tuple[Section, ...] | None = None
) -> DocumentContent:
    """A discharge letter as the documents app would hand it to both renderers."""
    hospital = Organization(name="Centre hospitalier de Reims-Est", finess_eg="510000029", finess_ej="510000011")
    author = Author(
        national_id="810001234567",
        family_name="MARTIN",
        given_name="Claire",
        profession_code="10",
        specialty_code="SM26",
        organization=hospital,
    )
    return DocumentContent(
        id_root="1.2.250.1.999.2.1",
        set_id="1.2.250.1.999.2.2",
        version_number=2,
        type=DocumentType(code="11490-0", label="Lettre de liaison à la sortie d'un établissement de soins"),
        title="Lettre de liaison de sortie — médecine interne",
        created_at=datetime(2025, 3, 14, 9, 30, tzinfo=UTC),
        act_start=datetime(2025, 3, 10, 8, 0, tzinfo=UTC),
        act_end=datetime(2025, 3, 14, 9, 0, tzinfo=UTC),
        patient=patient or qualified_patient(),
        author=author,
        custodian=hospital,
        sections=sections or SECTIONS,
        encounter=Encounter(visit_number="V2025000123", kind_code="IMP", start=None, end=None, care_unit="Médecine"),
    )


SECTIONS = (
    Section(
        code="46241-6",
        title="Motif d'hospitalisation",
        paragraphs=("Pneumopathie communautaire, évolution favorable sous antibiothérapie.",),
    ),
    Section(
        code="10183-2",
        title="Traitements à la sortie",
        table_header=("Médicament", "Posologie", "Durée"),
        table_rows=(
            ("Amoxicilline 1 g", "1 cp 3 fois par jour", "7 jours"),
            ("Paracétamol 1 g", "si douleur", "5 jours"),
        ),
    ),
    Section(
        code="18776-5",
        title="Suites à donner",
        paragraphs=("Consultation de contrôle avec le médecin traitant dans 10 jours.",),
    ),
)


def pdf_text(pdf: Path) -> str:
    """The text of every page, whitespace collapsed (line breaks of the layout do not matter)."""
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True).stdout
    return " ".join(text.decode("utf-8").split())


def datamatrices_in_top_right_of_first_page(pdf: Path) -> list[bytes]:
    """What a scanner reads at the top right of page 1, next to the patient identity."""
    width, height = A4_PIXELS
    left = round(width * (1 - SCAN_REGION))
    raster = pdf.with_suffix("")
    crop = ["-x", str(left), "-y", "0", "-W", str(width - left), "-H", str(round(height * SCAN_REGION))]
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(RASTER_DPI), "-f", "1", "-l", "1", "-singlefile", *crop, str(pdf), str(raster)],
        check=True,
    )
    with Image.open(raster.with_suffix(".png")) as image:
        return [symbol.data for symbol in decode(image, max_count=1, **_edge_pixels())]


def _edge_pixels() -> dict[str, int]:
    pixels_per_mm = RASTER_DPI / 25.4
    smallest, largest = SYMBOL_EDGE_MM
    return {"min_edge": round(smallest * pixels_per_mm), "max_edge": round(largest * pixels_per_mm)}


def scan_svg(svg: str, directory: Path) -> list[bytes]:
    """Print an SVG alone on a small page, rasterise and scan it."""
    source = base64.b64encode(svg.encode("ascii")).decode("ascii")
    page = f'<style>@page {{ size: 60mm; margin: 5mm }}</style><img src="data:image/svg+xml;base64,{source}">'
    HTML(string=page).write_pdf(directory / "symbol.pdf")
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(RASTER_DPI), "-singlefile", directory / "symbol.pdf", directory / "symbol"],
        check=True,
    )
    with Image.open(directory / "symbol.png") as image:
        return [symbol.data for symbol in decode(image, max_count=1)]


def write_pdf(directory: Path, content: DocumentContent) -> Path:
    path = directory / "document.pdf"
    path.write_bytes(render_pdf(content))
    return path


@pytest.fixture(scope="module")
def qualified_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_pdf(tmp_path_factory.mktemp("qualified"), sample_content())


@pytest.fixture(scope="module")
def unqualified_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An identity whose INS was retrieved but is not qualified: the INS must not be printed at all."""
    patient = qualified_patient(ins_oid="")
    return write_pdf(tmp_path_factory.mktemp("unqualified"), sample_content(patient))


# --- INS datamatrix -------------------------------------------------------------------------


def test_the_datamatrix_of_a_qualified_identity_decodes_to_the_ins_payload(qualified_pdf: Path) -> None:
    expected = (
        "IS01000000000000000000000000"
        f"S1{TEST_INS}S2{TEST_NIR_OID}{GS}S3MARIE-HELENE CECILE JOSEPHINE{GS}S4LEGER{GS}S5FS628031979S751215"
    )

    assert datamatrices_in_top_right_of_first_page(qualified_pdf) == [expected.encode("ascii")]
    assert ins_payload(qualified_patient()) == expected


def test_the_datamatrix_carries_the_nia_oid_and_omits_an_unknown_birth_place(tmp_path: Path) -> None:
    patient = qualified_patient(
        ins="799999123456785",
        ins_oid=NIA_OID,
        birth_name="D'ARTAGNAN-ŒUVRARD",
        first_names="Jean-Baptiste Émile Noël",
        sex="M",
        birth_date=date(2001, 12, 5),
        birth_place_insee="",
    )

    (decoded,) = datamatrices_in_top_right_of_first_page(write_pdf(tmp_path, sample_content(patient)))

    assert decoded.decode("ascii") == ins_payload(patient)
    assert f"S2{NIA_OID}{GS}S3JEAN-BAPTISTE EMILE NOEL{GS}S4D'ARTAGNAN-OEUVRARD{GS}S5M" in decoded.decode("ascii")
    assert decoded.endswith(b"S605122001")


def test_a_qualified_identity_is_marked_ins_a_scanner_with_its_ins_and_oid(qualified_pdf: Path) -> None:
    text = pdf_text(qualified_pdf)

    assert "INS à scanner" in text
    assert f"{TEST_INS} · INS-NIR de test · OID {TEST_NIR_OID}" in text


def test_an_unqualified_identity_has_no_datamatrix_no_marking_and_no_ins(unqualified_pdf: Path) -> None:
    text = pdf_text(unqualified_pdf)

    assert datamatrices_in_top_right_of_first_page(unqualified_pdf) == []
    assert "INS à scanner" not in text
    assert TEST_INS not in text
    assert "LÉGER" in text  # the identity itself is printed


trait_text = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZÀÂÇÉÈÊËÎÏÔÖÙÛÜŸŒÆabcéèçëï '-", max_size=40)
qualified_identities = st.builds(
    qualified_patient,
    birth_name=trait_text,
    first_names=trait_text,
    birth_date=st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31)),
    sex=st.sampled_from(["M", "F"]),
    birth_place_insee=st.from_regex(r"|[0-9]{5}|2[AB][0-9]{3}|99[0-9]{3}", fullmatch=True),
    ins=st.from_regex(r"[1-8][0-9]{4}(2A|2B|[0-9]{2})[0-9]{8}", fullmatch=True),
    ins_oid=st.sampled_from(sorted(INS_OIDS)),
)


@settings(max_examples=30, deadline=None)
@given(patient=qualified_identities)
def test_the_datamatrix_of_any_qualified_identity_scans_back_to_its_payload(patient: PatientIdentity) -> None:
    with tempfile.TemporaryDirectory() as directory:
        assert scan_svg(ins_datamatrix_svg(patient), Path(directory)) == [ins_payload(patient).encode("ascii")]


@pytest.mark.parametrize(
    "changes",
    [{"ins_oid": ""}, {"ins": ""}, {"sex": "U"}, {"birth_date": None}, {"ins": "27903512151898"}],
    ids=["no-oid", "no-ins", "unknown-sex", "no-birth-date", "short-ins"],
)
def test_no_ins_payload_without_a_complete_qualified_identity(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ins_payload(qualified_patient(**changes))


@pytest.mark.parametrize(
    ("trait", "printed"),
    [("Marie-Hélène  Cécile", "MARIE-HELENE CECILE"), ("Lætitia Œnone", "LAETITIA OENONE"), ("O'Brien\x1d", "O'BRIEN")],
)
def test_traits_are_printed_in_uppercase_ascii_without_separators(trait: str, printed: str) -> None:
    assert normalise_trait(trait) == printed


# --- PDF/A ----------------------------------------------------------------------------------


def test_the_pdf_declares_and_follows_pdf_a_1b(qualified_pdf: Path) -> None:
    reader = PdfReader(qualified_pdf)
    catalog = reader.trailer["/Root"]
    xmp = catalog["/Metadata"].get_object().get_data().decode("utf-8")

    assert qualified_pdf.read_bytes().startswith(b"%PDF-1.4")
    assert re.search(r'pdfaid:part="1"', xmp) and re.search(r'pdfaid:conformance="B"', xmp)
    assert [intent.get_object()["/S"] for intent in catalog["/OutputIntents"]] == ["/GTS_PDFA1"]
    assert "/ID" in reader.trailer
    for page in reader.pages:
        assert page.mediabox.width == pytest.approx(595.28, abs=0.1)  # A4
        assert page.mediabox.height == pytest.approx(841.89, abs=0.1)
        assert _fonts_without_embedded_file(page) == []
        assert "/Group" not in page  # no transparency group
        for state in page["/Resources"].get("/ExtGState", {}).values():
            state = state.get_object()
            assert state.get("/CA", 1) == 1 and state.get("/ca", 1) == 1 and state.get("/SMask", "/None") == "/None"


def _fonts_without_embedded_file(page) -> list[str]:
    missing = []
    for font in page["/Resources"]["/Font"].values():
        font = font.get_object()
        descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
        descriptor = descendant["/FontDescriptor"].get_object()
        if not {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor):
            missing.append(font["/BaseFont"])
    return missing


# --- Same content as the CDA ----------------------------------------------------------------


def test_the_pdf_prints_the_document_content(qualified_pdf: Path) -> None:
    content = sample_content()
    text = pdf_text(qualified_pdf)

    expected = [
        content.title,
        content.type.label,
        "Centre hospitalier de Reims-Est",
        "FINESS EG 510000029",
        "Claire MARTIN",
        "Médecin · Qualifié en médecine générale",
        "RPPS 10001234567",
        "Date de l'acte : 10/03/2025 09:00 – 14/03/2025 10:00",  # Europe/Paris
        "Date de création : 14/03/2025 10:30",
        "MARIE-HÉLÈNE CÉCILE JOSÉPHINE",
        "28/03/1979",
        "Féminin",
        "DURAND",
        "0012345678",
        "Version 2 · page 1 / 1",
    ]
    for section in content.sections:
        expected += [section.title, *section.paragraphs, *section.table_header]
        expected += [cell for row in section.table_rows for cell in row]
    assert [item for item in expected if item not in text] == []


def test_user_text_is_printed_as_text_not_interpreted_as_markup(tmp_path: Path) -> None:
    hostile = '<script>alert("x")</script><b>gras</b><img src="http://127.0.0.1:9/x.png">'
    sections = (Section(code="46241-6", title="<i>Titre</i> & suite", paragraphs=(hostile,)),)

    text = pdf_text(write_pdf(tmp_path, sample_content(sections=sections)))

    assert hostile in text
    assert "<i>Titre</i> & suite" in text


def test_every_page_carries_the_patient_identity_and_its_number(tmp_path: Path) -> None:
    paragraph = "Surveillance clinique et biologique quotidienne, sans événement notable. " * 12
    sections = tuple(Section(code="8648-8", title=f"Jour {day}", paragraphs=(paragraph,)) for day in range(1, 9))

    text = pdf_text(write_pdf(tmp_path, sample_content(sections=sections)))

    pages = re.findall(r"Version 2 · page (\d+) / (\d+)", text)
    assert len(pages) > 1
    assert pages == [(str(number), str(len(pages))) for number in range(1, len(pages) + 1)]
    assert text.count("LÉGER MARIE-HÉLÈNE · né(e) le 28/03/1979 · IPP 0012345678") == len(pages)
