"""REST API foundations: peer token authentication and the access rule for endpoints.

Peers (systems of the hospital information system) send ``Authorization: Token <token>``;
users of the web UI may call the API with their session. Every endpoint either goes
through the habilitation selector (users) or checks a peer scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from dpi.models import Peer


@dataclass
class PeerPrincipal:
    """Stands for ``request.user`` when a peer calls the API."""

    peer: Peer
    is_authenticated: bool = True
    is_active: bool = True
    is_staff: bool = False
    is_superuser: bool = False
    pk: None = None

    def __str__(self) -> str:
        return f"peer:{self.peer.name}"


class PeerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[PeerPrincipal, Peer] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("En-tête Authorization invalide.")
        token = header[1].decode("ascii", errors="replace")
        peer = Peer.objects.filter(token_hash=Peer.hash_token(token), active=True).first()
        if peer is None:
            raise exceptions.AuthenticationFailed("Jeton invalide ou révoqué.")
        Peer.objects.filter(pk=peer.pk).update(last_used_at=timezone.now())
        return PeerPrincipal(peer), peer

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


def calling_peer(request: Request) -> Peer | None:
    user = request.user
    return user.peer if isinstance(user, PeerPrincipal) else None


class PeerScopeOrUser(permissions.BasePermission):
    """Users pass (their queryset is then limited by the habilitation selector); peers need
    the view's ``peer_scope``."""

    message = "Portée du partenaire insuffisante."

    def has_permission(self, request: Request, view: Any) -> bool:
        peer = calling_peer(request)
        if peer is None:
            return bool(request.user and request.user.is_authenticated)
        return peer.has_scope(getattr(view, "peer_scope", ""))
