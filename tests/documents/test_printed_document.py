"""What the printed document says besides its content (issue 11 §2): the identity traits every paper output carries
and those the site adds (INS/va1.10, va1.15), the hospital's patient information in the footer (DOC/va1.03), the file
names of the MSSanté referential (DOC/va1.01) and the "annule et remplace" notice of a correction (MSS/va1.13)."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from documents.content import REPLACEMENT_NOTICE, REPLACEMENT_NOTICE_TITLE, PrintSettings, Section
from documents.filenames import document_file_name
from documents.pdf import print_settings
from documents.services import create_draft, start_correction, update_draft, validate_document
from tests.documents.test_pdf import (
    NIA_OID,
    TEST_INS,
    datamatrices_in_top_right_of_first_page,
    pdf_text,
    qualified_patient,
    sample_content,
    write_pdf,
)
from tests.documents.test_services import LETTER_FIELDS, _letter
from tests.factories import LegalEntityFactory, SiteFactory

DEFAULTS = PrintSettings()
NO_EXTRAS = PrintSettings(all_first_names=False, used_names=False, birth_place=False)
BIRTH_PLACE = "75056"  # not a substring of the test INS, so its absence is visible
NOTICE = (
    "Vos données de santé sont traitées par le Centre hospitalier de Reims-Est pour votre prise en charge "
    "(article 6.1.e et 9.2.h du RGPD). Vous pouvez exercer vos droits d'accès, de rectification et d'opposition "
    "auprès du délégué à la protection des données : dpo@ch-reims-est.fr, 45 rue Cognacq-Jay, 51092 Reims. "
    "Réclamation possible auprès de la CNIL. Durée de conservation : 20 ans après le dernier passage. "
    "Vos documents peuvent être envoyés à votre espace Mon espace santé, sauf opposition de votre part. "
    "Plus d'informations sur le site de l'établissement, rubrique « Vos droits »."
)
OPERATIVE_REPORT = {"indication": "Appendicite", "intervention": "Appendicectomie", "description": "Cœlioscopie."}


def _content(printing: PrintSettings = DEFAULTS, **patient_changes: object):
    patient = qualified_patient(birth_place_insee=BIRTH_PLACE, **patient_changes)
    return dataclasses.replace(sample_content(patient), printing=printing)


# --- Identity block (INS/va1.15, INS/va1.10) -----------------------------------------------


@pytest.fixture(scope="module")
def minimal_identity_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_pdf(tmp_path_factory.mktemp("minimal"), _content(NO_EXTRAS))


def test_a_qualified_identity_prints_the_mandatory_traits_even_without_any_extra(minimal_identity_pdf: Path) -> None:
    text = pdf_text(minimal_identity_pdf)  # pdftotext reads a row of labels, then its values
    printed = [
        "Nom de naissance", "LÉGER",
        "Premier prénom de naissance", "MARIE-HÉLÈNE",
        "Date de naissance", "28/03/1979",
        "Sexe", "Féminin",
        f"INS (NIR) {TEST_INS} · INS-NIR de test",
    ]  # fmt: skip
    assert [trait for trait in printed if trait not in text] == []


def test_traits_the_site_did_not_choose_are_not_printed(minimal_identity_pdf: Path) -> None:
    text = pdf_text(minimal_identity_pdf)

    assert [
        trait for trait in ("CÉCILE", "DURAND", "Nom utilisé", BIRTH_PLACE, "Lieu de naissance") if trait in text
    ] == []


@pytest.mark.parametrize(
    ("printing", "printed"),
    [
        (dataclasses.replace(NO_EXTRAS, all_first_names=True), ["Prénom(s) de naissance", "MARIE-HÉLÈNE CÉCILE"]),
        (dataclasses.replace(NO_EXTRAS, used_names=True), ["Nom utilisé", "DURAND", "Prénom utilisé", "Marie"]),
        (dataclasses.replace(NO_EXTRAS, birth_place=True), ["Lieu de naissance (code INSEE)", BIRTH_PLACE]),
    ],
    ids=["all-first-names", "used-names", "birth-place"],
)
def test_each_extra_trait_chosen_by_the_site_is_printed(tmp_path: Path, printing: PrintSettings, printed: list[str]):
    text = pdf_text(write_pdf(tmp_path, _content(printing)))

    assert [trait for trait in printed if trait not in text] == []


def test_the_ins_is_printed_with_its_nature_nia(tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path, _content(ins_oid=NIA_OID))

    assert f"INS (NIA) {TEST_INS} · INS-NIA · OID {NIA_OID}" in pdf_text(pdf)
    assert len(datamatrices_in_top_right_of_first_page(pdf)) == 1


@pytest.mark.django_db
def test_the_site_chooses_its_extra_traits_and_its_notice_falls_back_on_its_legal_entity() -> None:
    legal_entity = LegalEntityFactory(patient_notice=" Information de l'entité juridique. ")
    site = SiteFactory(legal_entity=legal_entity, print_used_names=False, print_birth_place=False)
    other = SiteFactory(legal_entity=legal_entity, patient_notice="Information propre au site.")

    assert print_settings(site) == PrintSettings(
        all_first_names=True, used_names=False, birth_place=False, patient_notice="Information de l'entité juridique."
    )
    assert print_settings(other).patient_notice == "Information propre au site."
    assert print_settings(None) == PrintSettings()


# --- Patient information in the footer (DOC/va1.03) ----------------------------------------


def test_the_patient_information_is_in_the_footer_of_every_page_whole(tmp_path: Path) -> None:
    paragraph = "Surveillance clinique et biologique quotidienne, sans événement notable. " * 12
    sections = tuple(Section(code="8648-8", title=f"Jour {day}", paragraphs=(paragraph,)) for day in range(1, 9))
    content = dataclasses.replace(sample_content(sections=sections), printing=PrintSettings(patient_notice=NOTICE))

    text = pdf_text(write_pdf(tmp_path, content))

    pages = re.findall(r"Version 2 · page (\d+) / (\d+)", text)
    assert len(pages) > 1
    assert text.count(NOTICE) == len(pages)
    assert text.count("Jour 8") == 1 and paragraph.strip() in text  # the body is not hidden under the notice


def test_without_a_configured_text_the_footer_has_no_patient_information(tmp_path: Path) -> None:
    assert "RGPD" not in pdf_text(write_pdf(tmp_path, sample_content()))


@pytest.mark.django_db
@pytest.mark.parametrize(("type_code", "fields"), [("11490-0", LETTER_FIELDS), ("34874-8", OPERATIVE_REPORT)])
def test_the_discharge_letter_and_the_operative_report_carry_the_hospital_notice(
    qualified_episode, doctor, tmp_path, type_code, fields
):
    legal_entity = qualified_episode.care_unit.site.legal_entity
    legal_entity.patient_notice = NOTICE
    legal_entity.save()
    document = create_draft(
        patient=qualified_episode.patient, episode=qualified_episode, type_code=type_code, acting_user=doctor,
        title="Document signé", fields=fields, act_date=timezone.now(),
    )  # fmt: skip

    version = validate_document(document=document, acting_user=doctor)

    assert NOTICE in _text_of(version.pdf, tmp_path / "document.pdf")


# --- "Annule et remplace" (MSS/va1.13) ------------------------------------------------------


def test_a_version_replacing_another_opens_with_the_preset_notice(tmp_path: Path) -> None:
    content = dataclasses.replace(sample_content(), replaces_id="1.2.250.1.999.2.1.1")

    text = pdf_text(write_pdf(tmp_path, content))

    assert text.index(REPLACEMENT_NOTICE_TITLE) < text.index(content.title)
    assert REPLACEMENT_NOTICE in text
    assert "Version remplacée : 1 · identifiant 1.2.250.1.999.2.1.1" in text


def test_a_first_version_has_no_replacement_notice(tmp_path: Path) -> None:
    text = pdf_text(write_pdf(tmp_path, sample_content()))

    assert REPLACEMENT_NOTICE_TITLE not in text and REPLACEMENT_NOTICE not in text


@pytest.mark.django_db
def test_a_corrected_document_says_it_cancels_and_replaces_the_version_before(qualified_episode, doctor, tmp_path):
    document = _letter(qualified_episode, doctor)
    first = validate_document(document=document, acting_user=doctor)
    start_correction(document=document, acting_user=doctor)
    update_draft(document=document, title="Lettre corrigée", fields={**LETTER_FIELDS, "suites": "RDV à 15 jours"},
                 act_date=document.act_date, acting_user=doctor)  # fmt: skip
    second = validate_document(document=document, acting_user=doctor)

    assert REPLACEMENT_NOTICE not in _text_of(first.pdf, tmp_path / "v1.pdf")
    text = _text_of(second.pdf, tmp_path / "v2.pdf")
    assert f"{REPLACEMENT_NOTICE_TITLE} {REPLACEMENT_NOTICE}" in text
    assert f"Version remplacée : 1 · identifiant {first.cda_id_root}" in text


# --- File names (DOC/va1.01) ----------------------------------------------------------------


def test_file_names_follow_the_mssante_form_in_portable_characters() -> None:
    name = document_file_name(
        act_date=datetime(2022, 5, 30, 23, 30, tzinfo=UTC),  # 31 May in Paris
        type_label="CR d'imagerie médicale",
        birth_name="CORSE",
        first_name="FIGATELLIX",
        extension="pdf",
    )
    assert name == "20220531_CR_d_imagerie_medicale_CORSE_FIGATELLIX.pdf"  # the ANS example


@pytest.mark.parametrize(
    ("birth_name", "first_name", "expected"),
    [
        ("D'ARTAGNAN-ŒUVRARD", "JEAN-BAPTISTE", "D_ARTAGNAN_OEUVRARD_JEAN_BAPTISTE"),
        ('LÉGER/../"x";', "Zoé", "LEGER_x_Zoe"),
        ("", "", ""),
    ],
)
def test_names_in_file_names_lose_accents_and_anything_a_file_system_or_header_could_misread(
    birth_name: str, first_name: str, expected: str
) -> None:
    name = document_file_name(
        act_date=datetime(2025, 3, 10, 8, tzinfo=UTC),
        type_label="Lettre de liaison",
        birth_name=birth_name,
        first_name=first_name,
        extension="xml",
    )
    assert name == "_".join(part for part in ("20250310_Lettre_de_liaison", expected) if part) + ".xml"
    assert re.fullmatch(r"[A-Za-z0-9_]+\.xml", name)


@pytest.mark.django_db
def test_the_pdf_and_the_cda_are_downloaded_under_their_mssante_names(client, qualified_episode, doctor):
    document = _letter(qualified_episode, doctor, act_date=datetime(2025, 3, 10, 8, tzinfo=UTC))
    validate_document(document=document, acting_user=doctor)
    client.force_login(doctor)
    stem = "20250310_Lettre_de_liaison_a_la_sortie_d_un_etablissement_de_soins_PAT_TROIS_DOMINIQUE"

    pdf = client.get(reverse("documents:pdf", args=[document.pk, 1]))
    cda = client.get(reverse("documents:cda_download", args=[document.pk, 1]))

    assert pdf["Content-Disposition"] == f'inline; filename="{stem}.pdf"'
    assert cda["Content-Disposition"] == f'attachment; filename="{stem}.xml"'


def _text_of(pdf: bytes | memoryview, path: Path) -> str:
    path.write_bytes(bytes(pdf))
    return pdf_text(path)
