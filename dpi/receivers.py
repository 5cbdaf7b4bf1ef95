"""Audit rows for authentication events (login, logout, second factor)."""

from __future__ import annotations

from typing import Any

from allauth.account.signals import user_logged_in
from allauth.mfa.signals import authentication_failed, authenticator_added, authenticator_removed
from allauth.socialaccount.signals import social_account_added, social_account_removed
from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver
from django.http import HttpRequest

from dpi.models import AuditEvent, User
from dpi.oidc import session as oidc_session
from dpi.services import audit


@receiver(user_logged_in)
def audit_login(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    sociallogin = kwargs.get("sociallogin")
    provider_id = sociallogin.account.provider if sociallogin is not None else None
    oidc_session.on_logged_in(request, provider_id)
    detail = {"provider": provider_id, "strong": oidc_session.strongly_signed_in(request)} if provider_id else None
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


@receiver(user_logged_out)
def audit_logout(sender: Any, request: HttpRequest, user: User | None, **kwargs: Any) -> None:
    if user is not None:
        audit(action=AuditEvent.Action.LOGOUT, actor=user, request=request)


@receiver(authentication_failed)
def audit_mfa_failure(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    audit(action=AuditEvent.Action.LOGIN_MFA_FAILURE, actor=user, request=request)


def _audit_mfa_change(request: HttpRequest, user: User, authenticator: Any, change: str) -> None:
    audit(
        action=AuditEvent.Action.MFA_CHANGE,
        actor=user,
        request=request,
        detail={"type": authenticator.type, "change": change},
    )


@receiver(authenticator_added)
def audit_mfa_added(sender: Any, request: HttpRequest, user: User, authenticator: Any, **kwargs: Any) -> None:
    _audit_mfa_change(request, user, authenticator, "added")


@receiver(authenticator_removed)
def audit_mfa_removed(sender: Any, request: HttpRequest, user: User, authenticator: Any, **kwargs: Any) -> None:
    _audit_mfa_change(request, user, authenticator, "removed")
