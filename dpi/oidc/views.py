"""The OAuth2 adapter of both providers and allauth's login and callback views bound to it.

What differs from allauth's ``openid_connect`` adapter: the discovery document is cached (the login page
and logout never wait on it twice), userinfo may be a signed JWT (PSC: ``application/jwt``), verified
against the provider's JWKS, and the ID token's signature is always verified too. The raw ID token waits in
the session for the logout (``dpi.oidc.session``).
"""

from __future__ import annotations

from typing import Any

from allauth.account.internal.decorators import login_not_required
from allauth.core import ratelimit
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.helpers import complete_social_login
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialLogin, SocialToken
from allauth.socialaccount.providers.base import AuthProcess
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from allauth.utils import build_absolute_uri
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from requests import RequestException

from dpi.models import AuditEvent
from dpi.oidc import ciba, session
from dpi.oidc.discovery import discovery
from dpi.oidc.jose import verify_jwt
from dpi.oidc.selectors import enabled_providers
from dpi.services import audit

MAX_USERINFO_BYTES = 256 * 1024


class DpiOidcAdapter(OpenIDConnectOAuth2Adapter):
    @property
    def openid_config(self) -> dict[str, Any]:
        provider = self.get_provider()
        return {**discovery(provider.server_url), **provider.app.settings.get("openid_configuration_overrides", {})}

    def complete_login(self, request: HttpRequest, app: SocialApp, token: SocialToken, **kwargs: Any) -> SocialLogin:
        id_token = kwargs["response"].get("id_token")
        if not id_token:
            raise OAuth2Error("Le fournisseur n'a pas renvoyé d'ID token.")
        data = {"id_token": self.verify(id_token, app), "userinfo": self._fetch_user_info(token.token)}
        session.keep_pending(request, app.provider_id, id_token)
        return self.get_provider().sociallogin_from_response(request, data)

    def verify(self, token: str, app: SocialApp) -> dict[str, Any]:
        config = self.openid_config
        return verify_jwt(token, jwks_uri=config["jwks_uri"], issuer=config["issuer"], audience=app.client_id)

    def _fetch_user_info(self, access_token: str) -> dict[str, Any]:
        """Userinfo as JSON, or as a JWT signed by the provider (PSC) and verified here."""
        with get_adapter().get_requests_session() as sess:
            response = sess.get(self.profile_url, headers={"Authorization": f"Bearer {access_token}"})
            response.raise_for_status()
        if len(response.content) > MAX_USERINFO_BYTES:
            raise OAuth2Error("Réponse userinfo trop volumineuse.")
        if response.headers.get("Content-Type", "").split(";")[0].strip() == "application/jwt":
            return self.verify(response.text.strip(), self.get_provider().app)
        return response.json()

    def get_callback_url(self, request: HttpRequest, app: SocialApp) -> str:
        callback_url = reverse("dpi_oidc_callback", kwargs={"provider_id": self.provider_id})
        return build_absolute_uri(request, callback_url, self.redirect_uri_protocol)


def _adapter_view(view_class: type, request: HttpRequest, provider_id: str) -> HttpResponse:
    try:
        return view_class.adapter_view(DpiOidcAdapter(request, provider_id))(request)
    except SocialApp.DoesNotExist as missing:
        raise Http404 from missing


@login_not_required
def login(request: HttpRequest, provider_id: str) -> HttpResponse:
    return _adapter_view(OAuth2LoginView, request, provider_id)


@login_not_required
def callback(request: HttpRequest, provider_id: str) -> HttpResponse:
    return _adapter_view(OAuth2CallbackView, request, provider_id)


# -- sign-in with the e-CPS through CIBA (no redirection of the browser)


@login_not_required
@require_http_methods(["GET", "POST"])
def ciba_start(request: HttpRequest, provider_id: str) -> HttpResponse:
    """The RPPS form; on POST the backchannel request, then the waiting page that polls."""
    context: dict[str, Any] = {"provider_id": provider_id, "provider_name": _provider_name(provider_id)}
    if request.method == "POST":
        limited = ratelimit.consume_or_429(request, action="dpi_ciba")
        if limited:
            return limited
        try:
            request.session[ciba.SESSION_KEY] = ciba.start(
                provider_id, ciba.national_id_from(request.POST.get("rpps", ""))
            )
        except ciba.CibaError as error:
            audit_ciba_failure(request, provider_id, error.code, request.POST.get("rpps", ""))
            return render(request, "dpi/oidc/ciba.html", {**context, "error": error.message}, status=400)
        context["pending"] = request.session[ciba.SESSION_KEY]
    return render(request, "dpi/oidc/ciba.html", context)


@login_not_required
@require_POST
def ciba_poll(request: HttpRequest, provider_id: str) -> HttpResponse:
    """One poll of the pending request: still waiting, refused, expired, or signed in (HX-Redirect)."""
    pending = request.session.get(ciba.SESSION_KEY)
    if not pending or pending["provider"] != provider_id:
        return render(request, "dpi/oidc/_ciba_state.html", {"status": "none", "provider_id": provider_id})
    outcome = ciba.poll(pending)
    if outcome.status != "pending":
        request.session.pop(ciba.SESSION_KEY, None)
    if outcome.status == "accepted":
        return _sign_in_from_ciba(request, pending, outcome.tokens or {})
    if outcome.status != "pending":
        audit_ciba_failure(request, provider_id, outcome.status, pending["national_id"])
    context = {"status": outcome.status, "message": outcome.message, "pending": pending, "provider_id": provider_id}
    return render(request, "dpi/oidc/_ciba_state.html", context)


def _sign_in_from_ciba(request: HttpRequest, pending: dict[str, Any], tokens: dict[str, Any]) -> HttpResponse:
    """The same checks and account lookup as a browser sign-in; the page then goes where allauth sends it."""
    provider_id = pending["provider"]
    provider = get_adapter().get_provider(request, provider_id)
    adapter = DpiOidcAdapter(request, provider_id)
    try:
        data = {"id_token": adapter.verify(tokens["id_token"], provider.app)}
        data["userinfo"] = adapter._fetch_user_info(tokens.get("access_token", ""))
    except (OAuth2Error, RequestException) as error:
        audit_ciba_failure(request, provider_id, "invalid_token", pending["national_id"], error=str(error))
        context = {
            "status": "error",
            "message": _("La réponse de ProSanté Connect est invalide."),
            "provider_id": provider_id,
        }
        return render(request, "dpi/oidc/_ciba_state.html", context)
    session.keep_pending(request, provider_id, tokens["id_token"])
    sociallogin = provider.sociallogin_from_response(request, data)
    sociallogin.state = {"process": AuthProcess.LOGIN, "ciba": True, "next": reverse("home")}
    response = complete_social_login(request, sociallogin)
    if response.status_code in (301, 302):
        redirect = HttpResponse(status=204)
        redirect["HX-Redirect"] = response["Location"]
        return redirect
    return HttpResponse(response.content)  # the refusal page: the poll keeps its #ciba-state (hx-select)


def audit_ciba_failure(request: HttpRequest, provider_id: str, reason: str, subject: str, error: str = "") -> None:
    detail = {"provider": provider_id, "mode": "ciba", "reason": reason} | ({"error": error[:300]} if error else {})
    audit(action=AuditEvent.Action.LOGIN_FAILURE, request=request, username=subject[:150], detail=detail)


def _provider_name(provider_id: str) -> str:
    config = settings.OIDC_PROVIDERS.get(provider_id)
    if not config or not config["enabled"] or not config["ciba"]:
        raise Http404
    return config["name"]


# -- "Mon compte": the identities linked to the account


def linked_providers(request: HttpRequest) -> dict[str, Any]:
    """What "Mon compte" shows of the providers: each enabled one, linked to the user or not, and the one the
    current session signed in with."""
    linked = {account.provider: account for account in SocialAccount.objects.filter(user=request.user)}
    providers = [{**provider, "account": linked.get(provider["id"])} for provider in enabled_providers()]
    return {"providers": providers, "signed_in": session.signed_in_with(request)}
