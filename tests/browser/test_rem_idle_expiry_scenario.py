"""REM SC.SSI/IE.39 in the browser: an open patient file stops showing patient data when the idle time has
passed, without a click, and a poll answered after the session ended takes the whole page to the login;
screenshots kept as evidence under var/artefacts/rem/SC.SSI/IE.39/{idle-minute,poll}/."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from dmp.models import FeedingDelay
from documents.services import create_draft, validate_document
from sandbox.demo import current_totp_code
from tests.browser.helpers import log_in, qualified_patient_in, rem_shots
from tests.factories import PASSWORD
from tests.support.feeding import LETTER_FIELDS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_open_file_goes_to_the_login_after_one_idle_minute_without_a_click(page, live_server, care_unit, settings):
    settings.SESSION_IDLE_MINUTES, settings.SESSION_COOKIE_AGE = 1, 60
    shots = rem_shots("SC.SSI/IE.39", "idle-minute")
    user, patient = qualified_patient_in(care_unit)
    log_in(page, live_server, user)
    file_url = f"{live_server.url}/patients/{patient.pk}/"
    page.goto(file_url)
    assert "DUMONT" in page.get_by_test_id("patient-banner").inner_text()
    shots(page, "file-open")

    page.wait_for_url("**/accounts/login/**", timeout=120_000)  # nobody touches the page
    assert "DUMONT" not in page.content() and "LOUISE" not in page.content()
    assert page.get_by_test_id("idle-expired").is_visible()
    shots(page, "login-after-idle-minute")

    page.get_by_label("Identifiant", exact=True).fill(user.username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_label("Code").fill(current_totp_code(user))  # a new code: a minute has passed
    page.get_by_role("button", name="Connexion").click()
    page.wait_for_url(file_url)  # back to the file that was open
    shots(page, "back-to-the-file")


def test_a_poll_answered_after_the_session_ended_takes_the_whole_page_to_the_login(page, live_server, care_unit):
    shots = rem_shots("SC.SSI/IE.39", "poll")
    FeedingDelay.objects.create(delay_minutes=30)  # the letter's sending waits: its line is polled
    user, patient = qualified_patient_in(care_unit)
    letter = create_draft(
        patient=patient, episode=patient.episodes.get(), type_code="11490-0", title="Lettre de liaison de sortie",
        fields=LETTER_FIELDS, act_date=timezone.now(), acting_user=user,
    )  # fmt: skip
    validate_document(document=letter, acting_user=user)
    log_in(page, live_server, user)
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    page.locator(f"#feeding-{letter.pk}[hx-get]").wait_for()
    shots(page, "file-with-a-polled-line")

    Session.objects.all().delete()  # the session ends elsewhere ("fermer mes autres sessions", an admin)
    page.wait_for_url("**/accounts/login/**", timeout=30_000)  # the next poll (every 5 s) moved the page
    assert page.locator(".site-header").count() == 1  # a whole login page, not one inside a fragment
    assert "DUMONT" not in page.content()
    shots(page, "login-after-poll")
