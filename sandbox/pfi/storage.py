"""Database access of the simulator, run in its one database thread."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.db import close_old_connections
from django.utils.translation import gettext as _

from dpi.hl7.models import db_text
from sandbox.models import PfiBehaviour, PfiMessage, PfiZam
from sandbox.pfi.reading import Mdm, Problem
from sandbox.pfi.replies import PlannedZam, _ack_code

T = TypeVar("T")


def _with_connection(function: Callable[[], T]) -> T:
    close_old_connections()
    try:
        return function()
    finally:
        close_old_connections()


def _current_behaviour() -> PfiBehaviour:
    return _with_connection(PfiBehaviour.current)


def _receive(mdm: Mdm, *, peer: str, problems: list[Problem], mode: str) -> tuple[PfiMessage, list[Problem]]:
    """Record a received message and decide its ACK: a resent MSH-10 already accepted is a duplicate
    (AA again, nothing processed twice); otherwise the ``ae``/``ar`` modes refuse what the rules accept."""

    def save() -> tuple[PfiMessage, list[Problem]]:
        final = list(problems)
        control_id = db_text(mdm.header.control_id)[:199]
        duplicate = (
            not final
            and bool(control_id)
            and PfiMessage.objects.filter(control_id=control_id, ack_code="AA", duplicate=False).exists()
        )
        if not final and not duplicate:
            final = _mode_problems(mode)
        message = PfiMessage.objects.create(
            peer=peer[:255],
            control_id=control_id,
            trigger=db_text(mdm.trigger)[:10],
            document_id=db_text(mdm.document_id)[:255],
            parent_id=db_text(mdm.parent_id)[:255],
            ins=db_text(mdm.ins)[:40],
            to_dmp=mdm.to_dmp,
            mss_recipients=[db_text(recipient.address) for recipient in mdm.recipients],
            to_patient=mdm.to_patient,
            flags={db_text(code): db_text(value) for code, value in mdm.flags.items()},
            sender=db_text(mdm.sender)[:255],
            ack_code=_ack_code(final),
            duplicate=duplicate,
            error=db_text("; ".join(problem.text for problem in final)),
            raw=db_text(mdm.envelope.text),
        )
        return message, final

    return _with_connection(save)


def _mode_problems(mode: str) -> list[Problem]:
    if mode == PfiBehaviour.Mode.AE:
        return [Problem(_("Erreur simulée de la PFI (mode AE)"))]
    if mode == PfiBehaviour.Mode.AR:
        return [Problem(_("Rejet simulé de la PFI (mode AR) : renvoyer plus tard"), ack_code="AR")]
    return []


def _record_zam(message_id: int, planned: PlannedZam, *, control_id: str, raw: str) -> PfiZam:
    def save() -> PfiZam:
        return PfiZam.objects.create(
            message_id=message_id,
            event=planned.event,
            recipient=planned.recipient.address[:255] if planned.recipient else "",
            status=planned.status,
            control_id=control_id,
            raw=raw,
        )

    return _with_connection(save)


def _record_outcome(zam_id: int, outcome: str) -> None:
    _with_connection(lambda: PfiZam.objects.filter(pk=zam_id).update(outcome=db_text(outcome)[:255]))
