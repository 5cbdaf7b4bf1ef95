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
from dpi.hl7.registry import HandlerResult, InboundMessage, get_handler

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
        message, original = _journal(envelope, peer=peer, size=size)
        if original is not None:
            return _answer_duplicate(message, original, envelope)
        if problem is not None:
            return _conclude(message, envelope.header, code="AR", errors=[problem])
        return _process(message, envelope)
    except Exception:
        # The journal itself failed (database down...): still answer, so the peer resends later.
        logger.exception("HL7 message from %s could not be journaled or answered", peer)
        return encode_ack(build_ack(envelope.header, code="AR", errors=[_internal_error()]), envelope.header)


def _journal(envelope: Envelope, *, peer: str, size: int) -> tuple[Message, Message | None]:
    """Store the message before anything else; a duplicate gets its own row pointing at the original."""
    message = _inbound_row(envelope, peer=peer, size=size, status=Message.Status.RECEIVED)
    if not message.control_id:
        message.save_new()
        return message, None
    try:
        with transaction.atomic():
            message.save_new()
        return message, None
    except IntegrityError:
        # The partial unique constraint decided: an original with this sender and control id exists.
        original = Message.objects.exclude(status=Message.Status.DUPLICATE).get(
            direction=Message.Direction.INBOUND,
            sending_application=message.sending_application,
            sending_facility=message.sending_facility,
            control_id=message.control_id,
        )
        duplicate = _inbound_row(envelope, peer=peer, size=size, status=Message.Status.DUPLICATE, duplicate_of=original)
        duplicate.save_new()
        return duplicate, original


def _inbound_row(envelope: Envelope, *, peer: str, size: int, **fields: object) -> Message:
    return Message.from_envelope(envelope, direction=Message.Direction.INBOUND, peer=peer, size=size, **fields)


def _process(message: Message, envelope: Envelope, *, again: bool = False) -> bytes:
    """Run the handler on the journal row, under its lock, unless the row already got a final ACK.

    ``again`` (a replay) runs it whatever the row holds.
    """
    header = envelope.header
    problem = _oversize_problem(message) or envelope.problem
    if problem is not None:
        return _conclude(message, header, code="AR", errors=[problem])
    try:
        handler = get_handler(header.message_type)
        inbound = InboundMessage(text=envelope.text, journal=message, header=header)
        inbound.segment_list  # noqa: B018  (an unreadable message is refused before the handler runs)
        # Leaving the block commits the handler's writes with the row: only then is AA returned.
        with transaction.atomic():
            _lock(message)
            done = None if again else _final_ack(Message.objects.filter(pk=message.pk))
            if done is not None:  # concluded meanwhile by another connection: no second effect
                return done
            result = handler(inbound) or HandlerResult()
            return _conclude(message, header, code=result.ack_code, errors=result.warnings, note=result.note)
    except HL7ProcessingError as exc:
        return _conclude(message, header, code=exc.ack_code, errors=[exc.detail])
    except DataError as exc:  # a value the database refuses (too long for its column...): the data, not a failure
        problem = ErrorDetail(
            str(ErrorCode.DATA_TYPE), _("Valeur refusée par la base : %(reason)s") % {"reason": str(exc).strip()[:200]}
        )
        return _conclude(message, header, code="AE", errors=[problem])
    except Exception:
        logger.exception("HL7 handler failed on message %s", message.pk)
        return _conclude(message, header, code="AR", errors=[_internal_error()], error=traceback.format_exc())


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
) -> bytes:
    """Build the ACK, record the outcome on the journal row, return the ACK bytes.

    The ERR details go to the row's error, or to its note when the message is accepted (warnings).
    """
    ack = encode_ack(build_ack(header, code=code, errors=errors), header)
    described = [f"[{detail.code}] {detail.text}" for detail in errors]
    if code == "AA":
        outcome = {"status": Message.Status.PROCESSED, "note": "\n".join(filter(None, [note, *described]))}
    else:
        outcome = {"status": Message.Status.ERROR, "error": error or "\n".join(described), "note": note}
    message.record_outcome(ack_code=code, ack=ack, **outcome)
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
