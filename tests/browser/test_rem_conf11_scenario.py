"""REM SC.DMP/CONF.11 in the browser: the notice on the login page, then at the first login a mandatory box
before the DPI opens; screenshots kept as evidence under var/artefacts/rem/SC.DMP/CONF.11/."""

from __future__ import annotations

import pytest

from dpi.models import AuditEvent, NoticeAcknowledgement
from sandbox.demo import current_totp_code
from tests.browser.helpers import rem_shots
from tests.factories import PASSWORD, EpisodeFactory, MembershipFactory, PatientFactory, RoleFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_first_login_shows_the_notice_requires_the_box_then_opens_the_file_asked(page, live_server, care_unit):
    shots = rem_shots("SC.DMP/CONF.11")
    user = MembershipFactory(care_unit=care_unit, role=RoleFactory(), user=UserFactory(notice_acknowledged=False)).user
    patient = EpisodeFactory(
        care_unit=care_unit, patient=PatientFactory(birth_name="BERNARD", first_names="ALICE")
    ).patient

    page.goto(f"{live_server.url}/patients/{patient.pk}/")  # a link to a file, followed before signing in
    page.wait_for_url("**/accounts/login/**")
    notice = page.get_by_test_id("dmp-notice")
    assert notice.is_visible()
    assert "Traçabilité nationale" in notice.inner_text() and "Contrôle d'accès" in notice.inner_text()
    shots(page, "login-page-with-notice")

    page.get_by_label("Identifiant", exact=True).fill(user.username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/accounts/2fa/authenticate/**")
    page.get_by_label("Code").fill(current_totp_code(user))
    page.get_by_role("button", name="Connexion").click()
    page.wait_for_url("**/information/**")
    assert f"RPPS {user.rpps}" in page.get_by_test_id("notice-national-id").inner_text()
    assert NoticeAcknowledgement.CURRENT in page.get_by_test_id("dmp-notice-version").inner_text()
    shots(page, "acknowledgement-page")

    page.get_by_role("button", name="Continuer").click()
    page.get_by_test_id("notice-errors").wait_for()
    assert "obligatoire" in page.get_by_test_id("notice-errors").inner_text()
    assert not NoticeAcknowledgement.objects.exists()
    shots(page, "error-box-unchecked")

    page.get_by_label("J'ai pris connaissance").check()
    page.get_by_role("button", name="Continuer").click()
    page.get_by_test_id("patient-banner").wait_for()  # the file the link asked for
    assert page.url == f"{live_server.url}/patients/{patient.pk}/"
    assert NoticeAcknowledgement.objects.filter(user=user, notice=NoticeAcknowledgement.CURRENT).count() == 1
    assert AuditEvent.objects.filter(action=AuditEvent.Action.NOTICE_ACK, actor=user).count() == 1
    shots(page, "file-after-acknowledging")

    page.get_by_role("link", name="DPI", exact=True).click()  # and every page after it, without asking again
    page.wait_for_url(f"{live_server.url}/")
    assert page.get_by_test_id("current-care-unit").is_visible()
    shots(page, "home-after-acknowledging")
