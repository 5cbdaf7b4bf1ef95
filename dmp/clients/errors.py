"""Typed errors of the DMP clients, each with a French message for the user.

A :class:`DmpError` is a :class:`dpi.integrations.TransportError`: ``permanent`` says whether
asking again could help (a refusal of the DMP: no; a timeout: yes). ``code`` is the DMP's own
fault code, kept in the traces.
"""

from __future__ import annotations

from dpi.integrations import TransportError


class DmpError(TransportError):
    """A DMP transaction failed."""


class DmpUnavailable(DmpError):
    """Transient: connection refused or reset, TLS failure, timeout, HTTP 5xx without a SOAP fault."""

    def __init__(self, text: str, *, code: str = "") -> None:
        super().__init__(text, permanent=False, code=code)


class DmpRefused(DmpError):
    """Permanent: the DMP answered a SOAP fault or an XDS error (no DMP, closed, not authorised,
    professional blocked by the patient, bad signature, bad INS, bad request...)."""

    def __init__(self, text: str, *, code: str) -> None:
        super().__init__(text, permanent=True, code=code)


class DmpProtocolError(DmpError):
    """Permanent: the answer cannot be read (not SOAP, not the expected message, broken MTOM)."""

    def __init__(self, text: str) -> None:
        super().__init__(text, permanent=True, code="protocol")
