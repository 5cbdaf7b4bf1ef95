"""The one path every inbound HL7 message takes: journal, duplicate check, handler, ACK.

Used by the MLLP listener, by ``manage.py hl7_ingest`` and by replay. Whatever the input,
it leaves a journal row and returns an acknowledgement; it never raises.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Sequence

from django.db import DataError, IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from dpi.hl7.ack import build_ack, encode_ack
from dpi.hl7.errors import ErrorCode, ErrorDetail, HL7ProcessingError
from dpi.hl7.models import Message
from dpi.hl7.parsing import Envelope, Header, read_envelope
from dpi.hl7.registry import Handler, HandlerResult, InboundMessage, get_handler

logger = logging.getLogger(__name__)

# How long after its reception an original without ACK is taken as still being processed on another
# connection (a duplicate waits for it); older, it was interrupted (database down, listener killed) and
# the duplicate processes it.
DUPLICATE_WAIT_SECONDS = 30.0
_DUPLICATE_POLL_SECONDS = 0.05


def process_inbound(raw: bytes, *, peer: str) -> bytes:
    """Journal ``raw``, process it at most once, and return the ACK bytes in the request's charset."""
    return _receive(raw, peer=peer, size=len(raw))


def reject_oversized(raw: bytes, *, peer: str, size: int) -> bytes:
    """Journal the first bytes of a frame of ``size`` bytes, over the limit, and answer AR."""
    return _receive(raw, peer=peer, size=size)


def reject_overloaded(raw: bytes, *, peer: str, size: int) -> bytes:
    """Journal the head of a frame of ``size`` bytes the listener had no room for, and answer AR.

    The AR asks for a resend: the resend, whole, is processed (see :func:`_answer_duplicate`).
    """
    problem = ErrorDetail(
        str(ErrorCode.APPLICATION_ERROR),
        _("Récepteur saturé : message de %(size)d octets refusé, à renvoyer plus tard") % {"size": size},
    )
    return _receive(raw, peer=peer, size=size, problem=problem)


def replay(message: Message) -> bytes:
    """Run a journal row's raw bytes through its handler again, updating the same row.

    No duplicate check: the caller (:func:`dpi.hl7.services.replay_message`) checks the
    row can be replayed and audits it.
    """
    return _process(message, read_envelope(bytes(message.raw)), again=True)


def _receive(raw: bytes, *, peer: str, size: int, problem: ErrorDetail | None = None) -> bytes:
    envelope = read_envelope(raw)
    try:
        message = _inbound_row(envelope, peer=peer, size=size, status=Message.Status.RECEIVED)
        try:
            return _journal_and_process(message, envelope, problem)
        except _AlreadyJournaled:
            duplicate, original = _journal_duplicate(message, envelope, peer=peer, size=size)
            return _answer_duplicate(duplicate, original, envelope)
    except Exception:
        # The journal itself failed (database down...): still answer, so the peer resends later.
        logger.exception("HL7 message from %s could not be journaled or answered", peer)
        return encode_ack(build_ack(envelope.header, code="AR", errors=[_internal_error()]), envelope.header)


class _AlreadyJournaled(Exception):
    """The partial unique constraint refused the row: an original with this sender and control id exists."""


def _journal_and_process(message: Message, envelope: Envelope, problem: ErrorDetail | None) -> bytes:
    """Journal the row and run the handler in one transaction: one commit per message.

    The promise of the journal is kept: the ACK goes only after the commit, so a message lost with
    its uncommitted row (process killed, database down) was never acknowledged and the sender resends
    it. A duplicate arriving meanwhile on another connection waits on the unique index for this
    transaction, then answers this row's ACK. When the handler fails, its writes and the row are
    rolled back, and the row is inserted again with the outcome, so that the message is kept.
    """
    header = envelope.header
    problem = problem or _oversize_problem(message) or envelope.problem
    if problem is not None:
        return _conclude(message, header, code="AR", errors=[problem], insert=True)
    try:
        handler, inbound = _prepare(message, envelope)
        with transaction.atomic():
            _insert(message)
            result = handler(inbound) or HandlerResult()
            return _conclude(message, header, code=result.ack_code, errors=result.warnings, note=result.note)
    except _AlreadyJournaled:
        raise
    except Exception as exc:  # every failure is answered, see _failure
        code, errors, error = _failure(exc, message)
        return _conclude(message, header, code=code, errors=errors, error=error, insert=True)


def _prepare(message: Message, envelope: Envelope) -> tuple[Handler, InboundMessage]:
    """The handler and the message handed to it; :class:`HL7ProcessingError` when it is refused before."""
    handler = get_handler(envelope.header.message_type)
    inbound = InboundMessage(text=envelope.text, journal=message, header=envelope.header)
    inbound.segment_list  # noqa: B018  (an unreadable message is refused before the handler runs)
    return handler, inbound


def _insert(message: Message) -> None:
    try:
        message.save_new()
    except IntegrityError as exc:
        raise _AlreadyJournaled from exc


def _journal_duplicate(refused: Message, envelope: Envelope, *, peer: str, size: int) -> tuple[Message, Message]:
    """The committed original of the row the unique constraint ``refused``, and the duplicate's own row."""
    original = Message.objects.exclude(status=Message.Status.DUPLICATE).get(
        direction=Message.Direction.INBOUND,
        sending_application=refused.sending_application,
        sending_facility=refused.sending_facility,
        control_id=refused.control_id,
    )
    duplicate = _inbound_row(envelope, peer=peer, size=size, status=Message.Status.DUPLICATE, duplicate_of=original)
    duplicate.save_new()
    return duplicate, original


def _inbound_row(envelope: Envelope, *, peer: str, size: int, **fields: object) -> Message:
    return Message.from_envelope(envelope, direction=Message.Direction.INBOUND, peer=peer, size=size, **fields)


def _process(message: Message, envelope: Envelope, *, again: bool = False) -> bytes:
    """Run the handler on a committed journal row, under its lock, unless the row already got a final ACK.

    For a replay (``again``: whatever the row holds) and for an original a resend finds without a final
    ACK (see :func:`_answer_duplicate`).
    """
    header = envelope.header
    problem = _oversize_problem(message) or envelope.problem
    if problem is not None:
        return _conclude(message, header, code="AR", errors=[problem])
    try:
        handler, inbound = _prepare(message, envelope)
        # Leaving the block commits the handler's writes with the row: only then is AA returned.
        with transaction.atomic():
            _lock(message)
            done = None if again else _final_ack(Message.objects.filter(pk=message.pk))
            if done is not None:  # concluded meanwhile by another connection: no second effect
                return done
            result = handler(inbound) or HandlerResult()
            return _conclude(message, header, code=result.ack_code, errors=result.warnings, note=result.note)
    except Exception as exc:  # every failure is answered, see _failure
        code, errors, error = _failure(exc, message)
        return _conclude(message, header, code=code, errors=errors, error=error)


def _failure(exc: Exception, message: Message) -> tuple[str, list[ErrorDetail], str]:
    """ACK code, ERR details and journal error of a message whose processing raised ``exc``."""
    if isinstance(exc, HL7ProcessingError):
        return exc.ack_code, [exc.detail], ""
    if isinstance(exc, DataError):  # a value the database refuses (too long for its column...): the data
        reason = _("Valeur refusée par la base : %(reason)s") % {"reason": str(exc).strip()[:200]}
        problem = ErrorDetail(str(ErrorCode.DATA_TYPE), reason)
        return "AE", [problem], ""
    logger.exception("HL7 handler failed on message %s (%s)", message.control_id, message.message_type)
    return "AR", [_internal_error()], traceback.format_exc()


def _oversize_problem(message: Message) -> ErrorDetail | None:
    if not message.truncated:
        return None
    return ErrorDetail(
        str(ErrorCode.APPLICATION_ERROR),
        _("Message trop volumineux : %(size)d octets, limite %(limit)d")
        % {"size": message.size, "limit": len(message.raw)},
    )


def _internal_error() -> ErrorDetail:
    return ErrorDetail(str(ErrorCode.APPLICATION_ERROR), _("Erreur interne de l'application"))


def _lock(message: Message) -> None:
    """Hold the row until commit: a duplicate waiting for this ACK blocks on it, not in a loop.

    ``FOR NO KEY UPDATE``, so that the duplicate's own row, whose foreign key points here, can
    still be inserted meanwhile.
    """
    list(Message.objects.select_for_update(no_key=True).filter(pk=message.pk).values_list("pk"))


def _conclude(
    message: Message,
    header: Header,
    *,
    code: str,
    errors: Sequence[ErrorDetail] = (),
    error: str = "",
    note: str = "",
    insert: bool = False,
) -> bytes:
    """Build the ACK, record the outcome on the journal row, return the ACK bytes.

    The ERR details go to the row's error, or to its note when the message is accepted (warnings).
    ``insert``: the row was rolled back with the handler's writes and is inserted with its outcome; a
    duplicate journaled meanwhile by another connection makes it :class:`_AlreadyJournaled`.
    """
    ack = encode_ack(build_ack(header, code=code, errors=errors), header)
    described = [f"[{detail.code}] {detail.text}" for detail in errors]
    if code == "AA":
        outcome = {"status": Message.Status.PROCESSED, "note": "\n".join(filter(None, [note, *described]))}
    else:
        outcome = {"status": Message.Status.ERROR, "error": error or "\n".join(described), "note": note}
    if not insert:
        message.record_outcome(ack_code=code, ack=ack, **outcome)
        return ack
    try:
        with transaction.atomic():
            message.record_outcome(ack_code=code, ack=ack, insert=True, **outcome)
    except IntegrityError as exc:
        raise _AlreadyJournaled from exc
    return ack


def _answer_duplicate(duplicate: Message, original: Message, envelope: Envelope) -> bytes:
    """The original's ACK, no second effect; an original that never concluded, or asked for a resend (AR),
    is processed now (its journaled bytes), so that the resend the sender was told to make succeeds.

    An original kept truncated (refused for lack of room in the listener) takes the resend's bytes
    when the resend is whole: those are processed."""
    ack = _wait_for_final_ack(original)
    if ack is None:
        if original.truncated and not duplicate.truncated:
            _complete_truncated(original, duplicate)
        else:
            envelope = read_envelope(bytes(original.raw))
        ack = _process(original, envelope)
        original.refresh_from_db(fields=["ack_code"])
    duplicate.record_outcome(status=Message.Status.DUPLICATE, ack_code=original.ack_code[:2], ack=ack)
    return ack


def _complete_truncated(original: Message, resend: Message) -> None:
    """Store the whole bytes of the resend on the original row kept truncated, before processing it."""
    original.store_payload(raw=resend.raw, text=resend.text, size=resend.size)


def _wait_for_final_ack(original: Message) -> bytes | None:
    """The original's final ACK; ``None`` when it was answered AR, or has no ACK and is no longer being
    processed (received more than ``DUPLICATE_WAIT_SECONDS`` ago)."""
    deadline = time.monotonic() + max(
        DUPLICATE_WAIT_SECONDS - (timezone.now() - original.received_at).total_seconds(), 0
    )
    while True:
        with transaction.atomic():  # blocks while another connection processes the original
            row = Message.objects.select_for_update(no_key=True).filter(pk=original.pk)
            ack_code, ack = row.values_list("ack_code", "ack").get()
        if ack or time.monotonic() >= deadline:
            return _final(ack_code, ack)
        time.sleep(_DUPLICATE_POLL_SECONDS)


def _final_ack(row: QuerySet[Message]) -> bytes | None:
    return _final(*row.values_list("ack_code", "ack").get())


def _final(ack_code: str, ack: bytes) -> bytes | None:
    """The ACK unless there is none or it is AR (the sender was told to resend: process again)."""
    return bytes(ack) if ack and not ack_code.startswith("AR") else None
