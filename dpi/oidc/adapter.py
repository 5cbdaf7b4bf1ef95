"""Which DPI account a provider identity lands on, or why it is refused (REM SC.PSC.02, SC.PSC.08).

- **PSC** (``link_by="rpps"``): the account whose national identifier (8 + RPPS, or 0 + ADELI) equals the
  ``SubjectNameID`` claim; it is linked at the first sign-in. An unknown identifier is refused: no account is
  ever created by a sign-in, none is ever found by e-mail.
- **The hospital's provider** (``link_by="linked"``): only an identity linked beforehand, by its owner signed
  in on the DPI ("Mon compte", allauth's *connect*) or by an administrator (admin *Comptes
  sociaux*, ``dpi/oidc/admin.py``). An unlinked identity is refused with the way to link it.
- Every provider answer is checked: the ``nonce`` of our request, the ``acr`` the provider must confirm (PSC:
  ``eidas1``), the same ``sub`` in the ID token and userinfo. A sign-in whose ``acr`` is in ``strong_acr`` is
  strong: no TOTP on top (:mod:`dpi.oidc.stages`).

Every refusal is audited (``login.failure``, detail: provider, reason, subject) and shown in French.
"""

from __future__ import annotations

from typing import Any

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from allauth.socialaccount.providers.base import AuthProcess
from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import render
from django.utils.translation import gettext as _

from dpi.models import AuditEvent, User
from dpi.oidc import session
from dpi.services import audit

NATIONAL_ID_FIELDS = {"8": "rpps", "0": "adeli"}


class Refusal(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def claims_of(sociallogin: SocialLogin) -> tuple[dict[str, Any], dict[str, Any]]:
    """The verified ID token and userinfo of a provider answer."""
    data = sociallogin.account.extra_data
    return data.get("id_token") or {}, data.get("userinfo") or {}


def subject_of(sociallogin: SocialLogin) -> str:
    """What identifies the person at the provider: ``SubjectNameID`` at PSC, ``sub`` elsewhere."""
    id_token, userinfo = claims_of(sociallogin)
    return str(userinfo.get("SubjectNameID") or id_token.get("SubjectNameID") or userinfo.get("sub") or "")


def user_by_national_id(national_id: str) -> User | None:
    field = NATIONAL_ID_FIELDS.get(national_id[:1])
    if field is None or len(national_id) < 2:
        return None
    return User.objects.filter(**{field: national_id[1:], "national_id_type": field.upper()}).first()


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        """Accounts are created by administrators (or the directory), never by a provider sign-in."""
        return False

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        provider_id = sociallogin.account.provider
        config = settings.OIDC_PROVIDERS[provider_id]
        try:
            self._check_answer(sociallogin, config)
            if sociallogin.state.get("process") == AuthProcess.CONNECT:
                self._check_link(request, sociallogin, config)
            else:
                self._find_account(request, sociallogin, config)
        except Refusal as refusal:
            self._refuse(request, provider_id, sociallogin, refusal)
        acr = claims_of(sociallogin)[0].get("acr", "")
        if acr and acr in config["strong_acr"]:
            session.mark_strong(request, provider_id, acr)

    def on_authentication_error(
        self,
        request: HttpRequest,
        provider: Any,
        error: str | None = None,
        exception: Exception | None = None,
        extra_context: dict[str, Any] | None = None,
    ) -> None:
        """A provider answer that never reached the account lookup: cancelled, error, bad token..."""
        session.drop_pending(request)
        audit(
            action=AuditEvent.Action.LOGIN_FAILURE,
            request=request,
            detail={
                "provider": provider.app.provider_id,
                "reason": str(error or "error"),
                "error": str(exception or "")[:300],
                "provider_error": request.GET.get("error", "")[:100],
            },
        )

    # -- checks

    @staticmethod
    def _check_answer(sociallogin: SocialLogin, config: dict[str, Any]) -> None:
        id_token, userinfo = claims_of(sociallogin)
        expected_nonce = sociallogin.state.get("nonce")
        if not sociallogin.state.get("ciba") and (not expected_nonce or id_token.get("nonce") != expected_nonce):
            raise Refusal("nonce", _("La réponse du fournisseur d'identité ne correspond pas à la demande du DPI."))
        if userinfo and userinfo.get("sub") != id_token.get("sub"):
            raise Refusal("sub_mismatch", _("Le fournisseur d'identité a renvoyé deux identités différentes."))
        if config["required_acr"] and id_token.get("acr") != config["required_acr"]:
            raise Refusal(
                "acr",
                _("Le niveau d'authentification exigé (%(acr)s) n'a pas été confirmé par le fournisseur d'identité.")
                % {"acr": config["required_acr"]},
            )

    @staticmethod
    def _check_link(request: HttpRequest, sociallogin: SocialLogin, config: dict[str, Any]) -> None:
        """Linking from "Mon compte": the identity must be the signed-in user's own."""
        user = request.user
        if sociallogin.is_existing and sociallogin.user != user:
            raise Refusal("linked_elsewhere", _("Cette identité est déjà reliée à un autre compte du DPI."))
        if config["link_by"] == "rpps" and subject_of(sociallogin) != user.national_id:
            raise Refusal(
                "rpps_mismatch",
                _("L'identifiant national de cette carte (%(id)s) n'est pas celui de votre compte.")
                % {"id": subject_of(sociallogin)},
            )

    @staticmethod
    def _find_account(request: HttpRequest, sociallogin: SocialLogin, config: dict[str, Any]) -> None:
        subject = subject_of(sociallogin)
        if sociallogin.is_existing:
            user = sociallogin.user
            if config["link_by"] == "rpps" and user.national_id != subject:
                raise Refusal("rpps_changed", _("L'identifiant national de ce compte a changé : reliez-le à nouveau."))
        elif config["link_by"] == "rpps":
            user = user_by_national_id(subject)
            if user is None:
                raise Refusal(
                    "unknown_rpps",
                    _(
                        "Aucun compte du DPI ne porte l'identifiant national %(id)s. Demandez à l'administrateur "
                        "du DPI de créer votre compte avec votre RPPS, puis reconnectez-vous."
                    )
                    % {"id": subject},
                )
        else:
            raise Refusal(
                "not_linked",
                _(
                    "Ce compte de l'hôpital n'est relié à aucun compte du DPI. Connectez-vous une première fois "
                    "autrement (identifiant et mot de passe, ou ProSanté Connect), puis reliez-le depuis « Mon "
                    "compte »."
                ),
            )
        if not user.is_active:
            raise Refusal("inactive", _("Ce compte du DPI est désactivé."))
        if not sociallogin.is_existing:
            sociallogin.connect(request, user)

    @staticmethod
    def _refuse(request: HttpRequest, provider_id: str, sociallogin: SocialLogin, refusal: Refusal) -> None:
        session.drop_pending(request)
        subject = subject_of(sociallogin)
        audit(
            action=AuditEvent.Action.LOGIN_FAILURE,
            request=request,
            username=subject,
            detail={"provider": provider_id, "reason": refusal.reason, "subject": subject},
        )
        context = {"provider_name": settings.OIDC_PROVIDERS[provider_id]["name"], "message": refusal.message}
        raise ImmediateHttpResponse(render(request, "dpi/oidc/refused.html", context, status=403))
