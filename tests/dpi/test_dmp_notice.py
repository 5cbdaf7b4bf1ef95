"""REM SC.DMP/CONF.11: users are told how their national identifier is used, and acknowledge it once per version."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dpi.codes import NationalIdType
from dpi.models import AuditEvent, NoticeAcknowledgement, Peer
from dpi.services import acknowledge_notice, create_peer
from sandbox.demo import DEMO_PASSWORD, load_demo
from sandbox.demo import current_totp_code as demo_totp_code
from tests.factories import PASSWORD, MembershipFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

NOTICE = "/information/"  # reverse("notice")


def _log_in(client, user, password: str = PASSWORD):
    """Password then TOTP, as at the login page; returns the response of the second step."""
    client.post(reverse("account_login"), {"login": user.username, "password": password})
    return client.post(reverse("mfa_authenticate"), {"code": demo_totp_code(user)})


@pytest.fixture
def newcomer(care_unit):
    """A physician of ``care_unit`` who has never acknowledged the notice (first login after the update)."""
    return MembershipFactory(care_unit=care_unit, user=UserFactory(notice_acknowledged=False)).user


def test_login_page_shows_the_notice_before_signing_in(client):
    page = client.get(reverse("account_login")).content.decode()
    assert 'data-testid="dmp-notice"' in page
    for words in (
        "RPPS",
        "ADELI",
        "chaque requête",
        "Mon espace santé",
        "VIHF",
        "Contrôle d'accès",
        "matrice d'habilitations",
        "blocage",
        "Traçabilité nationale",
        "qui a consulté",
        "authentification forte",
        "tous les utilisateurs du DPI",
        NoticeAcknowledgement.CURRENT,
    ):
        assert words in page, words


def test_after_password_and_second_factor_the_user_is_sent_to_the_notice(client, newcomer):
    assert _log_in(client, newcomer).url == reverse("home")
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url == f"{NOTICE}?next=%2F"
    page = client.get(response.url)
    assert page.status_code == 200
    assert 'data-testid="dmp-notice"' in page.content.decode()
    assert f"RPPS {newcomer.rpps}" in page.content.decode()
    assert "J&#x27;ai pris connaissance" in page.content.decode()
    assert client.get(reverse("patients:search")).url.startswith(NOTICE)  # every page, not only home


def test_unchecked_box_is_refused_with_an_error_and_nothing_is_recorded(client, newcomer):
    client.force_login(newcomer)
    response = client.post(NOTICE, {"notice": NoticeAcknowledgement.CURRENT, "next": "/"})
    assert response.status_code == 200
    assert 'data-testid="notice-errors"' in response.content.decode()
    assert "obligatoire" in response.content.decode()
    assert not NoticeAcknowledgement.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.NOTICE_ACK).exists()
    assert client.get(reverse("home")).url.startswith(NOTICE)


def test_checked_box_is_recorded_once_with_its_audit_row_then_the_user_reaches_the_page_asked(client, newcomer):
    patient = PatientFactory()
    client.force_login(newcomer)
    wanted = reverse("patients:file", args=[patient.pk])
    assert client.get(wanted).url == f"{NOTICE}?next=%2Fpatients%2F{patient.pk}%2F"

    form = {"notice": NoticeAcknowledgement.CURRENT, "acknowledged": "on", "next": wanted}
    response = client.post(NOTICE, form, REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 302 and response.url == wanted
    assert client.post(NOTICE, form).url == wanted  # a double click or a second tab: nothing more

    acknowledgement = NoticeAcknowledgement.objects.get()
    assert (acknowledgement.user, acknowledgement.notice) == (newcomer, NoticeAcknowledgement.CURRENT)
    assert acknowledgement.ip_address == "10.1.2.3"
    event = AuditEvent.objects.get(action=AuditEvent.Action.NOTICE_ACK)
    assert (event.actor, event.actor_rpps, event.ip_address) == (newcomer, newcomer.rpps, "10.1.2.3")
    assert event.detail == {"notice": NoticeAcknowledgement.CURRENT}
    assert event.object_id == str(acknowledgement.pk)
    assert client.get(reverse("home")).status_code == 200


def test_next_outside_the_site_is_replaced_by_home(client, newcomer):
    client.force_login(newcomer)
    form = {"notice": NoticeAcknowledgement.CURRENT, "acknowledged": "on", "next": "https://evil.example/"}
    assert client.post(NOTICE, form).url == reverse("home")


def test_a_stale_form_does_not_acknowledge_a_text_the_user_was_not_shown(client, newcomer):
    client.force_login(newcomer)
    response = client.post(NOTICE, {"notice": "dmp-rpps-2000-01", "acknowledged": "on"})
    assert response.status_code == 200
    assert "mise à jour" in response.content.decode()
    assert not NoticeAcknowledgement.objects.exists()


def test_a_user_who_acknowledged_is_never_asked_again(client, newcomer):
    _log_in(client, newcomer)
    client.post(NOTICE, {"notice": NoticeAcknowledgement.CURRENT, "acknowledged": "on"})
    client.post(reverse("account_logout"))
    other_browser = Client()
    other_browser.force_login(newcomer)  # a new session (a TOTP code is single-use: no second real login now)
    assert other_browser.get(reverse("home")).status_code == 200
    assert other_browser.get(reverse("patients:search")).status_code == 200


def test_once_acknowledged_the_session_remembers_it_without_a_query(client, doctor):
    client.force_login(doctor)
    client.get(reverse("home"))
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("home")).status_code == 200
    assert not [query for query in queries if "dpi_noticeacknowledgement" in query["sql"]]


def test_changing_the_version_asks_everyone_again(client, doctor, monkeypatch):
    first = NoticeAcknowledgement.CURRENT
    client.force_login(doctor)
    assert client.get(reverse("home")).status_code == 200  # acknowledged the current version, remembered

    monkeypatch.setattr(NoticeAcknowledgement, "CURRENT", "dmp-rpps-2099-01")
    assert client.get(reverse("home")).url == f"{NOTICE}?next=%2F"
    assert "dmp-rpps-2099-01" in client.get(NOTICE).content.decode()
    client.post(NOTICE, {"notice": "dmp-rpps-2099-01", "acknowledged": "on"})
    assert client.get(reverse("home")).status_code == 200
    assert list(doctor.notice_acknowledgements.order_by("id").values_list("notice", flat=True)) == [
        first,
        "dmp-rpps-2099-01",
    ]


def test_htmx_requests_are_sent_to_the_notice_as_a_whole_page_not_inside_a_fragment(client, newcomer):
    client.force_login(newcomer)
    response = client.get(
        reverse("patients:search"),
        {"name": "dup"},
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/patients/?name=dup"},
    )
    assert response.status_code == 403
    assert response["HX-Redirect"] == f"{NOTICE}?next=%2Fpatients%2F%3Fname%3Ddup"
    assert response.content == b""


def test_background_polls_are_refused_without_redirect_and_do_not_restart_the_idle_clock(client, newcomer):
    client.force_login(newcomer)
    client.get(NOTICE)
    before = Session.objects.get(session_key=client.session.session_key).expire_date
    poll = client.get(reverse("mss:badge"), headers={"HX-Request": "true", "X-DPI-Background": "1"})
    assert poll.status_code == 403
    assert "HX-Redirect" not in poll
    assert Session.objects.get(session_key=client.session.session_key).expire_date == before


def test_a_form_posted_before_acknowledging_comes_back_to_its_page(client, newcomer):
    client.force_login(newcomer)
    response = client.post(reverse("select_care_unit"), {"care_unit": "1"}, headers={"Referer": "http://testserver/"})
    assert response.url == f"{NOTICE}?next=%2F"


def test_api_calls_with_a_peer_token_are_not_concerned(client):
    _peer, token = create_peer(name="gam", scopes=[Peer.Scope.PATIENTS_READ])
    assert client.get("/api/patients/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200


def test_api_calls_of_a_browser_session_wait_for_the_acknowledgement(client, newcomer):
    client.force_login(newcomer)
    response = client.get("/api/patients/")
    assert response.status_code == 403
    assert "Information obligatoire" in response.json()["detail"]


def test_logout_second_factor_pages_and_static_files_stay_reachable(client, newcomer):
    client.force_login(newcomer)
    assert client.get(reverse("mfa_index")).status_code == 200
    assert client.get(reverse("usersessions_list")).status_code == 200
    assert client.get("/static/css/app.css").status_code != 302
    assert client.post(reverse("account_logout")).status_code == 302
    assert client.get(reverse("home")).url.startswith(reverse("account_login"))


def test_a_user_without_second_factor_sets_it_up_before_the_notice(client):
    user = UserFactory(totp=False, notice_acknowledged=False)
    client.force_login(user)
    assert client.get(reverse("home")).url == reverse("mfa_activate_totp")
    assert client.get(NOTICE).url == reverse("mfa_activate_totp")


def test_users_without_a_national_identifier_are_told_too(client):
    clerk = UserFactory(
        national_id_type=NationalIdType.NONE, rpps=None, profession="", is_staff=True, notice_acknowledged=False
    )
    client.force_login(clerk)
    assert client.get(reverse("admin:index")).url == f"{NOTICE}?next=%2Fadmin%2F"
    page = client.get(NOTICE).content.decode()
    assert "Votre compte n'a pas d'identifiant national" in page
    assert 'data-testid="dmp-notice"' in page


def test_the_notice_can_be_reread_after_acknowledging(client, doctor):
    client.force_login(doctor)
    page = client.get(NOTICE, {"next": "/patients/"}).content.decode()
    assert "Vous avez pris connaissance de cette information le" in page
    assert 'name="acknowledged"' not in page
    assert 'href="/patients/"' in page


def test_acknowledgements_are_read_only_in_the_admin(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    acknowledge_notice(acting_user=UserFactory(notice_acknowledged=False), notice=NoticeAcknowledgement.CURRENT)
    client.force_login(admin)
    changelist = client.get(reverse("admin:dpi_noticeacknowledgement_changelist"))
    assert changelist.status_code == 200
    assert NoticeAcknowledgement.CURRENT in changelist.content.decode()
    assert client.get(reverse("admin:dpi_noticeacknowledgement_add")).status_code == 403


def test_demo_users_see_the_notice_at_their_first_login_only(client):
    users = {user.username: user for user in load_demo()}
    martin = users["dr.martin"]
    assert not NoticeAcknowledgement.objects.filter(user__in=users.values()).exists()
    _log_in(client, martin, DEMO_PASSWORD)
    assert client.get(reverse("home")).url.startswith(NOTICE)
    assert client.post(NOTICE, {"notice": NoticeAcknowledgement.CURRENT, "acknowledged": "on"}).url == reverse("home")
    client.post(reverse("account_logout"))
    load_demo()  # reloading the demo keeps what users acknowledged
    next_day = Client()
    martin.refresh_from_db()  # reloading the demo set the password again: a fresh session needs its new hash
    next_day.force_login(martin)
    assert next_day.get(reverse("home")).status_code == 200
