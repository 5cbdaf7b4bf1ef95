"""REST API: peer tokens and scopes, users limited by the habilitation selector, OpenAPI schema."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dpi.models import AuditEvent, Peer
from dpi.services import create_peer
from tests.factories import EpisodeFactory, PatientFactory

pytestmark = pytest.mark.django_db


def _peer_headers(scopes: list[str]) -> dict[str, str]:
    _peer, token = create_peer(name="gam", scopes=scopes)
    return {"HTTP_AUTHORIZATION": f"Token {token}"}


def test_peer_with_patients_scope_searches_by_ins(client):
    wanted = PatientFactory(ins="279035121518989", ins_oid="1.2.250.1.213.1.4.10")
    PatientFactory()
    response = client.get("/api/patients/", {"ins": wanted.ins}, **_peer_headers([Peer.Scope.PATIENTS_READ]))
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [wanted.pk]
    assert response.json()["results"][0]["identity_status"] == "provisoire"


def test_peer_without_the_scope_is_forbidden(client):
    response = client.get("/api/patients/", **_peer_headers([Peer.Scope.DOCUMENTS_READ]))
    assert response.status_code == 403


def test_unknown_or_revoked_token_is_rejected(client):
    headers = _peer_headers([Peer.Scope.PATIENTS_READ])
    assert client.get("/api/patients/", HTTP_AUTHORIZATION="Token nope").status_code == 401
    Peer.objects.update(active=False)
    assert client.get("/api/patients/", **headers).status_code == 401


def test_anonymous_call_is_rejected(client):
    assert client.get("/api/patients/").status_code in (401, 403)


def test_user_session_sees_only_patients_of_own_care_units(client, doctor, care_unit):
    mine = EpisodeFactory(care_unit=care_unit).patient
    EpisodeFactory()
    client.force_login(doctor)
    response = client.get("/api/patients/")
    assert [row["id"] for row in response.json()["results"]] == [mine.pk]


def test_user_cannot_read_a_patient_outside_own_units_by_id(client, doctor):
    other = EpisodeFactory().patient
    client.force_login(doctor)
    assert client.get(f"/api/patients/{other.pk}/").status_code == 404


def test_reading_one_patient_through_the_api_is_audited_with_the_peer(client):
    patient = PatientFactory()
    headers = _peer_headers([Peer.Scope.PATIENTS_READ])
    assert client.get(f"/api/patients/{patient.pk}/", **headers).status_code == 200
    event = AuditEvent.objects.get(action=AuditEvent.Action.PATIENT_OPEN)
    assert (event.peer, event.patient_id, event.actor) == ("gam", patient.pk, None)


def test_bad_birth_date_filter_is_a_clear_400(client):
    headers = _peer_headers([Peer.Scope.PATIENTS_READ])
    response = client.get("/api/patients/", {"birth_date": "31/02/1999"}, **headers)
    assert response.status_code == 400


def test_openapi_schema_and_docs_are_served(client, doctor):
    client.force_login(doctor)
    schema = client.get(reverse("api-schema"))
    assert schema.status_code == 200
    assert b"/api/patients/" in schema.content
    assert client.get(reverse("api-docs")).status_code == 200


def test_create_peer_command_prints_a_working_token(client, capsys):
    call_command("create_peer", "sih-labo", "--scope", Peer.Scope.PATIENTS_READ)
    token = capsys.readouterr().out.strip()
    assert client.get("/api/patients/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200
    peer = Peer.objects.get(name="sih-labo")
    assert peer.token_hash != token and peer.last_used_at is not None


def _queries_of(client, url: str) -> int:
    client.get(url)  # warm: the session and permission caches
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_patient_list_costs_the_same_queries_for_5_or_25_patients(client, care_unit, doctor):
    """A fixed number of queries (issue 18 §4): the page, its count, the listed patients' audit rows in one
    insert; never one query per patient."""
    client.force_login(doctor)
    EpisodeFactory.create_batch(5, care_unit=care_unit)
    few = _queries_of(client, "/api/patients/")
    EpisodeFactory.create_batch(20, care_unit=care_unit)

    assert _queries_of(client, "/api/patients/") == few
