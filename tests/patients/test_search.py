"""Finding the right patient in the search page (REM INS/va1.25, va1.02, va1.41): names compared without
accents, apostrophes, hyphens or case; birth date alone or with initials; INS only complete with its key;
results that tell homonyms apart and mark possible duplicates."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dpi.validators import nir_key
from patients.models import IdentityStatus, Sex
from patients.selectors import search_patients
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

# (birth name, first names) stored, then what a user types for it.
SPELLINGS = [
    (("MARTIN", "ANDRÉ"), ["martin andré", "MARTIN ANDRE", "andre", "André Martin", "mart and"]),
    (("LEFÈBVRE", "PAUL"), ["Lefèbvre", "lefebvre", "LEFEBVRE PAUL", "lefè"]),
    (("LEFEBVRE", "LUC"), ["Lefèbvre luc", "LEFÉBVRE"]),
    (("GARCÍA", "LUCIA"), ["GARCÍA", "garcia", "Garcia Lucía", "garc"]),
    (("DUPUIS", "HÉLÈNE"), ["Hélène", "helene", "HELENE DUPUIS", "dupuis hélè"]),
    (("D'ARC", "JEANNE"), ["D'ARC", "d'arc", "darc", "D ARC", "d’arc jeanne", "Jeanne d'Arc", "DAR"]),
    (("ROUX", "JEAN-PIERRE"), ["JEAN-PIERRE", "jean pierre", "Jeanpierre", "roux jean-pierre", "ROUX JEAN P"]),
    (("LE GOFF", "MARIE"), ["le goff", "LEGOFF marie", "Le-Goff", "le g"]),
]
CASES = [(stored, typed) for stored, spellings in SPELLINGS for typed in spellings]


def search(client, doctor, **criteria):
    client.force_login(doctor)
    return client.get(reverse("patients:search"), criteria, HTTP_HX_REQUEST="true")


@pytest.mark.parametrize(("stored", "typed"), CASES, ids=[typed for _stored, typed in CASES])
def test_name_search_ignores_accents_apostrophes_hyphens_and_case(client, doctor, stored, typed):
    birth_name, first_names = stored
    wanted = PatientFactory(birth_name=birth_name, first_names=first_names)
    PatientFactory(birth_name="BERNARD", first_names="CLAIRE")  # matches none of the spellings
    results = search(client, doctor, name=typed).context["results"]
    assert wanted in results
    assert all(patient.birth_name != "BERNARD" for patient in results)


def test_the_used_name_is_searched_like_the_birth_name(client, doctor):
    wanted = PatientFactory(birth_name="DURAND", used_name="LÉVÊQUE-D'ORMESSON", first_names="CLAIRE")
    assert search(client, doctor, name="leveque dormesson claire").context["results"] == [wanted]


def test_a_name_search_matches_from_the_start_of_a_name_only(client, doctor):
    PatientFactory(birth_name="DUPONT", first_names="MARIE")
    assert search(client, doctor, name="pont").context["results"] == []
    assert search(client, doctor, name="'-").context["results"] == []


def test_birth_date_alone_finds_every_identity_born_that_day(client, doctor):
    born = [PatientFactory(birth_name=name, birth_date=date(1980, 5, 4)) for name in ("ZOLA", "ABEL")]
    PatientFactory(birth_name="ABEL", birth_date=date(1980, 5, 5))
    results = search(client, doctor, birth_date="1980-05-04").context["results"]
    assert results == [born[1], born[0]]  # by birth name


def test_birth_date_with_the_first_letters_of_the_birth_name_or_first_name(client, doctor):
    durand = PatientFactory(birth_name="DURAND", first_names="MARIE", birth_date=date(1980, 5, 4))
    dupont = PatientFactory(birth_name="DUPONT", first_names="LUC", birth_date=date(1980, 5, 4))
    PatientFactory(birth_name="LEROY", first_names="DENISE", birth_date=date(1980, 5, 4))
    PatientFactory(birth_name="DURAND", first_names="MARIE", birth_date=date(1981, 5, 4))
    assert search(client, doctor, birth_date="1980-05-04", name="du").context["results"] == [dupont, durand]
    assert search(client, doctor, birth_date="1980-05-04", name="lu").context["results"] == [dupont]
    assert search(client, doctor, birth_date="1980-05-04", name="m").context["results"] == [durand]


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("279035121518900", "La clé du matricule INS ne correspond pas"),  # 15 characters, wrong key
        ("2790351215189", "15 caractères"),  # no key
        ("27903512151898", "15 caractères"),  # half a key
        ("2790351215189890", "15 caractères"),
        ("2790351215A8989", "15 caractères"),
    ],
)
def test_an_incomplete_ins_or_one_whose_key_is_wrong_is_refused_and_nothing_is_searched(client, doctor, typed, error):
    PatientFactory(ins="279035121518989")
    response = search(client, doctor, ins=typed)
    assert response.context["results"] is None
    assert error in response.content.decode()
    assert 'data-testid="search-errors"' in response.content.decode()


@pytest.mark.parametrize("typed", ["279035121518989", "2 79 03 51 215 189 89", " 279035121518989 "])
def test_a_complete_ins_with_its_key_finds_its_patient_even_typed_with_spaces(client, doctor, typed):
    wanted = PatientFactory(ins="279035121518989", identity_status=IdentityStatus.QUALIFIEE)
    PatientFactory(ins="")
    assert search(client, doctor, ins=typed).context["results"] == [wanted]


def test_an_ins_born_in_corsica_is_checked_with_its_department_2a(client, doctor):
    ins = "185052A004012" + nir_key("185052A004012")
    wanted = PatientFactory(ins=ins)
    assert search(client, doctor, ins=ins.lower()).context["results"] == [wanted]


def test_identities_sharing_birth_name_first_name_and_birth_date_are_marked_as_possible_duplicates(client, doctor):
    born = date(1975, 2, 14)
    first = PatientFactory(birth_name="DUPONT", first_names="HÉLÈNE MARIE", birth_date=born, ipp="100001")
    second = PatientFactory(birth_name="Dupont", first_names="HELENE", birth_date=born, ipp="100002")
    other_day = PatientFactory(birth_name="DUPONT", first_names="HELENE", birth_date=date(1975, 2, 15))
    other_first_name = PatientFactory(birth_name="DUPONT", first_names="MARIE HELENE", birth_date=born)
    results = search(client, doctor, name="dupont").context["results"]
    marked = {patient.pk: patient.possible_duplicate for patient in results}
    assert marked == {first.pk: True, second.pk: True, other_day.pk: False, other_first_name.pk: False}
    page = search(client, doctor, name="dupont").content.decode()
    assert page.count('data-testid="possible-duplicate"') == 2


def test_an_identity_merged_into_another_is_no_longer_a_possible_duplicate(client, doctor):
    born = date(1975, 2, 14)
    survivor = PatientFactory(birth_name="DUPONT", first_names="HELENE", birth_date=born)
    PatientFactory(birth_name="DUPONT", first_names="HELENE", birth_date=born, merged_into=survivor)
    assert [(p, p.possible_duplicate) for p in search(client, doctor, name="dupont").context["results"]] == [
        (survivor, False)
    ]


def test_results_show_the_traits_that_tell_homonyms_apart(client, doctor):
    born = timezone.localdate().replace(year=timezone.localdate().year - 42) - timedelta(days=1)
    PatientFactory(
        birth_name="DUPONT",
        first_names="HÉLÈNE MARIE",
        used_name="MARTIN",
        used_first_name="LENA",
        birth_date=born,
        sex=Sex.FEMALE,
        ipp="100001",
        identity_status=IdentityStatus.VALIDEE,
    )
    page = search(client, doctor, name="dupont").content.decode()
    for shown in (
        "DUPONT",  # birth name
        "HÉLÈNE",  # first birth first name
        born.strftime("%d/%m/%Y"),
        "42 ans",
        "Féminin",
        "Identité validée",
        "100001",
        "MARTIN LENA",  # used name and first name, in their own column
    ):
        assert shown in page, shown
    assert "HÉLÈNE MARIE" not in page  # the first birth first name, not the whole list


@pytest.mark.parametrize(
    ("born_days_ago", "label"), [(3, "3 jours"), (1, "1 jour"), (70, "2 mois"), (400, "1 an"), (3000, "8 ans")]
)
def test_the_age_is_said_as_a_clinician_says_it(born_days_ago, label):
    patient = PatientFactory.build(birth_date=timezone.localdate() - timedelta(days=born_days_ago))
    assert patient.age_label == label


def test_the_search_selector_is_the_one_the_page_uses_and_skips_merged_identities():
    survivor = PatientFactory(birth_name="GARCÍA")
    PatientFactory(birth_name="GARCIA", merged_into=survivor)
    assert list(search_patients(name="garcia")) == [survivor]
