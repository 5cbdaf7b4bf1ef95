"""Mandatory second factor; idle expiry that background polls do not reset."""

from __future__ import annotations

from collections.abc import Callable

from allauth.mfa.models import Authenticator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

EXEMPT_PREFIXES = ("/accounts/", "/static/")


class RequireSecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(EXEMPT_PREFIXES)
            and not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
        ):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": "Second facteur requis."}, status=403)
            return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)


BACKGROUND_HEADER = "X-DPI-Background"


class IdleExpiryMiddleware:
    """Each request of the user restarts the session's idle clock; a background poll does not.

    The session is saved (and its cookie's expiry pushed back) only when the request is not marked
    with the ``X-DPI-Background`` header that the polling elements send (badge, document lines).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if BACKGROUND_HEADER not in request.headers:
            request.session.modified = True
        return self.get_response(request)
