"""One inbound message through the HL7 engine, as a peer's would arrive (the MLLP socket itself is
exercised in tests/hl7), and the ACK the peer gets back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from dpi.hl7.engine import process_inbound
from dpi.hl7.models import Message


class Encodable(Protocol):
    """A message builder of the tests (``tests.pam.builder.Adt``, ``sandbox.mss_push.Mdm``)."""

    def encode(self) -> bytes: ...


@dataclass
class Ack:
    text: str
    message: Message

    @property
    def code(self) -> str:
        msa = next(line for line in self.text.split("\r") if line.startswith("MSA|"))
        return msa.split("|")[1]

    @property
    def err(self) -> list[str]:
        return [line for line in self.text.split("\r") if line.startswith("ERR|")]

    @property
    def application_code(self) -> str:
        """ERR-5.1 of the first ERR, or an empty string."""
        fields = self.err[0].split("|") if self.err else []
        return fields[5].split("^")[0] if len(fields) > 5 else ""


def send_raw(raw: bytes) -> Ack:
    ack = process_inbound(raw, peer="127.0.0.1:test")
    return Ack(ack.decode("utf-8", errors="replace"), Message.objects.order_by("-pk").first())


def send(message: Encodable | str | bytes) -> Ack:
    """Send a built message, its text (UTF-8) or its bytes; the ACK and the journal row."""
    if isinstance(message, str):
        return send_raw(message.encode())
    return send_raw(message if isinstance(message, bytes) else message.encode())
