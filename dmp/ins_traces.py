"""The DMP and MSSanté sendings among a patient's INS transmissions (``patients.ins_traces``, REM INS/va1.46):
the HL7 messages sent to the PFI, the DMP transactions, and each recipient of a sending the PFI accepted."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Q

from dmp.models import BusinessAck, DmpTransaction, FeedingChannel, FeedingOrder, OrderState
from dpi.hl7.models import Message
from dpi.validators import INS_MATRICULE
from patients.ins_traces import Transmission, transmission_source
from patients.models import Patient


def _carries_ins(patient_ids: str) -> bool:
    return any(INS_MATRICULE.fullmatch(token) for token in patient_ids.split())


def _pfi_messages(ins_values: set[str], orders: list[FeedingOrder]) -> list[Message]:
    """Outbound HL7 messages whose PID-3 carried one of the patient's INS, or the patient's sendings'."""
    carrying = Q()
    for ins in ins_values:
        carrying |= Q(patient_ids__contains=ins)
    linked = Q(pk__in=[order.message_id for order in orders if order.message_id])
    if not carrying and not linked:
        return []
    found = Message.objects.filter(carrying | linked, direction=Message.Direction.OUTBOUND).defer("raw", "text", "ack")
    return [message for message in found if _carries_ins(message.patient_ids)]


def _message_row(message: Message, orders: dict[int, FeedingOrder]) -> Transmission:
    order = orders.get(message.pk)
    what = message.message_type
    if order is not None:
        what += f" · {order.get_channel_display()} · {order.document.title} (v{order.version.version_number})"
    partner = " ".join(filter(None, (message.receiving_application, message.receiving_facility))) or message.peer
    outcome = message.get_ack_code_display() if message.ack_code else message.get_status_display()
    return Transmission(message.received_at, "PFI", partner, what, f"MSH-10 {message.control_id}", outcome)


def _dmp_rows(identities: list[int], ins_values: set[str]) -> Iterator[Transmission]:
    calls = DmpTransaction.objects.filter(Q(patient__in=identities) | Q(ins__in=ins_values)).exclude(ins="")
    for call in calls.order_by("-at"):
        system = "DRIMbox" if call.kind == DmpTransaction.Kind.DRIMBOX else "DMP"
        what = " · ".join(filter(None, (call.detail, call.user_name, f"INS {call.ins}")))
        yield Transmission(call.at, system, "", what, call.get_kind_display(), call.get_outcome_display())


def _acks(order: FeedingOrder) -> dict[str, BusinessAck]:
    """The latest business acknowledgement per recipient ("" for the DMP)."""
    return {ack.recipient: ack for ack in sorted(order.acks.all(), key=lambda ack: (ack.received_at, ack.pk))}


def _ack_text(ack: BusinessAck | None) -> str:
    if ack is None:
        return "envoyé à la PFI"
    return f"{ack.get_event_display()} : {'succès' if ack.success else 'échec'}" + (
        f" ({ack.error})" if ack.error else ""
    )


def _sending_rows(order: FeedingOrder) -> Iterator[Transmission]:
    """A sending accepted by the PFI: the DMP, or each MSSanté recipient."""
    what = f"{order.get_purpose_display()} · {order.document.title} (v{order.version.version_number})"
    reference = f"MSH-10 {order.control_id}"
    acks = _acks(order)
    if order.channel == FeedingChannel.DMP:
        ack = next(iter(reversed(acks.values())), None)
        yield Transmission(order.sent_at, "DMP (via la PFI)", "DMP du patient", what, reference, _ack_text(ack))
        return
    for address in order.mss_recipients:
        yield Transmission(order.sent_at, "MSSanté", address, what, reference, _ack_text(acks.get(address)))
    if order.mss_patient:
        ack = next((ack for recipient, ack in acks.items() if recipient not in order.mss_recipients), None)
        yield Transmission(order.sent_at, "MSSanté", "BAL MSSanté du patient", what, reference, _ack_text(ack))


@transmission_source
def feeding_transmissions(patient: Patient, identities: list[int], ins_values: set[str]) -> list[Transmission]:
    orders = list(
        FeedingOrder.objects.filter(document__patient__in=identities)
        .select_related("document", "version", "message")
        .prefetch_related("acks")
    )
    messages = _pfi_messages(ins_values, orders)
    by_message = {order.message_id: order for order in orders if order.message_id}
    rows = [_message_row(message, by_message) for message in messages]
    rows += _dmp_rows(identities, ins_values)
    for order in orders:
        if order.state == OrderState.SENT and order.message and _carries_ins(order.message.patient_ids):
            rows += _sending_rows(order)
    return rows
