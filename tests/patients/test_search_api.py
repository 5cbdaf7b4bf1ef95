"""The REST identity search (GET /api/patients/) finds patients as the search page does: names as keys,
birth date with initials, INS only complete with its key (400 otherwise), possible duplicates marked."""

from __future__ import annotations

from datetime import date

import pytest

from dpi.models import Peer
from dpi.services import create_peer
from tests.factories import EpisodeFactory, PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def peer_headers() -> dict[str, str]:
    _peer, token = create_peer(name="gam", scopes=[Peer.Scope.PATIENTS_READ])
    return {"HTTP_AUTHORIZATION": f"Token {token}"}


def found(client, headers, **params) -> list[str]:
    response = client.get("/api/patients/", params, **headers)
    assert response.status_code == 200, response.content
    return [row["ipp"] for row in response.json()["results"]]


@pytest.mark.parametrize(
    ("birth_name", "first_names", "typed"),
    [
        ("MARTIN", "ANDRÉ", "martin andre"),
        ("LEFÈBVRE", "PAUL", "lefebvre"),
        ("GARCÍA", "LUCIA", "Garcia"),
        ("DUPUIS", "HÉLÈNE", "helene dupuis"),
        ("D'ARC", "JEANNE", "darc"),
        ("ROUX", "JEAN-PIERRE", "roux jean pierre"),
    ],
)
def test_api_name_search_ignores_accents_apostrophes_hyphens_and_case(
    client, peer_headers, birth_name, first_names, typed
):
    PatientFactory(birth_name=birth_name, first_names=first_names, ipp="WANTED")
    PatientFactory(birth_name="BERNARD", first_names="CLAIRE", ipp="OTHER")
    assert found(client, peer_headers, name=typed) == ["WANTED"]


def test_api_birth_date_alone_or_with_initials(client, peer_headers):
    PatientFactory(birth_name="DURAND", first_names="MARIE", birth_date=date(1980, 5, 4), ipp="DURAND")
    PatientFactory(birth_name="DUPONT", first_names="LUC", birth_date=date(1980, 5, 4), ipp="DUPONT")
    PatientFactory(birth_name="DURAND", first_names="MARIE", birth_date=date(1981, 5, 4), ipp="OTHER")
    assert found(client, peer_headers, birth_date="1980-05-04") == ["DUPONT", "DURAND"]
    assert found(client, peer_headers, birth_date="1980-05-04", name="lu") == ["DUPONT"]


def test_api_ins_with_a_wrong_key_or_incomplete_is_a_clear_400(client, peer_headers):
    PatientFactory(ins="279035121518989")
    wrong_key = client.get("/api/patients/", {"ins": "279035121518900"}, **peer_headers)
    assert wrong_key.status_code == 400
    assert "clé du matricule INS ne correspond pas" in wrong_key.json()["ins"][0]
    short = client.get("/api/patients/", {"ins": "2790351215189"}, **peer_headers)
    assert short.status_code == 400 and "15 caractères" in short.json()["ins"][0]


def test_api_complete_ins_with_its_key_finds_its_patient(client, peer_headers):
    PatientFactory(ins="279035121518989", ipp="WANTED")
    PatientFactory(ipp="OTHER")
    assert found(client, peer_headers, ins="2 79 03 51 215 189 89") == ["WANTED"]


def test_api_marks_possible_duplicates(client, peer_headers):
    PatientFactory(birth_name="DUPONT", first_names="HÉLÈNE", birth_date=date(1975, 2, 14), ipp="A")
    PatientFactory(birth_name="DUPONT", first_names="HELENE MARIE", birth_date=date(1975, 2, 14), ipp="B")
    PatientFactory(birth_name="DUPONT", first_names="HELENE", birth_date=date(1975, 2, 15), ipp="C")
    rows = client.get("/api/patients/", {"name": "dupont"}, **peer_headers).json()["results"]
    assert {row["ipp"]: row["possible_duplicate"] for row in rows} == {"A": True, "B": True, "C": False}


def test_api_user_search_stays_within_the_users_patients(client, doctor, care_unit):
    EpisodeFactory(care_unit=care_unit, patient=PatientFactory(birth_name="LEFÈVRE", ipp="MINE"))
    EpisodeFactory(patient=PatientFactory(birth_name="LEFEVRE", ipp="NOT-MINE"))
    client.force_login(doctor)
    assert found(client, {}, name="lefevre") == ["MINE"]
