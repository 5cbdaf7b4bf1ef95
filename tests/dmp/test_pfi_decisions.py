"""The one table that says whether a failed sending to the PFI may be tried again (dmp.clients.pfi), as a
fast unit test: no socket, the MLLP client's errors built as it raises them."""

from __future__ import annotations

import pytest

from dmp.clients.pfi import is_permanent
from dpi.hl7.ack import Ack
from dpi.hl7.client import TransportError
from dpi.hl7.models import Message

JOURNAL = Message(control_id="c1")  # the journal row the client keeps (never saved here)


def _ack(code: str, control_id: str = "c1") -> Ack:
    return Ack(code=code, control_id=control_id, errors=())


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (TransportError("AE", permanent=True, ack=_ack("AE"), message=JOURNAL), True),
        (TransportError("CE", permanent=True, ack=_ack("CE"), message=JOURNAL), True),
        (TransportError("AR", permanent=True, ack=_ack("AR"), message=JOURNAL), False),
        (TransportError("CR", permanent=True, ack=_ack("CR"), message=JOURNAL), False),
        (TransportError("autre message", permanent=True, ack=_ack("AA", "c2"), message=JOURNAL), False),
        (TransportError("illisible", permanent=True, message=JOURNAL), False),
        (TransportError("refusée", permanent=False, message=JOURNAL), False),
        (TransportError("charset", permanent=True), True),
    ],
    ids=["AE", "CE", "AR", "CR", "ack-of-another", "unreadable-ack", "connection", "not-encodable"],
)
def test_only_the_pfis_refusal_and_an_unencodable_message_are_permanent(error, permanent):
    assert is_permanent(error) is permanent
