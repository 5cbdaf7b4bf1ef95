"""The PFI as the feeding sees it: one MDM sent over MLLP, its answer judged by the volet's rules.

This module alone decides whether a failed sending may be tried again; the feeding reads
``TransportError.permanent`` and nothing else (``docs/feeding.md``, Failures). The MLLP client retries
nothing in the process: a retry is the order's, later, with its backoff and its ceiling.

| what happened | permanent | why |
|---|---|---|
| ACK AA or CA | — | accepted |
| ACK AE or CE (application error) | yes | the PFI refused what was sent: the same message gets the same answer |
| ACK AR or CR (application reject) | no | circumstantial: the PFI could not process it now |
| ACK unreadable, or of another message | no | the PFI may have processed it: the resend keeps its MSH-10 |
| connection refused or reset, timeout | no | the PFI is down or slow |
| the message cannot be encoded in its charset | yes | nothing was sent; the same message fails the same way |
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from dpi.hl7.ack import Ack
from dpi.hl7.client import TransportError, send

REFUSALS = ("AE", "CE")  # the PFI's application error: the message itself is at fault


@dataclass(frozen=True)
class PfiClientConfig:
    host: str
    port: int
    timeout_seconds: float

    @classmethod
    def from_settings(cls) -> PfiClientConfig:
        return cls(settings.PFI_HOST, settings.PFI_PORT, float(settings.PFI_TIMEOUT_SECONDS))


def send_mdm(message: str, config: PfiClientConfig | None = None) -> Ack:
    """Send the MDM once and return the PFI's ACK; :class:`TransportError` whose ``permanent`` follows the
    table above."""
    config = config or PfiClientConfig.from_settings()
    try:
        return send(message, host=config.host, port=config.port, timeout=config.timeout_seconds, retries=0)
    except TransportError as error:
        raise TransportError(str(error), permanent=is_permanent(error), ack=error.ack, message=error.message) from error


def is_permanent(error: TransportError) -> bool:
    """The decision of the table, from what the MLLP client saw."""
    if error.ack is not None:
        return error.ack.code in REFUSALS
    return error.message is None and error.permanent  # not encodable: never sent
