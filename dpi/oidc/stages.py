"""allauth's second-factor login stage, skipped after a provider sign-in whose ``acr`` is strong."""

from __future__ import annotations

from allauth.mfa.stages import AuthenticateStage
from django.http import HttpRequest

from dpi.oidc import session


class SecondFactorStage(AuthenticateStage):
    def _should_handle(self, request: HttpRequest) -> bool:
        sociallogin = (self.login.signal_kwargs or {}).get("sociallogin")
        if sociallogin is not None and session.pending_is_strong(request, sociallogin.account.provider):
            return False
        return super()._should_handle(request)
