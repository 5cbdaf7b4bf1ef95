"""Login throttling per address: a backoff that asks more of unknown attempts, never a shared lock.

Two protections, each on its own key (issue 17):

- **Per account** (allauth's ``login_failed`` rate limit keyed on the login, see ``ACCOUNT_RATE_LIMITS``):
  ``LOGIN_ATTEMPTS_LIMIT`` failures within ``LOGIN_LOCK_MINUTES`` lock that account, even with the right
  password, and are audited (``login.locked``). The second-factor step counts on its own per-account key.
- **Per address** (here): many people share one address (a hospital NAT, the reverse proxy), so the failures
  of some must not lock out the others. After ``LOGIN_ADDRESS_FREE_FAILURES`` failures from an address within
  the window, the address is in *backoff* for ``LOGIN_ADDRESS_BACKOFF_SECONDS × 2^(n - free)`` seconds after
  its last failure (capped at the window), doubling with each further failure. During the backoff the
  password step also asks for the TOTP code and checks it *before* the password: a guesser learns nothing
  and costs no password hash, while a user who gives the right password and code still gets in.
"""

from __future__ import annotations

import time

from allauth.account.adapter import get_adapter
from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.account.utils import filter_users_by_username
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import validate_totp_code
from allauth.mfa.utils import decrypt
from django import forms
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

CODE_FIELD = "code"


def _address(request: HttpRequest) -> str:
    """The caller's address as allauth's rate limits see it (X-Forwarded-For only behind a declared proxy)."""
    return get_adapter().get_client_ip(request)


def _key(address: str) -> str:
    return f"dpi:login-failures:{address}"


def _window() -> int:
    return settings.LOGIN_LOCK_MINUTES * 60


def _failures(address: str, now: float) -> list[float]:
    return [at for at in cache.get(_key(address), []) if at > now - _window()]


def record_address_failure(request: HttpRequest) -> None:
    """Count one failed attempt from the request's address (kept for the window)."""
    address, now = _address(request), time.time()
    # Not atomic across processes: two failures at the same instant may count once, which only delays
    # the backoff by one attempt.
    cache.set(_key(address), [*_failures(address, now), now], _window())


def backoff_delay(failures: int) -> float:
    """Seconds an address stays in backoff after its last failure, given its failures in the window."""
    excess = failures - settings.LOGIN_ADDRESS_FREE_FAILURES
    if excess < 0:
        return 0.0
    return float(min(settings.LOGIN_ADDRESS_BACKOFF_SECONDS * 2**excess, _window()))


def address_backoff_remaining(request: HttpRequest) -> float:
    """Seconds left in the backoff of the request's address (0: attempts from it are not asked for more)."""
    now = time.time()
    failures = _failures(_address(request), now)
    if not failures:
        return 0.0
    return max(0.0, failures[-1] + backoff_delay(len(failures)) - now)


def totp_code_matches(login: str, code: str) -> bool:
    """Whether ``code`` is a current TOTP code of the account named ``login`` (the code is not used up: the
    second-factor step that follows accepts it once more)."""
    code = code.strip()
    if not code:
        return False
    user = filter_users_by_username(login).first()
    totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first() if user else None
    return totp is not None and validate_totp_code(decrypt(totp.data["secret"]), code)


class LoginForm(AllauthLoginForm):
    """allauth's login form with the TOTP code asked at the password step while the address is in backoff."""

    code = forms.CharField(
        label=_("Code de l'application d'authentification"),
        required=False,
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.asks_code = self.request is not None and address_backoff_remaining(self.request) > 0
