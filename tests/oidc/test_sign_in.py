"""Sign-in through ProSanté Connect and the hospital's provider, over real HTTP against the sandbox providers
(REM SC.PSC.01, SC.PSC.02, SC.PSC.08, SC.SSI/IAM.80, SC.SSI/IE.38)."""

from __future__ import annotations

from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.socialaccount.models import SocialAccount
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from dpi.models import AuditEvent
from sandbox.oidc.people import UNKNOWN_RPPS, hospital_people, psc_people
from tests.factories import PASSWORD, UserFactory
from tests.support.oidc import back_to_dpi, choose, start_sign_in

pytestmark = pytest.mark.django_db

MARTIN = psc_people()[0]  # Claire MARTIN, RPPS of the demo
MARTIN_AT_HOSPITAL = hospital_people()[0]


def signed_in_user(client):
    response = client.get(reverse("home"))
    return response.wsgi_request.user if response.status_code == 200 else None


def test_psc_request_is_a_code_flow_with_pkce_s256_nonce_scope_all_and_acr_eidas1(client, psc):
    params = parse_qs(urlsplit(start_sign_in(client, "psc")).query)
    assert params["response_type"] == ["code"]
    assert params["code_challenge_method"] == ["S256"]
    assert params["code_challenge"][0]
    assert params["nonce"][0]
    assert set(params["scope"][0].split()) == {"openid", "scope_all"}
    assert params["acr_values"] == ["eidas1"]
    assert urlsplit(start_sign_in(client, "psc")).path == "/auth"  # PSC's authorize page, from its discovery


def test_first_psc_sign_in_links_the_account_found_by_rpps_and_needs_no_totp(client, psc, sign_in):
    user = UserFactory(rpps=MARTIN.rpps, email="")
    flow = sign_in("psc", MARTIN.sub)
    assert flow.response.status_code == 302
    assert signed_in_user(client) == user
    account = SocialAccount.objects.get(user=user, provider="psc")
    assert account.uid == f"8{MARTIN.rpps}"
    assert account.extra_data["userinfo"]["SubjectRefPro"]["exercices"][0]["activities"][0]["numeroFinessSite"]
    success = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_SUCCESS, actor=user)
    assert success.detail == {"provider": "psc", "result": "success", "strong": True}
    assert AuditEvent.objects.filter(action=AuditEvent.Action.USER_CHANGE, detail__linked_provider="psc").exists()


def test_psc_sign_in_is_strong_even_without_a_totp_device(client, psc, sign_in):
    user = UserFactory(rpps=MARTIN.rpps, totp=False)
    sign_in("psc", MARTIN.sub)
    assert signed_in_user(client) == user  # home answers 200: no detour to the TOTP setup


def test_unknown_rpps_is_refused_never_created_and_audited(client, psc, sign_in):
    flow = sign_in("psc", "psc-unknown")
    assert flow.response.status_code == 403
    assert "Aucun compte du DPI ne porte l'identifiant national" in unescape(flow.response.content.decode())
    assert signed_in_user(client) is None
    assert not SocialAccount.objects.exists()
    refusal = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILURE)
    assert refusal.detail == {"provider": "psc", "reason": "unknown_rpps", "subject": f"8{UNKNOWN_RPPS}"}


def test_account_is_never_found_by_email(client, psc, sign_in):
    UserFactory(rpps=None, national_id_type="", email=f"8{UNKNOWN_RPPS}@example.org")
    assert sign_in("psc", "psc-unknown").response.status_code == 403
    assert not SocialAccount.objects.exists()


def test_missing_acr_is_refused_when_the_provider_does_not_confirm_eidas1(client, psc, sign_in, settings):
    UserFactory(rpps=MARTIN.rpps)
    settings.OIDC_PROVIDERS["psc"]["acr_values"] = ""  # the request does not ask: the sandbox leaves acr out
    from dpi.oidc.config import socialaccount_providers

    settings.SOCIALACCOUNT_PROVIDERS = socialaccount_providers(settings.OIDC_PROVIDERS)
    flow = sign_in("psc", MARTIN.sub)
    assert flow.response.status_code == 403
    assert "eidas1" in unescape(flow.response.content.decode())
    assert AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILURE).detail["reason"] == "acr"


def test_cancel_on_the_provider_page_is_audited_and_signs_nobody_in(client, psc, sign_in):
    flow = sign_in("psc", None, decision="cancel")
    assert flow.response.status_code == 302
    assert signed_in_user(client) is None
    refusal = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILURE)
    assert refusal.detail["provider"] == "psc"
    assert refusal.detail["provider_error"] == "access_denied"


def test_unlinked_hospital_identity_is_refused_with_the_way_to_link_it(client, hospital_idp, sign_in):
    UserFactory(email=MARTIN_AT_HOSPITAL.email)  # same e-mail: still never matched on it
    flow = sign_in("hopital", MARTIN_AT_HOSPITAL.sub)
    assert flow.response.status_code == 403
    assert "reliez-le depuis « Mon compte »" in unescape(flow.response.content.decode())
    assert AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILURE).detail["reason"] == "not_linked"


def test_psc_hospital_provider_and_password_land_on_the_same_account(client, psc, hospital_idp, sign_in, browser):
    user = UserFactory(rpps=MARTIN.rpps)
    sign_in("psc", MARTIN.sub)
    # Signed in, the user links their hospital account from "Mon compte".
    page = client.get(reverse("my_account"))
    assert "Relier mon compte" in page.content.decode()
    linked = sign_in("hopital", MARTIN_AT_HOSPITAL.sub, process="connect")
    assert linked.response.status_code == 302
    assert SocialAccount.objects.get(provider="hopital").user == user
    client.post(reverse("account_logout"))
    assert signed_in_user(client) is None

    browser.cookies.clear()  # another browser: no single sign-on
    sign_in("hopital", MARTIN_AT_HOSPITAL.sub)
    assert signed_in_user(client) == user
    client.post(reverse("account_logout"))
    assert client.login(username=user.username, password=PASSWORD)
    assert signed_in_user(client) == user
    rows = AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_SUCCESS, actor=user)
    assert [row.detail.get("provider") for row in rows.order_by("at", "id")] == ["psc", "hopital"]


def test_linking_someone_else_s_e_cps_is_refused(client, psc, sign_in):
    user = UserFactory()
    client.force_login(user)
    flow = sign_in("psc", MARTIN.sub, process="connect")
    assert flow.response.status_code == 403
    assert "n'est pas celui de votre compte" in unescape(flow.response.content.decode())
    assert not SocialAccount.objects.exists()


def test_second_sign_in_reuses_the_provider_session_without_its_login_page(client, psc, sign_in, browser):
    UserFactory(rpps=MARTIN.rpps)
    sign_in("psc", MARTIN.sub)
    client.logout()  # the DPI session only: the provider's remains
    authorize_url = start_sign_in(client, "psc")
    answer = browser.get(authorize_url)
    assert answer.status_code == 302  # no login page: single sign-on
    assert back_to_dpi(client, answer).status_code == 302
    assert signed_in_user(client) is not None


def test_logout_ends_the_provider_session_with_the_id_token_hint(client, psc, sign_in, browser):
    UserFactory(rpps=MARTIN.rpps)
    sign_in("psc", MARTIN.sub)
    response = client.post(reverse("account_logout"))
    end_session = urlsplit(response["Location"])
    assert f"{end_session.scheme}://{end_session.netloc}{end_session.path}" == psc.provider.endpoint("logout")
    params = parse_qs(end_session.query)
    assert params["id_token_hint"][0].count(".") == 2
    assert params["post_logout_redirect_uri"] == ["http://testserver/accounts/login/"]
    back = browser.get(response["Location"])
    assert back.status_code == 302
    assert back.headers["Location"] == "http://testserver/accounts/login/"
    assert psc.provider.ended_sessions[-1]["sub"] == MARTIN.sub
    assert signed_in_user(client) is None
    # The provider's session is over: its login page is shown again.
    assert choose(browser, start_sign_in(client, "psc"), None, "cancel").status_code == 302
    assert browser.get(start_sign_in(client, "psc")).status_code == 200
    assert "S'identifier avec ProSanté Connect" in unescape(client.get(reverse("account_login")).content.decode())


def test_password_sign_in_still_asks_for_the_totp_code_after_a_refused_provider_attempt(client, psc, sign_in):
    user = UserFactory()
    sign_in("psc", "psc-unknown")
    response = client.post(reverse("account_login"), {"login": user.username, "password": PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")


def test_login_page_offers_both_providers_and_each_can_be_turned_off(client, psc, hospital_idp, settings):
    page = client.get(reverse("account_login")).content.decode()
    assert 'data-testid="login-psc"' in page
    assert 'data-testid="login-hopital"' in page
    settings.OIDC_PROVIDERS["hopital"]["enabled"] = False
    page = client.get(reverse("account_login")).content.decode()
    assert 'data-testid="login-hopital"' not in page
    assert 'data-testid="login-psc"' in page


def test_a_tampered_userinfo_jwt_fails_the_sign_in_and_is_audited(client, psc, sign_in):
    UserFactory(rpps=MARTIN.rpps)
    psc.provider.tamper_userinfo = True
    sign_in("psc", MARTIN.sub)
    assert signed_in_user(client) is None
    failure = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILURE)
    assert failure.detail["provider"] == "psc"
    assert "JWT refusé" in failure.detail["error"]


def test_a_provider_that_does_not_answer_gives_a_clear_error_not_a_crash(client, psc):
    psc.stop()
    response = client.post("/accounts/oidc/psc/login/", {"process": "login"})
    assert response.status_code == 401  # allauth's page: "Échec de la connexion", back to the login page
    assert signed_in_user(client) is None
    failure = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILURE)
    assert failure.detail["provider"] == "psc"
    assert "Connection refused" in failure.detail["error"] or "Max retries" in failure.detail["error"]


def test_logout_still_ends_the_dpi_session_when_the_provider_is_away(client, psc, sign_in):
    UserFactory(rpps=MARTIN.rpps)
    sign_in("psc", MARTIN.sub)
    psc.stop()
    cache.clear()  # the discovery document is no longer at hand
    response = client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert signed_in_user(client) is None


def test_a_hospital_sign_in_whose_acr_is_not_strong_still_asks_for_the_totp_code(
    client, hospital_idp, sign_in, settings
):
    user = UserFactory()
    SocialAccount.objects.create(user=user, provider="hopital", uid=MARTIN_AT_HOSPITAL.sub)  # linked by an admin
    settings.OIDC_PROVIDERS["hopital"]["strong_acr"] = []
    flow = sign_in("hopital", MARTIN_AT_HOSPITAL.sub)
    assert flow.response["Location"] == reverse("mfa_authenticate")
    assert signed_in_user(client) is None  # not before the code


def test_an_administrator_links_a_hospital_identity_in_the_admin_and_it_is_audited(client, hospital_idp, sign_in):
    user = UserFactory()
    admin_client = Client()
    admin_client.force_login(UserFactory(is_staff=True, is_superuser=True))
    form = {"user": user.pk, "provider": "hopital", "uid": MARTIN_AT_HOSPITAL.sub}
    response = admin_client.post(reverse("admin:socialaccount_socialaccount_add"), form)
    assert response.status_code == 302, response.content
    row = AuditEvent.objects.get(action=AuditEvent.Action.USER_CHANGE)
    assert row.change == "added"
    sign_in("hopital", MARTIN_AT_HOSPITAL.sub)
    assert signed_in_user(client) == user
