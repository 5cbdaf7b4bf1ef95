"""Password policy of administrator accounts (REM SC.SSI/IAM.92, IE.36) and the traces of password changes
(IAM.91)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.checks import run_checks
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from dpi.models import AuditEvent, User
from sandbox.demo import current_totp_code
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

STRONG = "Chirurgie-Visc3rale-2027!"


def _refusals(password: str, user: User) -> list[str]:
    with pytest.raises(ValidationError) as refused:
        validate_password(password, user)
    return [error.code for error in refused.value.error_list]


@pytest.fixture
def admin_user(db) -> User:
    return UserFactory(username="admin.si", is_staff=True, is_superuser=True)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("Court-M0t-2027", "privileged_password_too_short"),  # 14 characters
        ("sanscapitale-ni-chiffre", "privileged_password_not_complex"),
        ("SANS-MINUSCULE-2027", "privileged_password_not_complex"),
        ("SansChiffreNiSpecial", "privileged_password_not_complex"),
        ("12345678901234", "password_entirely_numeric"),  # the REM's 14-digit password
        ("Ab1!Ab1!", "privileged_password_too_short"),  # the REM's weak 8-character mix
    ],
)
def test_weak_passwords_of_an_administrator_are_refused_with_the_reason(admin_user, password, reason):
    assert reason in _refusals(password, admin_user)


def test_the_refusal_says_what_is_missing(admin_user):
    with pytest.raises(ValidationError) as refused:
        validate_password("sanscapitale-ni-chiffre", admin_user)
    assert "majuscule, chiffre" in " ".join(refused.value.messages)


def test_a_strong_password_of_an_administrator_is_accepted(admin_user):
    validate_password(STRONG, admin_user)


def test_the_administrator_rules_do_not_apply_to_other_accounts():
    validate_password("unmotdepasselong", UserFactory())  # 16 lower-case letters, no admin: allowed


def test_the_last_passwords_cannot_be_reused(admin_user, settings):
    settings.PASSWORD_HISTORY_COUNT = 2
    for password in ("Premier-Mot-de-passe-1", "Deuxieme-Mot-de-passe-2", "Troisieme-Mot-de-passe-3"):
        admin_user.set_password(password)
        admin_user.save()
    assert "password_reused" in _refusals("Troisieme-Mot-de-passe-3", admin_user)  # the current one
    assert "password_reused" in _refusals("Deuxieme-Mot-de-passe-2", admin_user)
    validate_password("Premier-Mot-de-passe-1", admin_user)  # older than the last 2


def test_the_lockout_ceiling_above_ten_failures_is_refused_at_start(settings):
    settings.LOGIN_ATTEMPTS_LIMIT = 11
    assert "dpi.E101" in [check.id for check in run_checks()]
    settings.LOGIN_ATTEMPTS_LIMIT = 10
    assert "dpi.E101" not in [check.id for check in run_checks()]


def test_the_default_lockout_is_at_most_ten_failures():
    from django.conf import settings

    assert 1 <= settings.LOGIN_ATTEMPTS_LIMIT <= 10
    assert settings.ACCOUNT_RATE_LIMITS["login_failed"].startswith(f"{settings.LOGIN_ATTEMPTS_LIMIT}/")


def _sign_in(client, user: User, password: str = PASSWORD):
    client.post(reverse("account_login"), {"login": user.username, "password": password})
    return client.post(reverse("mfa_authenticate"), {"code": current_totp_code(user)})


def test_an_expired_administrator_password_forces_a_change_at_the_next_sign_in(client, admin_user, settings):
    settings.PRIVILEGED_PASSWORD_MAX_AGE_DAYS = 90
    User.objects.filter(pk=admin_user.pk).update(password_changed_at=timezone.now() - timedelta(days=91))
    _sign_in(client, admin_user)

    for page in (reverse("home"), "/admin/"):
        response = client.get(page)
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_change_password"))

    change = {"oldpassword": PASSWORD, "password1": "trop-faible", "password2": "trop-faible"}
    assert client.post(reverse("account_change_password"), change).status_code == 200
    change.update(password1=PASSWORD, password2=PASSWORD)
    refused = client.post(reverse("account_change_password"), change)
    assert "déjà été utilisé" in refused.content.decode()
    change.update(password1=STRONG, password2=STRONG)
    assert client.post(reverse("account_change_password"), change).status_code == 302
    assert client.get("/admin/").status_code == 200

    events = AuditEvent.objects.filter(actor=admin_user, action__startswith="password.").order_by("pk")
    assert [(event.action, event.detail["result"]) for event in events] == [
        ("password.change_failure", "refused"),
        ("password.change_failure", "refused"),
        ("password.change", "success"),
    ]
    assert "password_reused" in events[1].detail["reasons"]
    assert PASSWORD not in str(events[0].detail) and STRONG not in str(events[2].detail)


def test_polls_and_api_calls_of_an_expired_session_get_a_refusal_never_the_change_page(client, admin_user):
    User.objects.filter(pk=admin_user.pk).update(password_changed_at=None)  # never set: counts as expired
    client.force_login(admin_user)
    poll = client.get(reverse("documents:worklist_counts"), headers={"X-DPI-Background": "1"})
    assert poll.status_code == 403
    htmx = client.get(reverse("home"), headers={"HX-Request": "true"})
    assert (htmx.status_code, htmx["HX-Redirect"]) == (403, f"{reverse('account_change_password')}?expire=1")
    assert client.get("/api/patients/").json()["detail"].startswith("Mot de passe expiré")


def test_a_recent_administrator_password_and_a_user_password_do_not_expire(client, admin_user):
    _sign_in(client, admin_user)
    assert client.get("/admin/").status_code == 200
    old = UserFactory()
    User.objects.filter(pk=old.pk).update(password_changed_at=timezone.now() - timedelta(days=400))
    client.logout()
    _sign_in(client, old)
    assert client.get(reverse("home")).status_code == 200


def test_an_administrator_can_require_a_change_at_the_next_sign_in(client):
    user = UserFactory()
    User.objects.filter(pk=user.pk).update(must_change_password=True)  # the box ticked in the admin
    _sign_in(client, user)
    assert client.get(reverse("home")).url.startswith(reverse("account_change_password"))


def test_a_password_set_by_an_administrator_is_audited_with_its_result(client, admin_user):
    client.force_login(admin_user)
    target = UserFactory()
    url = f"/admin/dpi/user/{target.pk}/password/"
    client.post(url, {"password1": "court", "password2": "court"})
    client.post(url, {"password1": STRONG, "password2": STRONG})
    events = AuditEvent.objects.filter(action__startswith="password.", object_id=str(target.pk)).order_by("pk")
    assert [(event.action, event.actor, event.detail["by"]) for event in events] == [
        ("password.change_failure", admin_user, "administrator"),
        ("password.change", admin_user, "administrator"),
    ]
    target.refresh_from_db()
    assert target.must_change_password  # a password typed by someone else is changed at first sign-in


def test_sign_ins_are_traced_with_their_provider_and_result(client):
    user = UserFactory()
    _sign_in(client, user)
    client.logout()
    client.post(reverse("account_login"), {"login": user.username, "password": "faux"})
    success = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_SUCCESS)
    failure = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILURE)
    assert success.detail == {"provider": "local", "result": "success"}
    assert failure.detail == {"provider": "local", "result": "failure"}
    assert failure.actor_username == user.username


def test_the_admin_login_form_never_signs_in_with_a_password_alone(client, admin_user):
    credentials = {"username": admin_user.username, "password": PASSWORD}
    response = client.post("/admin/login/?next=/admin/dpi/user/", credentials)
    assert response.status_code == 302
    assert response.url == f"{reverse('account_login')}?next=/admin/dpi/user/"
    assert client.get("/admin/").status_code == 302  # still anonymous: the DPI's login asks for the TOTP code
    _sign_in(client, admin_user)
    assert client.get("/admin/login/?next=/admin/dpi/user/").url == "/admin/dpi/user/"


def test_the_admin_login_refuses_a_signed_in_user_who_is_not_an_administrator(client):
    client.force_login(UserFactory())
    assert client.get("/admin/login/?next=/admin/").status_code == 403


def test_a_sign_in_through_another_authentication_backend_is_traced_with_it(client, settings):
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, "tests.accounts.backends.OtherProvider"]
    user = UserFactory()
    client.force_login(user, backend="tests.accounts.backends.OtherProvider")
    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_SUCCESS)
    assert (event.actor, event.detail) == (user, {"provider": "OtherProvider", "result": "success"})
