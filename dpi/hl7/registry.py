"""Handlers of inbound HL7 messages, registered by message type (MSH-9.1^MSH-9.2).

An app declares its handlers in its ``hl7`` module and imports that module from its
``AppConfig.ready()``::

    from dpi.hl7.registry import HL7ProcessingError, HandlerResult, InboundMessage, register

    @register("ADT^A01", "ADT^A04")
    def admit(msg: InboundMessage) -> HandlerResult | None:
        ...

Everything a handler author needs is importable from this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _
from hl7apy.core import Message as HL7Message

from dpi.hl7.errors import ApplicationError, ErrorCode, ErrorDetail, HL7ProcessingError
from dpi.hl7.parsing import Header, Segment, field_values, parse_hl7, read_segments

if TYPE_CHECKING:
    from dpi.hl7.models import Message

__all__ = [
    "ApplicationError",
    "ErrorCode",
    "ErrorDetail",
    "HL7ProcessingError",
    "Handler",
    "HandlerResult",
    "InboundMessage",
    "get_handler",
    "register",
    "registered",
]


@dataclass(frozen=True)
class HandlerResult:
    """What a handler may say besides success.

    ``note`` records an "ignored with AA and a note" outcome in the journal; ``warnings`` are
    sent as ERR segments of the ACK and recorded too. ``ack_code="AE"`` answers an error while
    still committing what the handler applied (e.g. an admission applied without its bad INS).
    """

    note: str = ""
    warnings: tuple[ErrorDetail, ...] = ()
    ack_code: str = "AA"


@dataclass(frozen=True)
class InboundMessage:
    """A message handed to a handler: its text, its journal row, and field accessors.

    Fields are read with a tolerant ER7 reader (:func:`dpi.hl7.parsing.read_segments`); the
    hl7apy tree (:attr:`hl7`) is built only when a handler asks for it.
    """

    text: str
    journal: Message
    header: Header

    @cached_property
    def segment_list(self) -> list[Segment]:
        return read_segments(self.text, self.header.encoding)

    @cached_property
    def hl7(self) -> HL7Message:
        return parse_hl7(self.text)

    @property
    def message_type(self) -> str:
        return self.header.message_type

    @property
    def control_id(self) -> str:
        return self.header.control_id

    def segments(self, name: str) -> list[Segment]:
        return [segment for segment in self.segment_list if segment.name == name.upper()]

    def segment(self, name: str) -> Segment | None:
        return next(iter(self.segments(name)), None)

    def values(self, path: str) -> list[str]:
        """Unescaped values of a field of the first such segment, one per repetition.

        ``path`` is ``"PID-3"``, ``"PID-3.1"`` or ``"PID-3.4.2"``; see :func:`field_values`
        for other occurrences of a repeated segment.
        """
        name, spec = path.split("-", 1)
        segment = self.segment(name)
        return field_values(segment, spec, self.header.encoding) if segment is not None else []

    def value(self, path: str) -> str:
        """First repetition of :meth:`values`, or an empty string."""
        return next(iter(self.values(path)), "")


Handler = Callable[[InboundMessage], "HandlerResult | None"]

_handlers: dict[str, Handler] = {}


def register(*message_types: str) -> Callable[[Handler], Handler]:
    """Decorator: ``handler`` processes the given ``"CODE^TRIGGER"`` message types."""

    def decorator(handler: Handler) -> Handler:
        for message_type in message_types:
            current = _handlers.get(message_type)
            if current is not None and current is not handler:
                raise ImproperlyConfigured(f"HL7 message type {message_type} already has a handler: {current}")
            _handlers[message_type] = handler
        return handler

    return decorator


def get_handler(message_type: str) -> Handler:
    """The handler of ``"CODE^TRIGGER"``; :class:`HL7ProcessingError` 200 or 201 (AR) if none."""
    handler = _handlers.get(message_type)
    if handler is not None:
        return handler
    code = message_type.split("^")[0]
    if any(known.split("^")[0] == code for known in _handlers):
        raise HL7ProcessingError(
            ErrorCode.UNSUPPORTED_EVENT,
            _("Événement non pris en charge : %(type)s") % {"type": message_type},
            location="MSH^1^9^1^2",
            ack_code="AR",
        )
    raise HL7ProcessingError(
        ErrorCode.UNSUPPORTED_MESSAGE_TYPE,
        _("Type de message non pris en charge : %(type)s") % {"type": message_type},
        location="MSH^1^9^1^1",
        ack_code="AR",
    )


@contextmanager
def registered(handler: Handler, *message_types: str) -> Iterator[Handler]:
    """Register ``handler`` for the duration of a ``with`` block (tests), then restore the registry."""
    saved = {message_type: _handlers.pop(message_type) for message_type in message_types if message_type in _handlers}
    register(*message_types)(handler)
    try:
        yield handler
    finally:
        for message_type in message_types:
            _handlers.pop(message_type, None)
        _handlers.update(saved)
