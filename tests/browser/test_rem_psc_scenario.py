"""REM SC.PSC.01, SC.PSC.02, SC.PSC.13 and SC.SSI/IAM.80 in the browser, against the sandbox ProSanté Connect
and hospital provider on loopback: the login page with the providers, PSC sign-in and return, linking the
hospital account, the same account three ways, logout ending the provider's session and the PSC button
again, the e-CPS sign-in through CIBA. Screenshots under var/artefacts/rem/<id>/."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from sandbox.demo import current_totp_code
from sandbox.dmp.psc_login import WEBPS_PSC_CLIENT, PscClient
from sandbox.oidc.people import hospital_people, psc_people
from sandbox.oidc.provider import HOSPITAL, PSC
from sandbox.oidc.server import OidcServer, dmp_web_ps_client
from tests.browser.helpers import rem_shots
from tests.factories import PASSWORD, CareUnitFactory, MembershipFactory, RoleFactory, UserFactory
from tests.support.oidc import start_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MARTIN = psc_people()[0]
MARTIN_AT_HOSPITAL = hospital_people()[0]


@pytest.fixture
def providers(settings, live_server) -> Iterator[dict[str, OidcServer]]:
    servers = {
        "psc": start_for(settings, "psc", PSC, live_server.url),
        "hopital": start_for(settings, "hopital", HOSPITAL, live_server.url),
    }
    yield servers
    for server in servers.values():
        server.stop()


def sign_in_with_psc(page, live_server, shots=None) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    if shots:
        shots(page, "login-page-with-psc-button")
    page.get_by_role("button", name="S'identifier avec ProSanté Connect").click()
    page.get_by_role("heading", name="Connexion avec e-CPS").wait_for()
    page.get_by_role("radio", name=f"{MARTIN.login} —").check()
    if shots:
        shots(page, "psc-e-cps-page")
    page.get_by_role("button", name="Valider sur mon e-CPS").click()
    page.wait_for_selector("[data-testid=user-name]")


def log_out(page) -> None:
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/accounts/login/")


def test_psc_sign_in_return_and_logout_shows_the_psc_button_again(page, live_server, providers):
    shots = rem_shots("SC.PSC.01")
    UserFactory(rpps=MARTIN.rpps, first_name="Claire", last_name="Martin", totp=False)
    sign_in_with_psc(page, live_server, shots)
    assert page.get_by_test_id("user-name").inner_text() == "Claire MARTIN"
    shots(page, "back-in-the-dpi-signed-in")  # no second factor asked: PSC's eidas1 is strong
    log_out(page)
    assert page.get_by_role("button", name="S'identifier avec ProSanté Connect").is_visible()
    shots(page, "logged-out-psc-button-again")
    # The provider's session ended too: PSC asks again.
    page.get_by_role("button", name="S'identifier avec ProSanté Connect").click()
    page.get_by_role("heading", name="Connexion avec e-CPS").wait_for()
    shots(page, "psc-asks-again-after-logout")


def test_linked_accounts_psc_hospital_and_password_open_the_same_account(page, live_server, providers):
    shots = rem_shots("SC.PSC.02")
    user = UserFactory(rpps=MARTIN.rpps, first_name="Claire", last_name="Martin")
    sign_in_with_psc(page, live_server)  # first PSC sign-in: linked on the RPPS
    page.get_by_test_id("my-account-link").click()
    assert "relié le" in page.get_by_test_id("provider-psc").inner_text()
    shots(page, "my-account-psc-linked-by-rpps")
    page.get_by_role("button", name="Relier mon compte Compte de l'hôpital").click()
    page.get_by_role("radio", name=f"{MARTIN_AT_HOSPITAL.login} —").check()
    shots(page, "hospital-provider-page")
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_test_id("provider-hopital").get_by_text("relié le").wait_for()
    shots(page, "my-account-both-linked")
    log_out(page)

    page.get_by_role("button", name="S'identifier avec Compte de l'hôpital").click()
    page.wait_for_selector("[data-testid=user-name]")  # the hospital provider's session: no page to fill
    page.get_by_test_id("my-account-link").click()
    assert page.get_by_test_id("user-name").inner_text() == "Claire MARTIN"
    shots(page, "same-account-through-the-hospital-provider")
    log_out(page)

    page.get_by_label("Identifiant", exact=True).fill(user.username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_label("Code").fill(current_totp_code(user))
    page.get_by_role("button", name="Connexion").click()
    page.get_by_test_id("my-account-link").click()
    assert "relié le" in page.get_by_test_id("provider-hopital").inner_text()
    shots(page, "same-account-with-the-password-and-totp")


def test_login_page_offers_two_openid_providers_and_the_local_account(page, live_server, providers):
    shots = rem_shots("SC.SSI/IAM.80")
    page.goto(f"{live_server.url}/accounts/login/")
    assert page.get_by_test_id("login-psc").is_visible()
    assert page.get_by_test_id("login-hopital").is_visible()
    assert page.get_by_label("Identifiant", exact=True).is_visible()
    shots(page, "login-page-three-ways")
    UserFactory(rpps=MARTIN.rpps, first_name="Claire", last_name="Martin")
    sign_in_with_psc(page, live_server)
    shots(page, "signed-in-through-psc")


def test_e_cps_sign_in_through_ciba_with_the_binding_code(page, live_server, providers):
    shots = rem_shots("SC.PSC.13")
    UserFactory(rpps=MARTIN.rpps, first_name="Claire", last_name="Martin")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name=re.compile("Se connecter avec mon e-CPS")).click()
    page.get_by_label("Numéro RPPS").fill(MARTIN.rpps)
    shots(page, "rpps-typed")
    page.get_by_role("button", name="Envoyer la demande à mon e-CPS").click()
    code = page.get_by_test_id("binding-message").inner_text()
    shots(page, "waiting-with-the-binding-code")

    phone = page.context.new_page()  # the e-CPS app (simulated by the sandbox)
    phone.goto(f"{providers['psc'].provider.base_url}/ecps")
    assert code in phone.get_by_test_id("ciba-request").inner_text()
    shots(phone, "e-cps-app-shows-the-same-code")
    phone.get_by_role("button", name="Accepter").click()
    phone.close()
    page.wait_for_selector("[data-testid=user-name]")  # the waiting page polled and signed in
    shots(page, "signed-in-after-acceptance")


def test_the_dmp_web_ps_reuses_the_psc_session_without_a_new_sign_in(page, live_server, live_dmp, settings):  # noqa: F811
    """DPI.AUTH.01/02, PSC variant of DPI.DMP/UX.49: signed in with PSC, the user opens the patient's DMP in the
    web PS; the DMP asks PSC, whose session answers at once: no login page, the DMP knows the user's RPPS."""
    shots = rem_shots("DPI.AUTH.01", "psc")
    dmp = live_dmp.server
    psc = start_for(settings, "psc", PSC, live_server.url)
    psc.provider.clients["dmp-web-ps"] = dmp_web_ps_client(dmp.psc_redirect_uri)
    dmp.psc = PscClient(psc.provider.discovery_url, *WEBPS_PSC_CLIENT, dmp.psc_redirect_uri)
    settings.DMP_WEBPS_PSC_URL = dmp.webps_psc_url
    try:
        user = UserFactory(rpps=MARTIN.rpps, first_name="Claire", last_name="Martin", specialty="SM14")
        MembershipFactory(user=user, care_unit=CareUnitFactory(), role=RoleFactory())
        consultation = live_dmp.consultation(documents=2, user=user)
        sign_in_with_psc(page, live_server)
        page.goto(f"{live_server.url}/patients/{consultation.patient.pk}/")
        page.locator("#dmp-panel [data-testid=dmp-entries]").wait_for()
        shots(page, "file-signed-in-with-psc")
        with page.expect_popup() as opened:
            page.get_by_test_id("open-webps").click()
        webps = opened.value
        webps.locator("h1").wait_for()
        assert webps.locator("h1").inner_text() == "Dossier médical partagé"
        assert f"({user.national_id})" in webps.locator("body").inner_text()
        shots(webps, "web-ps-opened-through-the-psc-session")
        (call,) = live_dmp.calls("TD0.10")
        assert (call.name_id, call.authentication_mode, call.outcome) == (user.national_id, "PSC", "ok")
        assert len(psc.provider.sessions) == 1  # the one PSC session, opened by the DPI sign-in, reused
    finally:
        psc.stop()
