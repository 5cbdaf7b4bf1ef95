"""Login with a mandatory second factor, throttling and lock, idle expiry, logout everywhere."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.urls import reverse

from dpi.mfa import MFAAdapter
from dpi.models import AuditEvent, User
from sandbox.demo import current_totp_code
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _password_step(client, username: str, password: str = PASSWORD):
    return client.post(reverse("account_login"), {"login": username, "password": password})


def test_password_alone_does_not_log_in_the_user_asks_for_the_totp_code(client):
    user = UserFactory()
    response = _password_step(client, user.username)
    assert response.status_code == 302
    assert response.url == reverse("mfa_authenticate")
    assert client.get(reverse("home")).status_code == 302  # still anonymous


def test_password_then_current_totp_code_logs_in_and_is_audited(client):
    user = UserFactory()
    _password_step(client, user.username)
    response = client.post(reverse("mfa_authenticate"), {"code": current_totp_code(user)})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200
    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_SUCCESS)
    assert event.actor == user
    assert event.actor_rpps == user.rpps
    assert event.ip_address == "127.0.0.1"


def test_wrong_totp_code_is_refused_and_audited(client):
    user = UserFactory()
    _password_step(client, user.username)
    wrong = f"{(int(current_totp_code(user)) + 1) % 1_000_000:06d}"
    response = client.post(reverse("mfa_authenticate"), {"code": wrong})
    assert response.status_code == 200
    assert client.get(reverse("home")).status_code == 302
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_MFA_FAILURE, actor=user).exists()


def test_wrong_password_is_audited_as_failure_with_the_typed_login(client):
    _password_step(client, "nobody", "wrong-password")
    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILURE)
    assert event.actor is None
    assert event.actor_username == "nobody"


def test_account_is_locked_after_repeated_failures_even_with_the_right_password(client):
    user = UserFactory()
    for _ in range(settings.LOGIN_ATTEMPTS_LIMIT):
        _password_step(client, user.username, "wrong-password")
    response = _password_step(client, user.username)
    assert response.status_code == 200  # the form again, not the second-factor step
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_LOCKED, actor_username=user.username).exists()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILURE).count() == settings.LOGIN_ATTEMPTS_LIMIT


def test_user_without_second_factor_can_only_set_it_up(client):
    user = UserFactory(totp=False)
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url == reverse("mfa_activate_totp")
    assert client.get(reverse("patients:search")).url == reverse("mfa_activate_totp")
    assert client.get("/api/patients/").status_code == 403


def test_second_factor_cannot_be_removed_by_its_owner(client, settings):
    settings.MFA_REAUTHENTICATION_REQUIRED = False  # reach the deactivation itself, not the re-login step
    user = UserFactory()
    client.force_login(user)
    response = client.post(reverse("mfa_deactivate_totp"))
    assert response.status_code == 200  # the form again, with its error: nothing was removed
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    assert MFAAdapter().can_delete_authenticator(Authenticator(type=Authenticator.Type.TOTP)) is False


def test_session_expires_after_the_configured_inactivity(client):
    client.force_login(UserFactory())
    client.get(reverse("home"))
    assert client.session.get_expiry_age() == settings.SESSION_IDLE_MINUTES * 60


def _session_expiry(client) -> object:
    from django.contrib.sessions.models import Session

    return Session.objects.get(session_key=client.session.session_key).expire_date


def test_background_polls_do_not_keep_an_idle_session_alive_but_user_requests_do(client, doctor):
    client.force_login(doctor)
    client.get(reverse("home"))
    before = _session_expiry(client)
    poll = client.get(reverse("mss:badge"), headers={"HX-Request": "true", "X-DPI-Background": "1"})
    assert poll.status_code == 200
    assert _session_expiry(client) == before  # the idle clock kept running
    client.get(reverse("home"))
    assert _session_expiry(client) > before  # a request of the user restarted it


def test_self_signup_is_closed(client):
    response = client.post(
        reverse("account_signup"),
        {"username": "intrus", "password1": "Xx-123456789-yy", "password2": "Xx-123456789-yy"},
    )
    assert response.status_code == 200
    assert not User.objects.filter(username="intrus").exists()


def test_logout_is_audited(client):
    user = UserFactory()
    client.force_login(user)
    client.post(reverse("account_logout"))
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LOGOUT, actor=user).exists()
    assert client.get(reverse("home")).status_code == 302
