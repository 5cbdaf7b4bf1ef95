"""Information and opposition per episode of care: ZFA, defaults, history, grouping, UI and API."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from consent.models import ConsentDecision, Source, State, Subject
from consent.selectors import can_consult_dmp, can_feed_dmp, effective_consent
from consent.services import record_consent
from dpi.models import AuditEvent, Peer
from dpi.services import create_peer
from patients.models import Episode, Patient
from patients.services import link_care_episode
from tests.factories import MembershipFactory, RoleFactory
from tests.support.engine import send

pytestmark = pytest.mark.django_db

FEED, CONSULT = Subject.FEEDING, Subject.CONSULTATION


def _visit(number: str = "V100") -> Episode:
    return Episode.objects.get(visit_number=number)


@pytest.mark.parametrize(
    ("feeding", "consultation", "may_feed", "may_consult"),
    [
        ("INO", "IC", True, True),
        ("INO", "INC", True, False),
        ("IO", "INC", False, False),
        ("INO", "NA", True, False),
        ("NA", "NA", True, False),
    ],
)
def test_zfa_codes_give_the_effective_rights_of_the_visit(adt, feeding, consultation, may_feed, may_consult):
    send(adt.but(zfa=("ACTIF", feeding, consultation)))
    visit = _visit()
    assert (can_feed_dmp(visit), can_consult_dmp(visit)) == (may_feed, may_consult)


def test_zfa_decisions_are_stored_against_the_visit_with_the_message_as_source(adt):
    ack = send(adt.but(zfa=("ACTIF", "IO", "IC")))
    decision = ConsentDecision.objects.get(subject=FEED)
    assert decision.episode == _visit() and decision.source == Source.PAM and decision.message == ack.message
    assert decision.state == State.INFORMED_OPPOSED
    assert decision.collected_at.isoformat().startswith("2026-01-10T08:00")  # ZFA-10, Paris time 09:00


def test_defaults_feed_allowed_and_consultation_forbidden(adt):
    send(adt.but(zfa=None))
    visit = _visit()
    assert effective_consent(visit, FEED).state == State.NOT_INFORMED
    assert can_feed_dmp(visit) and not can_consult_dmp(visit)


def test_not_collected_never_overwrites_a_choice(adt):
    send(adt.but(zfa=("ACTIF", "IO", "IC")))
    send(adt.but(trigger="A02", control_id="2", movement_id="M2", zfa=("ACTIF", "NA", "NA")))
    assert not can_feed_dmp(_visit()) and can_consult_dmp(_visit())


def test_patient_changes_mind_and_the_history_keeps_every_choice(adt):
    send(adt.but(zfa=("ACTIF", "INO", "IC")))
    send(adt.but(trigger="Z99", control_id="2", action="UPDATE", zfa=("ACTIF", "IO", "IC"), zfa_at="20260111090000"))
    visit = _visit()
    assert not can_feed_dmp(visit)
    assert list(visit.consent_decisions.filter(subject=FEED).values_list("state", flat=True)) == [
        State.INFORMED_OPPOSED,
        State.INFORMED_NOT_OPPOSED,
    ]


def test_same_state_repeated_by_the_feed_is_not_recorded_twice(adt):
    send(adt)
    send(adt.but(trigger="A02", control_id="2", movement_id="M2"))
    assert _visit().consent_decisions.count() == 2


def test_consent_on_a_message_without_visit_is_ignored_with_a_note(adt):
    ack = send(adt.but(trigger="A31", visit=None, zfa=("ACTIF", "IO", "IC")))
    assert ack.code == "AA" and "ZFA" in ack.message.note
    assert not ConsentDecision.objects.exists()


def test_dmp_status_of_zfa1_is_stored_on_the_patient(adt):
    send(adt.but(zfa=("FERME", "INO", "IC")))
    assert Patient.objects.get().dmp_status == "FERME"


def test_visits_sharing_the_nda_share_the_choice(adt):
    send(adt.but(zfa=("ACTIF", "IO", "INC")))
    send(adt.but(trigger="A04", control_id="2", visit="V101", movement_id="M5", patient_class="O", zfa=None))
    follow_up = _visit("V101")
    assert not can_feed_dmp(follow_up)
    assert "venue V100" in effective_consent(follow_up, FEED).source_label


def test_follow_up_consultation_shortly_after_discharge_carries_the_choice(adt):
    send(adt.but(zfa=("ACTIF", "IO", "IC"), discharged_at="20260115120000"))
    send(adt.but(trigger="A04", control_id="2", visit="V102", nda="NDA102", movement_id="M6", patient_class="O",
                 admitted_at="20260201090000", movement_at="20260201090000", zfa=None))  # fmt: skip
    assert not can_feed_dmp(_visit("V102"))


def test_consultation_long_after_is_a_new_episode_of_care(adt, settings):
    settings.CARE_EPISODE_FOLLOW_UP_DAYS = 30
    send(adt.but(zfa=("ACTIF", "IO", "IC"), discharged_at="20260115120000"))
    send(adt.but(trigger="A04", control_id="2", visit="V103", nda="NDA103", movement_id="M7", patient_class="O",
                 admitted_at="20260601090000", movement_at="20260601090000", zfa=None))  # fmt: skip
    assert can_feed_dmp(_visit("V103"))


def test_manual_same_episode_link_carries_the_choice_and_unlink_separates(adt, doctor):
    send(adt.but(zfa=("ACTIF", "IO", "IC")))
    send(adt.but(trigger="A01", control_id="2", visit="V104", nda="NDA104", movement_id="M8",
                 admitted_at="20270101090000", movement_at="20270101090000", zfa=None))  # fmt: skip
    later = _visit("V104")
    assert can_feed_dmp(later)
    link_care_episode(episode=later, same_as=_visit(), acting_user=doctor)
    assert not can_feed_dmp(later)
    link_care_episode(episode=later, same_as=None, acting_user=doctor)
    assert can_feed_dmp(later)


def test_choice_recorded_in_the_ui_applies_to_the_whole_team_and_is_audited(adt, structure):
    send(adt)
    nurse = MembershipFactory(care_unit=structure["UF01"], role=RoleFactory(code="ide", label="IDE")).user
    decision = record_consent(
        episode=_visit(), subject=CONSULT, state=State.INFORMED_OPPOSED, source=Source.UI, acting_user=nurse
    )
    assert decision.actor_rpps == nurse.rpps
    assert not can_consult_dmp(_visit())
    assert "RPPS" in effective_consent(_visit(), CONSULT).source_label
    assert AuditEvent.objects.filter(action=AuditEvent.Action.CONSENT_CHANGE, actor=nurse).exists()


def test_no_field_can_hold_the_legitimate_reason():
    names = {f.name for f in ConsentDecision._meta.get_fields()}
    assert not names & {"reason", "motif", "comment", "note"}


@pytest.fixture
def unit_doctor(structure):
    return MembershipFactory(care_unit=structure["UF01"], role=RoleFactory()).user


def test_one_click_records_informed_and_no_opposition_for_both_subjects(client, adt, unit_doctor):
    send(adt.but(zfa=None))
    client.force_login(unit_doctor)
    patient = Patient.objects.get()
    response = client.post(
        reverse("consent:record", args=[patient.pk]),
        {"subject": "both", "state": "informed_not_opposed"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert can_consult_dmp(_visit()) and can_feed_dmp(_visit())
    assert 'hx-swap-oob="true"' in response.content.decode()  # the banner icons are refreshed too


def test_recording_needs_a_habilitation(client, adt, doctor):
    send(adt)
    client.force_login(doctor)  # member of another unit
    response = client.post(
        reverse("consent:record", args=[Patient.objects.get().pk]), {"subject": CONSULT, "state": "informed_opposed"}
    )
    assert response.status_code == 403


def test_file_banner_shows_identity_status_and_both_consent_icons(client, adt, unit_doctor):
    send(adt.but(zfa=("ACTIF", "INO", "INC")))
    client.force_login(unit_doctor)
    page = client.get(reverse("patients:file", args=[Patient.objects.get().pk])).content.decode()
    assert "Identité qualifiée" in page
    assert 'data-testid="icon-dmp-feeding"' in page and "Alimentation : autorisée" in page
    assert "Consultation : opposition" in page


def test_api_lists_visits_with_their_effective_rights(client, adt):
    send(adt.but(zfa=("ACTIF", "IO", "IC")))
    _peer, token = create_peer(name="sih", scopes=[Peer.Scope.PATIENTS_READ])
    response = client.get("/api/episodes/", {"visit_number": "V100"}, HTTP_AUTHORIZATION=f"Token {token}")
    row = response.json()["results"][0]
    assert row["visit_number"] == "V100" and row["finess_eg"] == "020000001" and row["care_unit"] == "UF01"
    assert row["dmp_feeding"]["state"] == "informed_opposed" and row["dmp_feeding"]["allowed"] is False
    assert row["dmp_consultation"] == {
        "state": "informed_not_opposed",
        "allowed": True,
        "source": row["dmp_consultation"]["source"],
    }
    assert "flux PAM" in row["dmp_consultation"]["source"]


def test_api_peer_records_a_consent_with_the_consent_scope_only(client, adt):
    send(adt.but(zfa=None))
    visit = _visit()
    _p, read_token = create_peer(name="lecteur", scopes=[Peer.Scope.PATIENTS_READ])
    _p, write_token = create_peer(name="admission", scopes=[Peer.Scope.CONSENT_WRITE])
    url = f"/api/episodes/{visit.pk}/consent/"
    body = {"subject": "dmp_consultation", "state": "informed_not_opposed"}
    assert client.post(url, body, HTTP_AUTHORIZATION=f"Token {read_token}").status_code == 403
    response = client.post(url, body, HTTP_AUTHORIZATION=f"Token {write_token}")
    assert response.status_code == 201, response.content
    assert can_consult_dmp(visit)
    assert ConsentDecision.objects.get().peer == "admission"
    bad = client.post(url, {"subject": "dmp_consultation", "state": "maybe"}, HTTP_AUTHORIZATION=f"Token {write_token}")
    assert bad.status_code == 400


def test_api_lists_only_habilitated_visits_for_users(client, adt, doctor):
    send(adt)
    client.force_login(doctor)
    assert client.get("/api/episodes/").json()["results"] == []


def test_api_episode_list_query_count_does_not_grow_with_visits(client, adt, django_assert_max_num_queries):
    for number in range(5):
        send(adt.but(control_id=str(number), visit=f"V2{number}", nda=f"N{number}", movement_id=f"M{number}"))
    _peer, token = create_peer(name="sih", scopes=[Peer.Scope.PATIENTS_READ])
    with django_assert_max_num_queries(6):
        response = client.get("/api/episodes/", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200 and len(response.json()["results"]) == 5


def test_the_source_line_says_paris_time_and_names_a_choice_recorded_without_a_person(adt):
    send(adt)
    winter = datetime(2026, 12, 1, 23, 37, tzinfo=UTC)  # 00:37 in Paris, the next day
    record_consent(
        episode=_visit(), subject=CONSULT, state=State.INFORMED_OPPOSED, source=Source.UI, collected_at=winter
    )

    label = effective_consent(_visit(), CONSULT).source_label

    assert label.startswith("saisie dans le DPI, venue V100")
    assert label.endswith("le 02/12/2026 00:37")
