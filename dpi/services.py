"""Write use cases of the foundation: the audit trail, API peers, acknowledged notices.

Every service that changes something the audit trail covers calls :func:`audit` inside its
own transaction, so the change and its audit row commit or roll back together.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone

from dpi.audit_context import current_request_id
from dpi.models import AuditEvent, NoticeAcknowledgement, Peer, User


def client_ip(request: HttpRequest | None) -> str | None:
    """The caller's address; X-Forwarded-For is trusted only behind a declared proxy, and only the entry our
    proxies wrote (``DPI_PROXY_COUNT`` from the right: the client can put anything to its left). The same
    address as allauth's rate limits and :mod:`dpi.login` use (``ALLAUTH_TRUSTED_PROXY_COUNT``)."""
    if request is None:
        return None
    if settings.TRUST_X_FORWARDED_FOR:
        forwarded = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if len(forwarded) >= settings.DPI_PROXY_COUNT > 0 and forwarded[-settings.DPI_PROXY_COUNT]:
            return forwarded[-settings.DPI_PROXY_COUNT]
    return request.META.get("REMOTE_ADDR") or None


def audit(**fields: Any) -> AuditEvent:
    """Append one row to the audit trail (the fields of :func:`audit_row`)."""
    row = audit_row(**fields)
    row.save()
    return row


def audit_row(
    *,
    action: str,
    actor: User | None = None,
    request: HttpRequest | None = None,
    peer: Peer | None = None,
    obj: models.Model | None = None,
    patient_id: int | None = None,
    emergency: bool = False,
    username: str = "",
    change: AuditEvent.Change | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """One row of the audit trail, unsaved (:func:`audit` saves it; several go in one ``bulk_create``).

    The actor defaults to the request's authenticated user; ``username`` records the login
    typed in a failed attempt, when there is no user. ``change`` is a listed kind (a value outside
    :class:`AuditEvent.Change` raises ``ValueError``); ``before``/``after`` are the changed values, JSON-ready.
    The request id is the current unit of work's (:mod:`dpi.audit_context`).
    """
    if actor is None and isinstance(getattr(request, "user", None), User):
        actor = request.user if request.user.is_authenticated else None
    return AuditEvent(
        action=action,
        change=AuditEvent.Change(change) if change else "",
        request_id=current_request_id(),
        before=before,
        after=after,
        actor=actor,
        actor_username=actor.get_username() if actor else username[:150],
        actor_rpps=(actor.rpps or "") if actor else "",
        peer=peer.name if peer else "",
        ip_address=client_ip(request),
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        patient_id=patient_id,
        emergency=emergency,
        detail=detail or {},
    )


def stamp_once(obj: models.Model, *, at: str, by: str, user: User, already: str) -> models.Model:
    """Record once who did something to ``obj`` and when (fields ``at`` and ``by``), under a row lock;
    a second time raises ``ValidationError(already)``. Call it inside the caller's transaction."""
    locked = type(obj)._default_manager.select_for_update().get(pk=obj.pk)
    if getattr(locked, at) is not None:
        raise ValidationError(already)
    setattr(locked, at, timezone.now())
    setattr(locked, by, user)
    locked.save(update_fields=[at, by])
    return locked


def close_sessions(users: models.QuerySet[User]) -> int:
    """Close every session of these users (allauth's user sessions and Django's sessions)."""
    from allauth.usersessions.models import UserSession
    from django.contrib.sessions.models import Session

    keys = list(UserSession.objects.filter(user__in=users).values_list("session_key", flat=True))
    UserSession.objects.filter(user__in=users).delete()
    deleted, _detail = Session.objects.filter(session_key__in=keys).delete()
    return deleted


@transaction.atomic
def create_peer(*, name: str, scopes: list[str], acting_user: User | None = None) -> tuple[Peer, str]:
    """Create an API peer and return it with its token (shown once, only its hash is kept)."""
    token = secrets.token_urlsafe(32)
    peer = Peer.objects.create(name=name, token_hash=Peer.hash_token(token), token_prefix=token[:8], scopes=scopes)
    audit(action=AuditEvent.Action.PEER_CHANGE, actor=acting_user, obj=peer, detail={"created": True, "scopes": scopes})
    return peer, token


@transaction.atomic
def acknowledge_notice(*, acting_user: User, notice: str, request: HttpRequest | None = None) -> NoticeAcknowledgement:
    """Record that ``acting_user`` has read the mandatory ``notice`` (a version key), with its audit row.

    Once per user and version: acknowledging again (a second tab, a double click) returns the first
    record and writes nothing.
    """
    acknowledgement, created = NoticeAcknowledgement.objects.get_or_create(
        user=acting_user, notice=notice, defaults={"ip_address": client_ip(request)}
    )
    if created:
        audit(
            action=AuditEvent.Action.NOTICE_ACK,
            actor=acting_user,
            request=request,
            obj=acknowledgement,
            detail={"notice": notice},
        )
    return acknowledgement
