"""Login throttling per account and per address (issue 17): failures from one address (a hospital NAT, the
reverse proxy) never lock out the others behind it; an account is still locked after its own failures."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import reverse

from dpi.login import address_backoff_remaining, backoff_delay, record_address_failure
from dpi.models import AuditEvent
from sandbox.demo import current_totp_code
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NAT = "10.20.30.40"


@pytest.fixture
def few_free_failures(settings) -> int:
    settings.LOGIN_ADDRESS_FREE_FAILURES = 3
    return 3


def _login(client, username: str, password: str = PASSWORD, *, code: str | None = None, **meta: str):
    data = {"login": username, "password": password}
    if code is not None:
        data["code"] = code
    return client.post(reverse("account_login"), data, **({"REMOTE_ADDR": NAT} | meta))


def _fail_from_the_address(client, times: int, **meta: str) -> None:
    for n in range(times):
        _login(client, f"someone-else-{n}", "wrong-password", **meta)


def _signed_in(client) -> bool:
    return client.get(reverse("home")).status_code == 200


def test_failures_of_others_from_one_address_do_not_stop_a_correct_login_from_it(client, few_free_failures):
    user = UserFactory()
    _fail_from_the_address(client, few_free_failures * 10)  # far beyond the old 20 per minute per address
    response = _login(client, user.username, code=current_totp_code(user))
    assert response.status_code == 302 and response.url == reverse("mfa_authenticate")
    client.post(reverse("mfa_authenticate"), {"code": current_totp_code(user)})  # the same code, not used up
    assert _signed_in(client)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_SUCCESS, actor=user).exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_LOCKED).exists()


def test_below_the_free_failures_the_password_step_asks_nothing_more(client, few_free_failures):
    user = UserFactory()
    _fail_from_the_address(client, few_free_failures - 1)
    assert b'name="code"' not in client.get(reverse("account_login"), REMOTE_ADDR=NAT).content
    assert _login(client, user.username).url == reverse("mfa_authenticate")


def test_during_the_backoff_the_password_step_asks_for_the_code_too(client, few_free_failures):
    user = UserFactory()
    _fail_from_the_address(client, few_free_failures)
    assert b'name="code"' in client.get(reverse("account_login"), REMOTE_ADDR=NAT).content
    response = _login(client, user.username)  # no code: asked for it, nothing counted against the account
    assert response.status_code == 200 and "le code de votre application" in response.content.decode()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILURE, actor_username=user.username)
    assert _login(client, user.username, code=current_totp_code(user)).url == reverse("mfa_authenticate")
    assert _login(client, user.username, code=current_totp_code(user), REMOTE_ADDR="10.9.9.9").status_code == 302


def test_during_the_backoff_a_wrong_code_fails_even_with_the_right_password_and_counts(client, few_free_failures):
    user = UserFactory()
    _fail_from_the_address(client, few_free_failures)
    before = address_backoff_remaining(_request(NAT))
    wrong = f"{(int(current_totp_code(user)) + 1) % 1_000_000:06d}"
    response = _login(client, user.username, code=wrong)
    assert response.status_code == 200  # the form again: the password was not even looked at
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILURE, actor_username=user.username).exists()
    assert address_backoff_remaining(_request(NAT)) > before  # one more failure: a longer backoff


def test_failures_on_one_account_lock_it_from_every_address(client, settings):
    user = UserFactory()
    for n in range(settings.LOGIN_ATTEMPTS_LIMIT):
        _login(client, user.username, "wrong-password", REMOTE_ADDR=f"10.0.0.{n + 1}")
    response = _login(client, user.username, code=current_totp_code(user), REMOTE_ADDR="10.0.1.1")
    assert response.status_code == 200  # the right password and code, yet the account is locked
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_LOCKED, actor_username=user.username).exists()
    other = UserFactory()  # the others at those addresses are not concerned
    assert _login(client, other.username, REMOTE_ADDR="10.0.0.1").url == reverse("mfa_authenticate")


def test_the_address_backoff_doubles_with_each_failure_up_to_the_window(settings, few_free_failures):
    settings.LOGIN_ADDRESS_BACKOFF_SECONDS = 30
    assert [backoff_delay(n) for n in range(few_free_failures)] == [0.0] * few_free_failures
    delays = [backoff_delay(few_free_failures + n) for n in range(8)]
    assert delays[:4] == [30.0, 60.0, 120.0, 240.0]
    assert max(delays) == settings.LOGIN_LOCK_MINUTES * 60
    request = _request(NAT)
    remaining = []
    for _ in range(few_free_failures + 2):
        record_address_failure(request)
        remaining.append(address_backoff_remaining(request))
    assert remaining[: few_free_failures - 1] == [0.0] * (few_free_failures - 1)
    assert 0 < remaining[-3] < remaining[-2] < remaining[-1] <= 120
    assert address_backoff_remaining(_request("10.1.1.1")) == 0.0  # another address is not concerned


def test_behind_a_proxy_the_address_is_the_one_the_proxy_wrote(client, settings, few_free_failures):
    settings.TRUST_X_FORWARDED_FOR, settings.DPI_PROXY_COUNT, settings.ALLAUTH_TRUSTED_PROXY_COUNT = True, 1, 1
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    for n in range(few_free_failures):  # one guesser, a new forged address on the left each time
        _login(client, f"guess-{n}", "wrong", HTTP_X_FORWARDED_FOR=f"1.2.3.{n}, {NAT}", **proxy)
    assert address_backoff_remaining(_request("127.0.0.1", HTTP_X_FORWARDED_FOR=NAT)) > 0
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILURE, ip_address=NAT).count() == 3
    colleague = UserFactory()  # another workstation behind the same proxy logs in as usual
    response = _login(client, colleague.username, HTTP_X_FORWARDED_FOR="10.50.0.7", **proxy)
    assert response.url == reverse("mfa_authenticate")


def _request(address: str, **meta: str):
    return RequestFactory().post(reverse("account_login"), REMOTE_ADDR=address, **meta)
