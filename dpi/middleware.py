"""The audit request id; mandatory second factor; mandatory notice acknowledged; idle expiry that background
polls do not reset."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from dpi.audit_context import bind
from dpi.models import NoticeAcknowledgement
from dpi.oidc import session as oidc_session

EXEMPT_PREFIXES = ("/accounts/", "/static/")


class AuditContextMiddleware:
    """One request id per HTTP request, carried by every audit row the request writes (first in the chain,
    so that the refusals and sign-in rows written by later middleware carry it too)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with bind():
            return self.get_response(request)


class RequireSecondFactorMiddleware:
    """A user without a TOTP device sets one up before anything else, unless this session was opened by a
    provider sign-in whose ``acr`` counts as strong authentication (``dpi.oidc``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(EXEMPT_PREFIXES)
            and not oidc_session.strongly_signed_in(request)
            and not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
        ):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": "Second facteur requis."}, status=403)
            return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)


BACKGROUND_HEADER = "X-DPI-Background"


LAST_ACTIVITY_KEY = "dpi_last_activity"


class IdleExpiryMiddleware:
    """Each request of the user restarts the session's idle clock; a background poll does not.

    The session is saved (its expiry pushed back by ``SESSION_COOKIE_AGE``) and the time of the user's
    last request kept in it (``idle_seconds_left`` reads it) only when the request is not marked with the
    ``X-DPI-Background`` header that the polling elements send (badge, document lines). An htmx request
    sent to the login page (the session expired under a poll or a click) is answered with ``HX-Redirect``
    so that the whole page goes to the login, never a login form swapped into a fragment.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if BACKGROUND_HEADER not in request.headers and request.user.is_authenticated:
            request.session[LAST_ACTIVITY_KEY] = int(time.time())
        response = self.get_response(request)
        htmx = getattr(request, "htmx", None)
        if htmx and response.status_code == 302 and _is_login_url(response["Location"]):
            return whole_page_to_login(htmx.current_url_abs_path or "/")
        return response


def _is_login_url(location: str) -> bool:
    return urlsplit(location).path == reverse(settings.LOGIN_URL)


def whole_page_to_login(next_path: str) -> HttpResponse:
    """For an htmx request: an empty answer that sends the whole page (not the fragment) to the login."""
    response = HttpResponse(status=200)
    response["HX-Redirect"] = f"{reverse(settings.LOGIN_URL)}?{urlencode({'next': next_path, 'expiree': 1})}"
    return response


def idle_seconds_left(request: HttpRequest) -> int:
    """Seconds before the session ends for lack of a user request (0 when it has ended)."""
    if not request.user.is_authenticated:
        return 0
    last = request.session.get(LAST_ACTIVITY_KEY)
    if last is None:
        return settings.SESSION_COOKIE_AGE
    return max(0, int(last + settings.SESSION_COOKIE_AGE - time.time()))


class RequireNoticeAcknowledgementMiddleware:
    """Sends a signed-in user to the mandatory notice until they acknowledged its current version.

    REM SC.DMP/CONF.11: every user is told, at their first login and after each change of the text,
    how their national identifier is used by the DMP, and ticks a box saying they read it. Signed in
    means password and second factor: before that the user is anonymous, and without a TOTP device
    :class:`RequireSecondFactorMiddleware` (earlier in the chain) sends them to its setup first.

    Exempt: the notice page itself, allauth's pages (logout, second factor, sessions), the admin's
    logout, static files. Peers calling the API with a token are never concerned: DRF authenticates
    them in the view, so they are anonymous here. A session user's API call gets a JSON 403; an htmx
    request a 403 whose ``HX-Redirect`` sends the whole page to the notice (never the notice inside a
    fragment); a background poll (``X-DPI-Background``) a bare 403, so that it does not take the user
    away from the page they are working on.

    Once acknowledged, the session remembers it (user and version): one query in the session's first
    request, none after. A background poll never writes the session, so it does not reset the idle clock.
    """

    SESSION_KEY = "dpi_notice_acknowledged"
    exempt_prefixes = (*EXEMPT_PREFIXES, "/admin/logout/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            not request.user.is_authenticated
            or request.path.startswith(self.exempt_prefixes)
            or request.path == reverse("notice")
            or self._acknowledged(request)
        ):
            return self.get_response(request)
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"detail": "Information obligatoire à lire dans le DPI avant de continuer."}, status=403
            )
        if BACKGROUND_HEADER in request.headers:
            return HttpResponse("Information obligatoire à lire.", status=403, content_type="text/plain; charset=utf-8")
        if getattr(request, "htmx", False):
            response = HttpResponse(status=403)
            response["HX-Redirect"] = self._notice_url(request, request.htmx.current_url_abs_path)
            return response
        if request.method in ("GET", "HEAD"):
            return redirect(self._notice_url(request, request.get_full_path()))
        # A form posted from a page opened before the notice changed: back to that page afterwards.
        return redirect(self._notice_url(request, request.headers.get("Referer")))

    def _acknowledged(self, request: HttpRequest) -> bool:
        marker = f"{request.user.pk}:{NoticeAcknowledgement.CURRENT}"
        if request.session.get(self.SESSION_KEY) == marker:
            return True
        if not NoticeAcknowledgement.objects.filter(user=request.user, notice=NoticeAcknowledgement.CURRENT).exists():
            return False
        if BACKGROUND_HEADER not in request.headers:
            request.session[self.SESSION_KEY] = marker
        return True

    @staticmethod
    def _notice_url(request: HttpRequest, next_url: str | None) -> str:
        url = reverse("notice")
        if next_url and url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            parts = urlsplit(next_url)  # a Referer is absolute: keep the path on this site
            url += "?" + urlencode({"next": urlunsplit(("", "", parts.path or "/", parts.query, ""))})
        return url
