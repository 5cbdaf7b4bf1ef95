"""Errors that end up in an ERR segment of an acknowledgement."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ErrorCode(IntEnum):
    """HL7 table 0357, message error condition codes (ERR-3)."""

    SEGMENT_SEQUENCE = 100
    REQUIRED_FIELD_MISSING = 101
    DATA_TYPE = 102
    TABLE_VALUE_NOT_FOUND = 103
    UNSUPPORTED_MESSAGE_TYPE = 200
    UNSUPPORTED_EVENT = 201
    UNSUPPORTED_PROCESSING_ID = 202
    UNSUPPORTED_VERSION = 203
    APPLICATION_ERROR = 207

    @property
    def label(self) -> str:
        """The HL7 label, in English as the table defines it (ERR-3.2 is read by machines)."""
        return _LABELS[self]


_LABELS = {
    ErrorCode.SEGMENT_SEQUENCE: "Segment sequence error",
    ErrorCode.REQUIRED_FIELD_MISSING: "Required field missing",
    ErrorCode.DATA_TYPE: "Data type error",
    ErrorCode.TABLE_VALUE_NOT_FOUND: "Table value not found",
    ErrorCode.UNSUPPORTED_MESSAGE_TYPE: "Unsupported message type",
    ErrorCode.UNSUPPORTED_EVENT: "Unsupported event code",
    ErrorCode.UNSUPPORTED_PROCESSING_ID: "Unsupported processing id",
    ErrorCode.UNSUPPORTED_VERSION: "Unsupported version id",
    ErrorCode.APPLICATION_ERROR: "Application internal error",
}

SEVERITIES = ("E", "F", "I", "W")  # HL7 table 0516


@dataclass(frozen=True)
class ApplicationError:
    """An application-specific error code, sent in ERR-5 with error 207."""

    code: str
    label: str
    system: str = "applicationErrorCode"


@dataclass(frozen=True)
class ErrorDetail:
    """One ERR segment: what went wrong (ERR-3), where (ERR-2), how bad (ERR-4), and a readable text."""

    code: str
    text: str = ""
    location: str = ""
    severity: str = "E"
    application_error: ApplicationError | None = None

    @property
    def label(self) -> str:
        try:
            return ErrorCode(int(self.code)).label
        except ValueError:
            return ""


class HL7ProcessingError(Exception):
    """Raised by a handler (or the engine) to answer AE/AR with an ERR segment.

    ``HL7ProcessingError(ErrorCode.REQUIRED_FIELD_MISSING, "PID-3 absent", location="PID^1^3")``
    """

    def __init__(
        self,
        code: int,
        text: str,
        location: str | None = None,
        severity: str = "E",
        ack_code: str = "AE",
        application_error: ApplicationError | None = None,
    ) -> None:
        if ack_code not in ("AE", "AR"):
            raise ValueError(f"ack_code must be AE or AR, not {ack_code!r}")
        if severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {severity!r}")
        super().__init__(f"{int(code)} {text}")
        self.ack_code = ack_code
        self.detail = ErrorDetail(
            code=str(int(code)),
            text=str(text),
            location=location or "",
            severity=severity,
            application_error=application_error,
        )
