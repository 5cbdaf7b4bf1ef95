"""The sandbox PSC is as strict as the real one (``sandbox/oidc``): each refusal with its OAuth error code."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from dpi.oidc.jose import InvalidToken, verify_jwt
from sandbox.oidc.people import psc_people
from tests.support.oidc import CLIENT_ID, SECRET, TIMEOUT

pytestmark = pytest.mark.django_db

REDIRECT_URI = "http://testserver/accounts/oidc/psc/login/callback/"
MARTIN = psc_people()[0]


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize(browser: httpx.Client, psc, **overrides: str) -> httpx.Response:
    """Authorization request then the e-CPS page's answer for Claire MARTIN."""
    params = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid scope_all",
        "state": "etat",
        "nonce": "n1",
        "acr_values": "eidas1",
    } | overrides
    query = urlencode({name: value for name, value in params.items() if value})
    page = browser.get(f"{psc.provider.authorization_endpoint}?{query}")
    if page.status_code != 200:
        return page
    return browser.post(
        psc.provider.authorization_endpoint, data={"query": query, "person": MARTIN.sub, "decision": "accept"}
    )


def code_from(answer: httpx.Response) -> str:
    assert answer.status_code == 302, answer.text
    return parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]


def token(browser: httpx.Client, psc, code: str, verifier: str | None, secret: str = SECRET) -> httpx.Response:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    if verifier:
        form["code_verifier"] = verifier
    return browser.post(psc.provider.endpoint("token"), data=form, auth=(CLIENT_ID, secret))


def signed_in_tokens(browser: httpx.Client, psc) -> dict:
    """The tokens of a complete code flow with PKCE (S256)."""
    verifier, challenge = pkce()
    code = code_from(authorize(browser, psc, code_challenge=challenge, code_challenge_method="S256"))
    return token(browser, psc, code, verifier).json()


@pytest.fixture
def browser():
    with httpx.Client(timeout=TIMEOUT) as client:
        yield client


def test_discovery_is_served_under_psc_s_own_file_name(browser, psc):
    document = browser.get(psc.provider.discovery_url).json()
    assert psc.provider.discovery_url.endswith("/.well-known/wallet-openid-configuration")
    assert document["issuer"] == psc.provider.issuer
    assert document["acr_values_supported"] == ["eidas1"]
    assert document["backchannel_token_delivery_modes_supported"] == ["poll"]
    assert browser.get(psc.provider.issuer + "/.well-known/openid-configuration").status_code == 404


def test_full_code_flow_gives_an_id_token_with_acr_eidas1_and_a_signed_userinfo(browser, psc):
    verifier, challenge = pkce()
    answer = authorize(browser, psc, code_challenge=challenge, code_challenge_method="S256")
    tokens = token(browser, psc, code_from(answer), verifier).json()
    claims = verify_jwt(
        tokens["id_token"], jwks_uri=psc.provider.endpoint("certs"), issuer=psc.provider.issuer, audience=CLIENT_ID
    )
    assert claims["acr"] == "eidas1"
    assert claims["nonce"] == "n1"
    assert claims["SubjectNameID"] == f"8{MARTIN.rpps}"
    userinfo = browser.get(
        psc.provider.endpoint("userinfo"), headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert userinfo.headers["Content-Type"] == "application/jwt"
    info = verify_jwt(
        userinfo.text, jwks_uri=psc.provider.endpoint("certs"), issuer=psc.provider.issuer, audience=CLIENT_ID
    )
    exercise = info["SubjectRefPro"]["exercices"][0]
    assert (exercise["codeProfession"], exercise["codeSavoirFaire"]) == ("10", "SM14")
    assert {activity["numeroFinessSite"] for activity in exercise["activities"]} == {"000897406", "000897422"}


def test_acr_is_left_out_when_the_request_does_not_ask_for_eidas1(browser, psc):
    verifier, challenge = pkce()
    answer = authorize(browser, psc, code_challenge=challenge, code_challenge_method="S256", acr_values="")
    tokens = token(browser, psc, code_from(answer), verifier).json()
    claims = verify_jwt(
        tokens["id_token"], jwks_uri=psc.provider.endpoint("certs"), issuer=psc.provider.issuer, audience=CLIENT_ID
    )
    assert "acr" not in claims


def test_a_tampered_userinfo_signature_is_refused(browser, psc):
    tokens = signed_in_tokens(browser, psc)
    psc.provider.tamper_userinfo = True
    userinfo = browser.get(
        psc.provider.endpoint("userinfo"), headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    with pytest.raises(InvalidToken):
        verify_jwt(
            userinfo.text, jwks_uri=psc.provider.endpoint("certs"), issuer=psc.provider.issuer, audience=CLIENT_ID
        )


def test_a_token_for_another_audience_or_issuer_is_refused(browser, psc):
    tokens = signed_in_tokens(browser, psc)
    certs = psc.provider.endpoint("certs")
    with pytest.raises(InvalidToken):
        verify_jwt(tokens["id_token"], jwks_uri=certs, issuer=psc.provider.issuer, audience="another-client")
    with pytest.raises(InvalidToken):
        verify_jwt(tokens["id_token"], jwks_uri=certs, issuer="https://elsewhere.example", audience=CLIENT_ID)


def test_wrong_redirect_uri_is_refused_without_redirecting(browser, psc):
    _verifier, challenge = pkce()
    answer = authorize(
        browser, psc, code_challenge=challenge, code_challenge_method="S256", redirect_uri="http://evil.example/cb"
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"


def test_missing_pkce_challenge_is_refused(browser, psc):
    answer = authorize(browser, psc)
    assert answer.status_code == 302
    assert parse_qs(urlsplit(answer.headers["Location"]).query)["error"] == ["invalid_request"]


def test_missing_or_wrong_pkce_verifier_is_refused(browser, psc):
    verifier, challenge = pkce()
    code = code_from(authorize(browser, psc, code_challenge=challenge, code_challenge_method="S256"))
    missing = token(browser, psc, code, None)
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")
    code = code_from(authorize(browser, psc, code_challenge=challenge, code_challenge_method="S256"))
    wrong = token(browser, psc, code, pkce()[0])
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")


def test_a_code_is_used_once(browser, psc):
    verifier, challenge = pkce()
    code = code_from(authorize(browser, psc, code_challenge=challenge, code_challenge_method="S256"))
    assert token(browser, psc, code, verifier).status_code == 200
    reused = token(browser, psc, code, verifier)
    assert (reused.status_code, reused.json()["error"]) == (400, "invalid_grant")


def test_a_bad_client_secret_is_refused(browser, psc):
    verifier, challenge = pkce()
    code = code_from(authorize(browser, psc, code_challenge=challenge, code_challenge_method="S256"))
    refused = token(browser, psc, code, verifier, secret="not-the-secret")
    assert (refused.status_code, refused.json()["error"]) == (401, "invalid_client")


def test_userinfo_without_a_valid_bearer_token_is_refused(browser, psc):
    answer = browser.get(psc.provider.endpoint("userinfo"), headers={"Authorization": "Bearer nope"})
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
