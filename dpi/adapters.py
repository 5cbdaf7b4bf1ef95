"""django-allauth adapter: no self sign-up, audit of failed and locked login attempts, the per-address
backoff of :mod:`dpi.login` on top of allauth's per-account lock."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dpi.login import CODE_FIELD, address_backoff_remaining, record_address_failure, totp_code_matches
from dpi.models import AuditEvent
from dpi.oidc import session as oidc_session
from dpi.services import audit


class AccountAdapter(DefaultAccountAdapter):
    # allauth's French says "pseudo": a hospital says "identifiant".
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "username_password_mismatch": gettext_lazy("L'identifiant ou le mot de passe est incorrect."),
    }

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """Accounts are created by administrators only."""
        return False

    def get_login_stages(self) -> list[str]:
        """allauth's stages, its second-factor one replaced by ours (skipped after a strong provider sign-in)."""
        return [
            "dpi.oidc.stages.SecondFactorStage" if stage == "allauth.mfa.stages.AuthenticateStage" else stage
            for stage in super().get_login_stages()
        ]

    def get_logout_redirect_url(self, request: HttpRequest) -> str:
        """After a provider sign-in, the provider's end-session endpoint (RP-initiated logout, IE.38): the
        provider's session ends too, and it sends the browser back to our login page. Asked before the
        DPI session ends (allauth's logout view), so the ID token is still there."""
        signed_in = oidc_session.signed_in_with(request)
        url = oidc_session.end_session_url(request, signed_in) if signed_in else None
        return url or super().get_logout_redirect_url(request)

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            audit(
                action=AuditEvent.Action.LOGIN_LOCKED,
                request=request,
                username=credentials.get("username", ""),
            )
            raise
        if request.user.is_authenticated or address_backoff_remaining(request) <= 0:
            return
        # The address is in backoff: the TOTP code is checked first, the password only if it matches.
        code = request.POST.get(CODE_FIELD, "")
        if not code.strip():  # not an attempt yet: nothing counts against the account
            self._rollback_login_failed_rl_usage()
        elif not totp_code_matches(credentials.get("username", ""), code):
            self.authentication_failed(request, **credentials)
        else:
            return
        raise ValidationError(
            _(
                "Trop d'échecs de connexion depuis ce poste : saisissez votre identifiant, votre mot de passe "
                "et le code de votre application d'authentification."
            ),
            code="address_backoff",
        )

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        record_address_failure(request)
        audit(
            action=AuditEvent.Action.LOGIN_FAILURE,
            request=request,
            username=credentials.get("username", ""),
            detail={"provider": "local", "result": "failure"},
        )

    def get_password_change_redirect_url(self, request: HttpRequest) -> str:
        """After a change (forced by an expiry or chosen), back to work."""
        return reverse("home")
