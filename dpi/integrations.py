"""What every client of an external service shares (PFI over MLLP, DMP over SOAP, and the next ones).

One rule, taken from Healthchecks' transports: a failure is either *permanent* (the peer refused
what we sent, or answered something we cannot read: trying again cannot help, the user must be
told) or *transient* (timeout, connection refused or reset, the peer is overloaded: the caller may
try again later). The ``permanent`` flag alone decides between retrying and stopping.
"""

from __future__ import annotations


class TransportError(Exception):
    """A call to an external service failed; ``permanent`` says whether trying again could help.

    ``code`` is the peer's own error code when it gave one (an HL7 ACK code, a SOAP fault
    subcode), kept for the traces; ``str(error)`` is the French message shown to the user.
    """

    def __init__(self, text: str, *, permanent: bool, code: str = "") -> None:
        super().__init__(text)
        self.permanent = permanent
        self.code = code
