"""The UI shell: version on every page, header, security headers, search, care-unit switch, query counts."""

from __future__ import annotations

import pytest
from django.urls import reverse

import dpi
from tests.factories import CareUnitFactory, EpisodeFactory, MembershipFactory, PatientFactory

pytestmark = pytest.mark.django_db


def test_version_is_visible_on_the_login_page_and_inside(client, doctor):
    assert f"version {dpi.__version__}" in client.get(reverse("account_login")).content.decode()
    client.force_login(doctor)
    assert f"version {dpi.__version__}" in client.get(reverse("home")).content.decode()


def test_header_shows_user_rpps_and_current_care_unit(client, doctor, care_unit):
    client.force_login(doctor)
    page = client.get(reverse("home")).content.decode()
    assert f"RPPS {doctor.rpps}" in page
    assert care_unit.name in page


def test_pages_carry_a_strict_content_security_policy_and_no_sniffing(client):
    response = client.get(reverse("account_login"))
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy and "object-src 'none'" in policy
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "SAMEORIGIN"


def test_htmx_is_served_from_our_static_files(client):
    page = client.get(reverse("account_login")).content.decode()
    assert '<script src="/static/django_htmx/htmx' in page


def test_home_lists_patients_present_in_the_current_unit(client, doctor, care_unit):
    present = EpisodeFactory(care_unit=care_unit).patient
    EpisodeFactory(care_unit=care_unit, discharged_at="2026-01-01T10:00:00Z")
    client.force_login(doctor)
    response = client.get(reverse("home"))
    assert [e.patient for e in response.context["unit_patients"]] == [present]


def test_user_switches_current_care_unit_among_own_units_only(client, doctor, care_unit):
    second = MembershipFactory(user=doctor, role=doctor.memberships.first().role).care_unit
    foreign = CareUnitFactory()
    client.force_login(doctor)
    client.post(reverse("select_care_unit"), {"care_unit": second.pk})
    assert client.get(reverse("home")).context["current_care_unit"] == second
    assert client.post(reverse("select_care_unit"), {"care_unit": foreign.pk}).status_code == 400
    assert client.post(reverse("select_care_unit"), {"care_unit": "abc"}).status_code == 400


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [({"name": "dur"}, ["DURAND"]), ({"ipp": "777"}, ["MARTIN"]), ({"birth_date": "1980-05-04"}, ["DURAND"])],
)
def test_search_finds_patients_by_name_ipp_birth_date(client, doctor, criteria, expected):
    PatientFactory(birth_name="DURAND", birth_date="1980-05-04")
    PatientFactory(birth_name="MARTIN", ipp="777", birth_date="1970-01-01")
    client.force_login(doctor)
    response = client.get(reverse("patients:search"), criteria, HTTP_HX_REQUEST="true")
    assert [p.birth_name for p in response.context["results"]] == expected
    assert response.templates[0].name == "patients/_results.html"


def test_search_by_ins_and_invalid_ins_is_explained(client, doctor):
    patient = PatientFactory(ins="279035121518989")
    client.force_login(doctor)
    assert client.get(reverse("patients:search"), {"ins": patient.ins}).context["results"] == [patient]
    response = client.get(reverse("patients:search"), {"ins": "123"})
    assert response.context["results"] is None
    assert "15 caractères" in response.content.decode()


def test_search_marks_which_results_the_user_may_open(client, doctor, care_unit):
    mine = EpisodeFactory(care_unit=care_unit, patient=PatientFactory(birth_name="ALPHA")).patient
    EpisodeFactory(patient=PatientFactory(birth_name="ALPHB"))
    client.force_login(doctor)
    results = client.get(reverse("patients:search"), {"name": "alph"}).context["results"]
    assert {p.birth_name: p.accessible for p in results} == {"ALPHA": True, "ALPHB": False}
    assert mine in results


def test_main_pages_keep_a_fixed_number_of_queries(client, doctor, care_unit, django_assert_max_num_queries):
    for _ in range(20):
        EpisodeFactory(care_unit=care_unit, patient=PatientFactory(birth_name="NOMBRE"))
    patient = EpisodeFactory(care_unit=care_unit).patient
    for _ in range(5):
        EpisodeFactory(care_unit=care_unit, patient=patient)  # the file lists every visit: no N+1
    client.force_login(doctor)
    client.get(reverse("home"))  # the first request of a session also records it (allauth user sessions)
    with django_assert_max_num_queries(16):  # 14, and the user's and groups' permissions (the header's menus)
        client.get(reverse("home"))
    with django_assert_max_num_queries(18):  # 15, the permissions, and one insert auditing every patient shown
        client.get(reverse("patients:search"), {"name": "nombre"})
    # 26, the DMP gate's read of the consultation consent, the permissions (2), the writing rules behind the
    # "Nouveau" buttons, the INS display's own audit row and the patient's correspondents (one join)
    with django_assert_max_num_queries(32):
        client.get(reverse("patients:file", args=[patient.pk]))
