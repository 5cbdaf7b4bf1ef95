"""Operational facts written straight into the tables the indicators read (no worker, no PFI)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime

from dmp.models import BusinessAck, FeedingChannel, FeedingOrder, OrderKind, OrderState
from documents.models import Document, DocumentVersion, Provenance, Status
from dpi.hl7.ack import new_control_id
from dpi.hl7.models import Message
from patients.models import Episode, Patient
from stats.services import mark_stale

_numbers = itertools.count(1)
PATIENT_MAIL = "{ins}@patient.mssante.fr"
PRO_ADDRESS = "dr.martin@hop.mssante.fr"


def shared_message() -> Message:
    """The message every business ack points to (the tables need one; the indicators never read it)."""
    return Message.objects.create(
        direction=Message.Direction.INBOUND, status=Message.Status.PROCESSED, raw=b"MSH", size=3,
        message_type="ACK^Z01^ACK", control_id=new_control_id(), ack_code=Message.AckCode.ACCEPTED,
    )  # fmt: skip


@dataclass
class Ack:
    event: str
    success: bool
    recipient: str = ""


@dataclass
class OrderFact:
    """One order of a document: its channel, state, moment (``sent_at`` when sent, else ``due_at``)."""

    channel: str
    state: str
    at: datetime
    kind: str = OrderKind.AUTOMATIC
    acks: list[Ack] = field(default_factory=list)
    mss_recipients: list[str] = field(default_factory=list)
    mss_patient: bool = False


def document(
    episode: Episode, type_code: str, *, finess: str, status: str = Status.VALIDATED,
    provenance: str = Provenance.PRODUCED, act_date: datetime | None = None,
) -> Document:  # fmt: skip
    return Document.objects.create(
        patient_id=episode.patient_id, episode=episode, set_id=f"set-{next(_numbers)}", type_code=type_code,
        type_label=type_code, title="Document", act_date=act_date or episode.admitted_at, provenance=provenance,
        status=status, care_unit_id=episode.care_unit_id, finess_eg=finess,
    )  # fmt: skip


def send(document: Document, orders: list[OrderFact], message: Message) -> None:
    """One version per order (a retry of a new version is a new order), with its business acks."""
    versions = DocumentVersion.objects.bulk_create(
        DocumentVersion(document=document, version_number=n, cda_id_root="1.2.3", cda_id_extension=f"{document.pk}.{n}")
        for n, _ in enumerate(orders, start=1)
    )
    created = FeedingOrder.objects.bulk_create(
        FeedingOrder(
            document=document, version=version, channel=fact.channel, kind=fact.kind, state=fact.state,
            due_at=fact.at, sent_at=fact.at if fact.state == OrderState.SENT else None,
            reason="" if fact.state not in (OrderState.FAILED, OrderState.REFUSED) else "refus",
            control_id=new_control_id(), mss_recipients=fact.mss_recipients, mss_patient=fact.mss_patient,
        )
        for version, fact in zip(versions, orders, strict=True)
    )  # fmt: skip
    BusinessAck.objects.bulk_create(
        BusinessAck(order=order, event=ack.event, success=ack.success, recipient=ack.recipient, message=message)
        for order, fact in zip(created, orders, strict=True)
        for ack in fact.acks
    )
    mark_stale([document.pk])  # a bulk write bypasses the saves that mark it


def dmp(state: str, at: datetime, *acks: bool, kind: str = OrderKind.AUTOMATIC) -> OrderFact:
    return OrderFact(FeedingChannel.DMP, state, at, kind, [Ack(BusinessAck.Event.Z01, ok) for ok in acks])


def mss(state: str, at: datetime, *, pro: tuple[bool, ...] | None = None, patient: tuple[bool, ...] | None = None,
        patient_address: str = "") -> OrderFact:  # fmt: skip
    """An MSSanté order to one professional (``pro`` not None) and/or the patient, with their Z02 acks."""
    acks = [Ack(BusinessAck.Event.Z02, ok, PRO_ADDRESS) for ok in pro or ()]
    acks += [Ack(BusinessAck.Event.Z02, ok, patient_address) for ok in patient or ()]
    return OrderFact(
        FeedingChannel.MSS, state, at, acks=acks, mss_recipients=[PRO_ADDRESS] if pro is not None else [],
        mss_patient=patient is not None,
    )  # fmt: skip


def patient_address(patient: Patient) -> str:
    return PATIENT_MAIL.format(ins=patient.ins or patient.pk)
