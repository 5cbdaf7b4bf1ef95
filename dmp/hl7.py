"""ZAM business acknowledgements from the PFI (ZAM^Z01 DMP receipt, ^Z02 MSSanté delivery, ^Z03 MSSanté read).

The status OBX names the acknowledged MDM by its MSH-10 in OBX-4; the second OBX (XTN) names the
recipient or reader for Z02/Z03; an ERR-5 gives the DMP, SMTP or applicative error when the
status is N. Coding-system names differ between the volet and its samples: only codes are read.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from dmp.models import BusinessAck, FeedingOrder
from dmp.services.feeding import record_business_ack
from dpi.hl7.parsing import Segment, field_values
from dpi.hl7.registry import ErrorCode, HandlerResult, HL7ProcessingError, InboundMessage, register
from patients.pam import parse_ts

STATUS_CODES = {"Z01": "ACK_RECEPTION_DMP", "Z02": "ACK_RECEPTION_MSS", "Z03": "ACK_LECTURE_MSS"}


@register("ZAM^Z01", "ZAM^Z02", "ZAM^Z03")
def receive_business_ack(msg: InboundMessage) -> HandlerResult | None:
    event = msg.header.trigger_event
    status = _status_segment(msg, event)
    control_id = _value(msg, status, "4").strip()
    order = FeedingOrder.objects.select_related("document").filter(control_id=control_id).first()
    if order is None:
        raise HL7ProcessingError(
            ErrorCode.APPLICATION_ERROR,
            _("Aucun envoi du DPI ne porte le MSH-10 %(id)s") % {"id": control_id},
            location="OBX^1^4",
        )
    flag = _value(msg, status, "5.1").upper()
    if flag not in ("Y", "N"):
        raise HL7ProcessingError(ErrorCode.TABLE_VALUE_NOT_FOUND, _("Statut Y ou N attendu en OBX-5"), "OBX^1^5")
    record_business_ack(
        order=order,
        event=event,
        success=flag == "Y",
        recipient=_recipient(msg),
        error=_error(msg) if flag == "N" else "",
        event_at=parse_ts(msg.value("EVN-2")),
        message=msg.journal,
    )
    return None


def _status_segment(msg: InboundMessage, event: str) -> Segment:
    for segment in msg.segments("OBX"):
        if _value(msg, segment, "3.1") == STATUS_CODES.get(event):
            return segment
    raise HL7ProcessingError(
        ErrorCode.REQUIRED_FIELD_MISSING,
        _("OBX de statut %(code)s absent") % {"code": STATUS_CODES.get(event, "?")},
        location="OBX^1^3",
    )


def _recipient(msg: InboundMessage) -> str:
    """Z02/Z03: the address in OBX-5.4 of the XTN OBX (DESTINATAIRE_MSS / LECTEUR_MSS)."""
    for segment in msg.segments("OBX"):
        if _value(msg, segment, "2") == "XTN":
            return _value(msg, segment, "5.4").strip().lower()
    return ""


def _error(msg: InboundMessage) -> str:
    code, label = msg.value("ERR-5.1"), msg.value("ERR-5.2")
    if not code and not label:
        return _("Refus sans motif précisé")
    return f"{label} ({code})" if code else label


def _value(msg: InboundMessage, segment: Segment, spec: str) -> str:
    return next(iter(field_values(segment, spec, msg.header.encoding)), "")


__all__ = ["BusinessAck", "receive_business_ack"]
