"""Write use cases of the HL7 journal, done by a user."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from dpi.hl7 import engine
from dpi.hl7.models import Message
from dpi.models import AuditEvent, User
from dpi.services import audit

logger = logging.getLogger(__name__)


class ReplayRefused(ValueError):
    """This journal row cannot be replayed (outbound message, or a duplicate)."""


@transaction.atomic(durable=True)
def replay_message(*, message: Message, acting_user: User | None) -> Message:
    """Run a journal entry through its handler again and record the new outcome on the same row.

    The duplicate check is skipped (the row is the original); the replay is audited in the
    same transaction, which is its own (``durable``: called inside another one, it raises rather than
    let a batch of replays commit or roll back together).
    """
    if not message.replayable:
        if message.duplicate_of_id:
            raise ReplayRefused(
                _("Un doublon ne se rejoue pas : rejouez le message d'origine n° %(id)d")
                % {"id": message.duplicate_of_id}
            )
        raise ReplayRefused(_("Seuls les messages entrants se rejouent"))
    Message.objects.filter(pk=message.pk).update(replay_count=F("replay_count") + 1)
    message.refresh_from_db()
    engine.replay(message)
    audit(
        action=AuditEvent.Action.MESSAGE_REPLAY,
        actor=acting_user,
        obj=message,
        detail={"status": message.status, "ack_code": message.ack_code, "replay_count": message.replay_count},
    )
    return message


def replay_messages(*, message_ids: Iterable[int], acting_user: User | None) -> list[Message]:
    """Replay several messages in id order, each in its own transaction; refused ones are skipped."""
    replayed = []
    for message in Message.objects.filter(pk__in=list(message_ids)).order_by("pk"):
        try:
            replayed.append(replay_message(message=message, acting_user=acting_user))
        except ReplayRefused as exc:
            logger.warning("HL7 message %s not replayed: %s", message.pk, exc)
    return replayed
