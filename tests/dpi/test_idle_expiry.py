"""Idle expiry of open pages (REM SC.SSI/IE.39): pages know how long the session has left, a poll never
restarts the clock, and a poll or click answered after the end sends the whole page to the login."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.urls import reverse

from dpi.middleware import LAST_ACTIVITY_KEY
from dpi.models import AuditEvent
from tests.factories import EpisodeFactory, UserFactory

pytestmark = pytest.mark.django_db

BACKGROUND = {"X-DPI-Background": "1"}


def _left(client) -> int:
    response = client.get(reverse("idle_state"), headers=BACKGROUND)
    assert response["Cache-Control"].startswith("max-age=0")
    return response.json()["remaining"]


def _expiry(client) -> object:
    return Session.objects.get(session_key=client.session.session_key).expire_date


def test_an_open_page_learns_how_long_the_session_has_left_without_restarting_its_clock(client):
    client.force_login(UserFactory())
    client.get(reverse("home"))
    expiry = _expiry(client)
    assert settings.SESSION_COOKIE_AGE - 5 <= _left(client) <= settings.SESSION_COOKIE_AGE
    session = client.session
    session[LAST_ACTIVITY_KEY] -= 100  # the user's last request was 100 s earlier
    session.save()
    expiry = _expiry(client)
    assert settings.SESSION_COOKIE_AGE - 105 <= _left(client) <= settings.SESSION_COOKIE_AGE - 100
    assert _expiry(client) == expiry  # asking did not restart the clock


def test_a_session_that_has_ended_has_no_time_left(client):
    assert _left(client) == 0
    client.force_login(UserFactory())
    client.get(reverse("home"))
    Session.objects.all().delete()  # ended: idle expiry, or "close my other sessions" elsewhere
    assert _left(client) == 0


def test_every_page_of_a_signed_in_user_carries_the_idle_clock_and_the_login_page_does_not(client):
    assert b"js/idle.js" not in client.get(reverse("account_login")).content
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for url in (reverse("home"), reverse("admin:index")):
        page = client.get(url).content.decode()
        assert "js/idle.js" in page and f'data-idle-seconds="{settings.SESSION_COOKIE_AGE}"' in page


def test_a_poll_answered_after_the_end_sends_the_whole_page_to_the_login_not_a_login_form(client, doctor, care_unit):
    patient = EpisodeFactory(care_unit=care_unit).patient
    page = reverse("patients:file", args=[patient.pk])
    client.force_login(doctor)
    assert client.get(page).status_code == 200
    Session.objects.all().delete()
    poll = client.get(
        reverse("documents:list", args=[patient.pk]),
        headers={"HX-Request": "true", "HX-Current-URL": f"http://testserver{page}", **BACKGROUND},
    )
    assert poll.status_code == 200 and poll.content == b""  # nothing swapped into the fragment
    target = urlsplit(poll["HX-Redirect"])
    assert target.path == reverse("account_login")
    assert parse_qs(target.query) == {"next": [page], "expiree": ["1"]}
    refusal = AuditEvent.objects.get(action=AuditEvent.Action.PATIENT_REFUSED)  # the poll was refused
    assert refusal.patient_id == patient.pk and refusal.detail["reason"] == "anonymous"


def test_the_login_page_says_why_after_an_idle_expiry(client):
    page = client.get(reverse("account_login"), {"expiree": "1", "next": "/"}).content.decode()
    assert "Votre session a pris fin après une période d'inactivité" in page
