"""Celery tasks of the HL7 engine: thin, they call a service."""

from __future__ import annotations

from celery import shared_task

from dpi.hl7 import services
from dpi.models import User


@shared_task
def replay_messages(message_ids: list[int], user_id: int | None) -> int:
    """Replay journal entries for a user (admin action on many rows); returns how many were replayed."""
    user = User.objects.filter(pk=user_id).first() if user_id else None
    return len(services.replay_messages(message_ids=message_ids, acting_user=user))
