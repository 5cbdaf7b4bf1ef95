"""Ids and numbers typed by hand or by a fuzzer: ``²``, Arabic-Indic digits, numbers past bigint are refused
like any other wrong id (404 or ignored), never a server error (``str.isdigit`` accepts ``²``)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dpi.validators import is_database_id, luhn_valid
from tests.factories import EpisodeFactory

pytestmark = pytest.mark.django_db

ODD = ["²", "٣", "12³", "9" * 30]


@pytest.mark.parametrize("value", ODD)
def test_odd_digits_and_numbers_past_bigint_are_not_ids(value):
    assert not is_database_id(value)


@pytest.mark.parametrize("value", ["²", "٣", "12³"])
def test_odd_digits_are_not_luhn_numbers_instead_of_a_crash(value):
    assert not luhn_valid(value)


@pytest.mark.parametrize("value", ODD)
def test_odd_ids_in_pages_and_api_calls_never_give_a_server_error(client, doctor, care_unit, value):
    patient = EpisodeFactory(care_unit=care_unit).patient
    assert client.get(f"/api/patients/{value}/").status_code in (401, 403, 404)  # anonymous: refused, audited
    client.force_login(doctor)
    answers = [
        client.get(f"/api/patients/{value}/"),
        client.get(reverse("mss:traces"), {"patient": value}),
        client.get(reverse("documents:list", args=[patient.pk]), {"shown": value}),
        client.post(reverse("select_care_unit"), {"care_unit": value}),
    ]
    assert all(answer.status_code < 500 for answer in answers), [answer.status_code for answer in answers]
