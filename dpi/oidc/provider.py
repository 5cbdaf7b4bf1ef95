"""The allauth provider class of both OpenID providers (``SOCIALACCOUNT_PROVIDERS["dpi_oidc"]``).

allauth's ``openid_connect`` provider, with a nonce in every authorization request and PSC's names read
from ``SubjectRefPro`` when present. Its discovery URL is taken as configured: PSC's
``/.well-known/wallet-openid-configuration`` is kept as is.
"""

from __future__ import annotations

import secrets
from typing import Any

from allauth.socialaccount.helpers import render_authentication_error
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider, _pick_data
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.http import urlencode
from requests import RequestException

from dpi.oidc.views import DpiOidcAdapter


class DpiOidcProvider(OpenIDConnectProvider):
    id = "dpi_oidc"
    name = "OpenID Connect"
    oauth2_adapter_class = DpiOidcAdapter

    @property
    def config(self) -> dict[str, Any]:
        """This provider's entry of ``settings.OIDC_PROVIDERS``."""
        return settings.OIDC_PROVIDERS[self.app.provider_id]

    def get_login_url(self, request: HttpRequest, **kwargs: Any) -> str:
        url = reverse("dpi_oidc_login", kwargs={"provider_id": self.app.provider_id})
        return f"{url}?{urlencode(kwargs)}" if kwargs else url

    def get_callback_url(self) -> str:
        return reverse("dpi_oidc_callback", kwargs={"provider_id": self.app.provider_id})

    def get_oauth2_adapter(self, request: HttpRequest) -> DpiOidcAdapter:
        return DpiOidcAdapter(request, self.app.provider_id)

    def redirect(
        self, request: HttpRequest, process: str, next_url: str | None = None, data: Any = None, **kwargs: Any
    ) -> HttpResponse:
        """The authorization request, with a nonce the ID token must carry back (checked by the adapter)."""
        nonce = secrets.token_hex(32)
        auth_params = kwargs.pop("auth_params", None) or self.get_auth_params()
        try:
            return super().redirect(
                request, process, next_url, data, auth_params={**auth_params, "nonce": nonce}, nonce=nonce, **kwargs
            )
        except RequestException as error:  # the discovery document could not be read: the provider is away
            return render_authentication_error(request, self, exception=error)

    def extract_common_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        fields = super().extract_common_fields(data)
        exercises = (_pick_data(data).get("SubjectRefPro") or {}).get("exercices") or []
        if exercises:
            fields["last_name"] = exercises[0].get("nomDexercice") or fields["last_name"]
            fields["first_name"] = exercises[0].get("prenomDexercice") or fields["first_name"]
        return fields


provider_classes = [DpiOidcProvider]
