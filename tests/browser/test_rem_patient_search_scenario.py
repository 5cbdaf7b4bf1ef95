"""REM INS/va1.25, va1.02 and va1.41 in the browser: a nurse finds patients typing names without their
accents, apostrophes or hyphens; by birth date alone or with initials, homonyms told apart and possible
duplicates marked; by INS only once the matricule is complete with its key. Screenshots kept as evidence
under var/artefacts/rem/INS/va1.25/, va1.02/ and va1.41/."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from dpi.validators import nir_key
from patients.models import IdentityStatus, Sex
from tests.browser.helpers import log_in, rem_shots
from tests.factories import EpisodeFactory, PatientFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def search_for(page, **fields: str):
    """Fill the search form as a person would (by its labels) and submit; the results replace the previous ones."""
    labels = {"name": "Nom, prénom", "birth_date": "Date de naissance", "ins": "Matricule INS"}
    for field, label in labels.items():
        page.get_by_label(label).fill(fields.get(field, ""))
    with page.expect_response(lambda response: "/patients/?" in response.url):
        page.get_by_role("button", name="Rechercher").click()


def expect_rows(page, *expected: tuple[str, ...]) -> None:
    """The results are ``expected`` rows, in order, each showing all of its texts (waits for the swap)."""
    rows = page.get_by_test_id("search-result")
    expect(rows).to_have_count(len(expected))
    for index, texts in enumerate(expected):
        for text in texts:
            expect(rows.nth(index)).to_contain_text(text)


def test_va125_names_are_found_typed_without_accents_apostrophes_hyphens_or_capitals(
    page, live_server, doctor, care_unit
):
    shots = rem_shots("INS/va1.25")
    for birth_name, first_names in (("D'ARC", "JEANNE"), ("LEFÈBVRE", "HÉLÈNE"), ("ROUX", "JEAN-PIERRE ANDRÉ")):
        EpisodeFactory(care_unit=care_unit, patient=PatientFactory(birth_name=birth_name, first_names=first_names))
    PatientFactory(birth_name="GARCÍA", first_names="LUCÍA", used_name="MARTIN-LÉVÊQUE")
    PatientFactory(birth_name="DARCY", first_names="PAUL")
    log_in(page, live_server, doctor)
    page.goto(f"{live_server.url}/patients/")

    search_for(page, name="darc jeanne")
    expect_rows(page, ("D'ARC", "JEANNE"))
    shots(page, "darc-jeanne-finds-d-arc")

    search_for(page, name="lefebvre helene")
    expect_rows(page, ("LEFÈBVRE", "HÉLÈNE"))
    shots(page, "lefebvre-helene-finds-lefebvre-with-accents")

    search_for(page, name="Roux jean pierre")
    expect_rows(page, ("ROUX", "JEAN-PIERRE"))
    shots(page, "roux-jean-pierre-finds-the-hyphenated-first-name")

    search_for(page, name="martin leveque")  # the used name, without its hyphen and accents
    expect_rows(page, ("GARCÍA", "MARTIN-LÉVÊQUE"))
    shots(page, "used-name-without-hyphen-and-accents")

    search_for(page, name="Jeanne D’Arc")  # first name first, the typographic apostrophe of a word processor
    expect_rows(page, ("D'ARC", "JEANNE"))
    search_for(page, name="dar")  # a prefix of the name as written: D'ARC and DARCY
    expect_rows(page, ("D'ARC",), ("DARCY",))
    shots(page, "prefix-finds-d-arc-and-darcy")


def test_va102_birth_date_alone_or_with_initials_tells_homonyms_apart(page, live_server, doctor, care_unit):
    shots = rem_shots("INS/va1.02")
    born = date(1962, 3, 8)
    for ipp, birth_name, first_names, sex, status in (
        ("310001", "DUPONT", "HÉLÈNE MARIE", Sex.FEMALE, IdentityStatus.QUALIFIEE),
        ("310002", "DUPONT", "HELENE", Sex.FEMALE, IdentityStatus.PROVISOIRE),
        ("310003", "DUPONT", "HENRI", Sex.MALE, IdentityStatus.VALIDEE),
        ("310004", "BLANC", "LOUIS", Sex.MALE, IdentityStatus.RECUPEREE),
    ):
        ins = "2620375123456" + nir_key("2620375123456") if status == IdentityStatus.QUALIFIEE else ""
        patient = PatientFactory(
            ipp=ipp, birth_name=birth_name, first_names=first_names, sex=sex, birth_date=born,
            identity_status=status, ins=ins,
        )  # fmt: skip
        EpisodeFactory(care_unit=care_unit, patient=patient)
    PatientFactory(birth_name="DUPONT", first_names="HÉLÈNE", birth_date=date(1962, 3, 9))
    log_in(page, live_server, doctor)
    page.goto(f"{live_server.url}/patients/")

    search_for(page, birth_date=born.isoformat())
    expect_rows(
        page,
        ("BLANC", "LOUIS", "08/03/1962", "Masculin", "Identité récupérée", "310004"),
        ("DUPONT", "HELENE", "08/03/1962", "Féminin", "Identité provisoire", "310002", "doublon possible"),
        ("DUPONT", "HÉLÈNE", "08/03/1962", "Féminin", "Identité qualifiée", "310001", "doublon possible"),
        ("DUPONT", "HENRI", "08/03/1962", "Masculin", "Identité validée", "310003", " ans"),
    )
    expect(page.get_by_test_id("possible-duplicate")).to_have_count(2)  # HÉLÈNE MARIE and HELENE, same day
    shots(page, "birth-date-alone-homonyms-and-possible-duplicates")

    search_for(page, birth_date=born.isoformat(), name="du")
    expect_rows(page, ("310002",), ("310001",), ("310003",))
    shots(page, "birth-date-and-first-letters-of-the-birth-name")

    search_for(page, birth_date=born.isoformat(), name="lo")
    expect_rows(page, ("BLANC", "LOUIS"))
    shots(page, "birth-date-and-first-letters-of-the-first-name")


def test_va141_the_ins_is_searched_only_complete_with_its_key(page, live_server, doctor, care_unit):
    shots = rem_shots("INS/va1.41")
    patient = PatientFactory(
        birth_name="DUMONT", first_names="LOUISE", ins="279035121518989", identity_status=IdentityStatus.QUALIFIEE
    )
    EpisodeFactory(care_unit=care_unit, patient=patient)
    log_in(page, live_server, doctor)
    page.goto(f"{live_server.url}/patients/")

    search_for(page, ins="2790351215189")
    expect(page.get_by_test_id("search-errors")).to_contain_text("15 caractères")
    expect(page.get_by_test_id("search-result")).to_have_count(0)
    shots(page, "thirteen-characters-refused")

    search_for(page, ins="279035121518998")
    expect(page.get_by_test_id("search-errors")).to_contain_text("clé du matricule INS ne correspond pas")
    expect(page.get_by_test_id("search-result")).to_have_count(0)
    shots(page, "wrong-key-refused")

    search_for(page, ins="2 79 03 51 215 189 89")
    expect_rows(page, ("DUMONT", "LOUISE", "Identité qualifiée"))
    shots(page, "complete-ins-found")
