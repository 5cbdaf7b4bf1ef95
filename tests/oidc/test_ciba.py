"""Sign-in with the e-CPS through CIBA in poll mode against the sandbox PSC (REM SC.PSC.13)."""

from __future__ import annotations

import time
from html import unescape

import httpx
import pytest
from django.urls import reverse

from dpi.models import AuditEvent
from sandbox.oidc.people import UNKNOWN_RPPS, psc_people
from tests.factories import UserFactory
from tests.support.oidc import TIMEOUT

pytestmark = pytest.mark.django_db

MARTIN = psc_people()[0]
START = reverse("oidc_ciba", kwargs={"provider_id": "psc"})
POLL = reverse("oidc_ciba_poll", kwargs={"provider_id": "psc"})


def ask(client, rpps: str):
    return client.post(START, {"rpps": rpps})


def answer_on_the_phone(psc, decision: str) -> httpx.Response:
    """The professional's answer in the sandbox's e-CPS app (its web page)."""
    (pending,) = psc.provider.backchannel.values()
    with httpx.Client(timeout=TIMEOUT) as phone:
        page = phone.get(f"{psc.provider.base_url}/ecps")
        assert pending.binding_message in page.text
        return phone.post(
            f"{psc.provider.base_url}/ecps", data={"auth_req_id": pending.auth_req_id, "decision": decision}
        )


def test_accepted_request_signs_the_professional_in_without_totp(client, psc):
    user = UserFactory(rpps=MARTIN.rpps)
    waiting = ask(client, MARTIN.rpps)
    binding = client.session["dpi_oidc_ciba"]["binding_message"]
    assert f'data-testid="binding-message">{binding}<' in waiting.content.decode()
    (pending,) = psc.provider.backchannel.values()
    assert (pending.person.sub, pending.binding_message, pending.acr) == (MARTIN.sub, binding, "eidas1")
    assert 'data-testid="ciba-pending"' in client.post(POLL).content.decode()  # not answered yet
    assert answer_on_the_phone(psc, "accept").status_code == 200
    signed_in = client.post(POLL)
    assert signed_in.status_code == 204
    assert signed_in["HX-Redirect"] == reverse("home")
    assert client.get(reverse("home")).wsgi_request.user == user
    success = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_SUCCESS)
    assert success.detail == {"provider": "psc", "result": "success", "strong": True}


def test_refused_request_says_so_and_is_audited(client, psc):
    UserFactory(rpps=MARTIN.rpps)
    ask(client, MARTIN.rpps)
    answer_on_the_phone(psc, "refuse")
    outcome = unescape(client.post(POLL).content.decode())
    assert "La connexion a été refusée sur l'e-CPS." in outcome
    assert client.get(reverse("home")).status_code == 302
    assert AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILURE).detail == {
        "provider": "psc",
        "mode": "ciba",
        "reason": "refused",
    }


def test_expired_request_says_so(client, psc):
    UserFactory(rpps=MARTIN.rpps)
    ask(client, MARTIN.rpps)
    (pending,) = psc.provider.backchannel.values()
    pending.expires_at = time.time() - 1  # the provider's clock passed expires_in
    outcome = unescape(client.post(POLL).content.decode())
    assert "La demande a expiré sans réponse sur l'e-CPS." in outcome
    assert 'data-testid="ciba-outcome"' in outcome  # polling stops
    assert AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILURE).detail["reason"] == "expired"


def test_a_malformed_rpps_is_refused_before_asking_psc(client, psc):
    response = ask(client, "12AB")
    assert response.status_code == 400
    assert "Saisissez votre numéro RPPS (11 chiffres)." in unescape(response.content.decode())
    assert not psc.provider.backchannel


def test_an_rpps_unknown_to_psc_is_refused(client, psc):
    response = ask(client, "10000000000")
    assert response.status_code == 400
    assert "ProSanté Connect ne connaît pas ce numéro RPPS." in unescape(response.content.decode())


def test_accepted_by_someone_without_a_dpi_account_is_refused(client, psc):
    ask(client, UNKNOWN_RPPS)
    answer_on_the_phone(psc, "accept")
    outcome = unescape(client.post(POLL).content.decode())
    assert "Aucun compte du DPI ne porte l'identifiant national" in outcome
    assert client.get(reverse("home")).status_code == 302
    assert AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILURE).detail["reason"] == "unknown_rpps"


def test_poll_without_a_request_says_there_is_none(client, psc):
    assert "Aucune demande en cours." in unescape(client.post(POLL).content.decode())


def test_an_accepted_request_with_a_tampered_userinfo_is_refused(client, psc):
    UserFactory(rpps=MARTIN.rpps)
    ask(client, MARTIN.rpps)
    answer_on_the_phone(psc, "accept")
    psc.provider.tamper_userinfo = True
    outcome = unescape(client.post(POLL).content.decode())
    assert "La réponse de ProSanté Connect est invalide." in outcome
    assert client.get(reverse("home")).status_code == 302
    failure = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILURE)
    assert (failure.actor_username, failure.detail["reason"]) == (f"8{MARTIN.rpps}", "invalid_token")
