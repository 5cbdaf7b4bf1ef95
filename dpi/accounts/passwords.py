"""Password policy (REM SC.SSI/IAM.92, IE.36): rules of the privileged (administrator) accounts, history of
every account, expiry forcing a change at the next sign-in, and the audit of each change attempt.

The rules are Django password validators (``AUTH_PASSWORD_VALIDATORS``): every form that sets a password
(allauth's change and reset, the admin's, ``changepassword``) refuses a weak one with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from allauth.account.forms import ChangePasswordForm as AllauthChangePasswordForm
from allauth.core import context
from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dpi.middleware import BACKGROUND_HEADER
from dpi.models import AuditEvent, User
from dpi.services import audit

CHARACTER_CLASSES: dict[str, Callable[[str], bool]] = {
    "minuscule": str.islower,
    "majuscule": str.isupper,
    "chiffre": lambda char: char.isascii() and char.isdigit(),
    "caractère spécial": lambda char: not char.isalnum(),
}


def is_privileged_account(user: Any) -> bool:
    """An administrator account (staff or superuser): the strong rules apply (REM SC.SSI/IAM.92)."""
    return bool(user is not None and (getattr(user, "is_staff", False) or getattr(user, "is_superuser", False)))


class PrivilegedMinimumLengthValidator:
    """Administrator accounts: at least ``PRIVILEGED_PASSWORD_MIN_LENGTH`` characters (15 by default)."""

    def validate(self, password: str, user: Any = None) -> None:
        minimum = settings.PRIVILEGED_PASSWORD_MIN_LENGTH
        if is_privileged_account(user) and len(password) < minimum:
            raise ValidationError(
                ngettext(
                    "Compte administrateur : le mot de passe doit compter au moins %(min)d caractère.",
                    "Compte administrateur : le mot de passe doit compter au moins %(min)d caractères.",
                    minimum,
                )
                % {"min": minimum},
                code="privileged_password_too_short",
            )

    def get_help_text(self) -> str:
        return _("Compte administrateur : au moins %(min)d caractères.") % {
            "min": settings.PRIVILEGED_PASSWORD_MIN_LENGTH
        }


class PrivilegedComplexityValidator:
    """Administrator accounts: a minuscule, a majuscule, a digit and a special character (the number of
    these classes required is ``PRIVILEGED_PASSWORD_CHARACTER_CLASSES``, 4 by default)."""

    def validate(self, password: str, user: Any = None) -> None:
        if not is_privileged_account(user):
            return
        missing = [name for name, test in CHARACTER_CLASSES.items() if not any(test(char) for char in password)]
        if len(CHARACTER_CLASSES) - len(missing) < settings.PRIVILEGED_PASSWORD_CHARACTER_CLASSES:
            raise ValidationError(
                _("Compte administrateur : le mot de passe doit aussi contenir : %(missing)s.")
                % {"missing": ", ".join(missing)},
                code="privileged_password_not_complex",
            )

    def get_help_text(self) -> str:
        return _("Compte administrateur : minuscules, majuscules, chiffres et caractères spéciaux.")


PRIVILEGED_VALIDATORS = (PrivilegedMinimumLengthValidator, PrivilegedComplexityValidator)


class PasswordHistoryValidator:
    """Any account: not the current password nor one of the last ``PASSWORD_HISTORY_COUNT``."""

    def validate(self, password: str, user: Any = None) -> None:
        if not isinstance(user, User) or user.pk is None:
            return
        count = settings.PASSWORD_HISTORY_COUNT
        recent = list(user.password_history.values_list("password", flat=True)[:count])
        if any(check_password(password, encoded) for encoded in [user.password, *recent] if encoded):
            raise ValidationError(
                _("Ce mot de passe a déjà été utilisé : choisissez-en un différent des %(count)d derniers.")
                % {"count": count},
                code="password_reused",
            )

    def get_help_text(self) -> str:
        return _("Différent des %(count)d derniers mots de passe.") % {"count": settings.PASSWORD_HISTORY_COUNT}


def password_change_required(user: User) -> bool:
    """Whether the user must change their password before anything else: asked by an administrator, or,
    for a privileged account, older than ``PRIVILEGED_PASSWORD_MAX_AGE_DAYS`` (never set counts as old)."""
    if user.must_change_password:
        return True
    days = settings.PRIVILEGED_PASSWORD_MAX_AGE_DAYS
    if not is_privileged_account(user) or not user.has_usable_password() or days <= 0:
        return False
    max_age = timedelta(days=days)
    return user.password_changed_at is None or user.password_changed_at < timezone.now() - max_age


class RequirePasswordChangeMiddleware:
    """Sends a signed-in user whose password expired (or must be changed) to the password change page, from
    every page of the DPI and of the admin; allauth's pages (the change itself, logout) stay open.

    Like the mandatory notice (:class:`dpi.middleware.RequireNoticeAcknowledgementMiddleware`): an API call
    gets a JSON 403, a background poll a bare 403 (never the change page inside a badge), an htmx request a
    403 whose ``HX-Redirect`` takes the whole page there.
    """

    exempt_prefixes = ("/accounts/", "/static/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(self.exempt_prefixes)
            and password_change_required(user)
        ):
            return _to_password_change(request)
        return self.get_response(request)


def _to_password_change(request: HttpRequest) -> HttpResponse:
    url = f"{reverse('account_change_password')}?expire=1"
    message = _("Mot de passe expiré : changez-le dans le DPI avant de continuer.")
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=403)
    if BACKGROUND_HEADER in request.headers:
        return HttpResponse(message, status=403, content_type="text/plain; charset=utf-8")
    if getattr(request, "htmx", False):
        response = HttpResponse(status=403)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


class ChangePasswordForm(AllauthChangePasswordForm):
    """allauth's form; a refused attempt is audited with the reasons (error codes, never the passwords)."""

    def is_valid(self) -> bool:
        valid = super().is_valid()
        if self.is_bound and not valid:
            reasons = sorted({error.code or "invalid" for errors in self.errors.as_data().values() for error in errors})
            audit(
                action=AuditEvent.Action.PASSWORD_CHANGE_FAILURE,
                actor=self.user,
                request=context.request,
                obj=self.user,
                detail={"result": "refused", "reasons": reasons, "by": "self"},
            )
        return valid
