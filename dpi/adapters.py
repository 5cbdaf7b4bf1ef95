"""django-allauth adapter: no self sign-up, audit of failed and locked login attempts."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from dpi.models import AuditEvent
from dpi.services import audit


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """Accounts are created by administrators only."""
        return False

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

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        audit(
            action=AuditEvent.Action.LOGIN_FAILURE,
            request=request,
            username=credentials.get("username", ""),
        )
