"""Audit rows for authentication events (login per provider, logout, second factor, password changes)."""

from __future__ import annotations

from typing import Any

from allauth.account.signals import password_changed, password_reset, password_set, user_logged_in
from allauth.mfa.signals import authentication_failed, authenticator_added, authenticator_removed
from allauth.socialaccount.signals import social_account_added, social_account_removed
from django.contrib.auth import signals as django_auth
from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver
from django.http import HttpRequest

from dpi.models import AuditEvent, User
from dpi.oidc import session as oidc_session
from dpi.services import audit


def sign_in_provider(**kwargs: Any) -> str:
    """The provider of a sign-in: allauth's social login (OpenID Connect...) names it, else the local account."""
    social = kwargs.get("sociallogin")
    account = getattr(social, "account", None)
    return str(getattr(account, "provider", "") or "local")


@receiver(user_logged_in)
def audit_login(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    provider = sign_in_provider(**kwargs)
    through_provider = provider != "local"
    oidc_session.on_logged_in(request, provider if through_provider else None)
    detail: dict[str, object] = {"provider": provider, "result": "success"}
    if through_provider:
        detail["strong"] = oidc_session.strongly_signed_in(request)
    audit(action=AuditEvent.Action.LOGIN_SUCCESS, actor=user, request=request, detail=detail)


@receiver(social_account_added)
def audit_link(sender: Any, request: HttpRequest, sociallogin: Any, **kwargs: Any) -> None:
    account = sociallogin.account
    audit(
        action=AuditEvent.Action.USER_CHANGE,
        actor=request.user if request.user.is_authenticated else None,
        request=request,
        obj=sociallogin.user,
        detail={"linked_provider": account.provider, "subject": account.uid},
    )


@receiver(social_account_removed)
def audit_unlink(sender: Any, request: HttpRequest, socialaccount: Any, **kwargs: Any) -> None:
    audit(
        action=AuditEvent.Action.USER_CHANGE,
        request=request,
        obj=socialaccount.user,
        detail={"unlinked_provider": socialaccount.provider, "subject": socialaccount.uid},
    )


# Sign-ins through allauth (local account, allauth's OpenID Connect providers) are audited above; the ModelBackend
# is only used by tests' force_login. Any other backend (mozilla-django-oidc...) signs in through Django alone.
AUDITED_BY_ALLAUTH = {
    "allauth.account.auth_backends.AuthenticationBackend",
    "django.contrib.auth.backends.ModelBackend",
}


@receiver(django_auth.user_logged_in)
def audit_login_by_another_backend(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    backend = getattr(user, "backend", "")
    if backend and backend not in AUDITED_BY_ALLAUTH:
        audit(
            action=AuditEvent.Action.LOGIN_SUCCESS,
            actor=user,
            request=request,
            detail={"provider": backend.rsplit(".", 1)[-1], "result": "success"},
        )


@receiver(password_changed)
@receiver(password_set)
@receiver(password_reset)
def audit_password_change(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    audit(
        action=AuditEvent.Action.PASSWORD_CHANGE,
        actor=user,
        request=request,
        obj=user,
        detail={"result": "success", "by": "self"},
    )


@receiver(user_logged_out)
def audit_logout(sender: Any, request: HttpRequest, user: User | None, **kwargs: Any) -> None:
    if user is not None:
        audit(action=AuditEvent.Action.LOGOUT, actor=user, request=request)


@receiver(authentication_failed)
def audit_mfa_failure(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    audit(action=AuditEvent.Action.LOGIN_MFA_FAILURE, actor=user, request=request)


def _audit_mfa_change(request: HttpRequest, user: User, authenticator: Any, change: AuditEvent.Change) -> None:
    audit(
        action=AuditEvent.Action.MFA_CHANGE,
        actor=user,
        request=request,
        change=change,
        detail={"type": authenticator.type},
    )


@receiver(authenticator_added)
def audit_mfa_added(sender: Any, request: HttpRequest, user: User, authenticator: Any, **kwargs: Any) -> None:
    _audit_mfa_change(request, user, authenticator, AuditEvent.Change.ADDED)


@receiver(authenticator_removed)
def audit_mfa_removed(sender: Any, request: HttpRequest, user: User, authenticator: Any, **kwargs: Any) -> None:
    _audit_mfa_change(request, user, authenticator, AuditEvent.Change.REMOVED)
