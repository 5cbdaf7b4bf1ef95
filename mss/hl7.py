"""Inbound MDM of the volet "Transmission au LPS d'un document CDA provenant d'un courriel MSSanté" (v1.1).

The PFI sends one MDM per document received in an applicative mailbox: T02 integrate, T10 replace,
T04 delete (spec section 4). This module reads the message into plain data (:class:`InboundDocument`)
and hands it to :func:`mss.services.receive_document`. Every refusal is answered ``AE`` with an ERR
segment (ERR-5 = the volet's 900-906 code for applicative errors) from which the PFI builds the MDN;
the refusal trace is committed with the journal row, the document is never integrated.
"""

from __future__ import annotations

import base64
import binascii

from dpi.hl7.errors import ErrorCode
from dpi.hl7.models import Message
from dpi.hl7.parsing import Segment, field_values, read_envelope
from dpi.hl7.registry import HandlerResult, InboundMessage, register
from mss import services
from mss.refusals import Refusal
from mss.services import Action, InboundDocument, MailContext
from patients.pam import read_identity

PROFILE = "CISIS_CDA_HL7_LPS"
ACTIONS = {"T02": Action.INTEGRATE, "T10": Action.REPLACE, "T04": Action.DELETE}
ORDER_CONTROLS = {"T02": "NW", "T10": "RO", "T04": "CA"}
RESULT_STATUSES = {"T02": "F", "T10": "C", "T04": "D"}
VISIBILITY = {
    "MASQUE_PS": "masked_to_professionals",
    "INVISIBLE_PATIENT": "invisible_to_patient",
    "INVISIBLE_REP_LEGAUX": "invisible_to_legal_representatives",
}


@register("MDM^T02", "MDM^T10", "MDM^T04")
def receive(msg: InboundMessage) -> HandlerResult:
    """Integrate, replace or delete the document; AE + ERR when refused (nothing integrated, refusal traced)."""
    mail = read_mail(msg)
    try:
        inbound = read_document(msg, mail)
    except Refusal as refusal:
        services.record_refusal(refusal=refusal, mail=mail, message=msg.journal)
        return HandlerResult(ack_code="AE", warnings=(refusal.detail,))
    outcome = services.receive_document(inbound=inbound, message=msg.journal)
    if outcome.refusal is not None:
        return HandlerResult(ack_code="AE", warnings=(outcome.refusal.detail,))
    return HandlerResult(note=outcome.note)


def read_document(msg: InboundMessage, mail: MailContext) -> InboundDocument:
    """The request as plain data; :class:`Refusal` for a message this volet does not allow."""
    trigger = msg.header.trigger_event
    _check_profile(msg)
    _check_consistency(msg, trigger)
    document_obx = _document_obx(msg)
    cda = _cda_bytes(document_obx, msg)
    document_id = _txa_id(msg, 12)
    if document_id is None:
        raise Refusal.technical(
            ErrorCode.REQUIRED_FIELD_MISSING, "TXA-12 (identifiant du document) absent.", "TXA^1^12"
        )
    replaced_id = _txa_id(msg, 13)
    if trigger == "T10" and replaced_id is None:
        raise Refusal.technical(
            ErrorCode.REQUIRED_FIELD_MISSING, "TXA-13 (document remplacé) absent d'un remplacement.", "TXA^1^13"
        )
    if msg.segment("PID") is None:
        raise Refusal.technical(ErrorCode.SEGMENT_SEQUENCE, "Segment PID absent.", "PID")
    return InboundDocument(
        action=ACTIONS[trigger],
        cda=cda,
        document_id=document_id,
        replaced_id=replaced_id,
        pid=read_identity(msg),
        mail=mail,
        visibility=_visibility(msg),
    )


def journal_cda(message: Message) -> bytes:
    """The CDA an MDM of the journal carried (a refused one kept for identity vigilance); :class:`Refusal`
    when the row holds none (a truncated or malformed message)."""
    envelope = read_envelope(bytes(message.raw))
    msg = InboundMessage(text=envelope.text, journal=message, header=envelope.header)
    if not msg.segments("OBX"):
        raise Refusal.technical(ErrorCode.SEGMENT_SEQUENCE, "Aucun OBX dans le message.", "OBX")
    return _cda_bytes(_document_obx(msg), msg)


def _check_profile(msg: InboundMessage) -> None:
    profile = msg.header.component(21, 2)
    if profile != PROFILE:
        raise Refusal.technical(
            ErrorCode.UNSUPPORTED_VERSION,
            f"MSH-21 doit identifier le volet 1.1^{PROFILE} (reçu : « {msg.header.get(21)} »).",
            "MSH^1^21",
        )


def _check_consistency(msg: InboundMessage, trigger: str) -> None:
    """ORC-1, OBX-11 of the document and the trigger must agree (NW/F/T02, RO/C/T10, CA/D/T04)."""
    if msg.segment("ORC") is None or msg.segment("TXA") is None or not msg.segments("OBX"):
        raise Refusal.technical(ErrorCode.SEGMENT_SEQUENCE, "Segments ORC, TXA et OBX obligatoires.", "ORC")
    if msg.value("ORC-1") != ORDER_CONTROLS[trigger]:
        raise Refusal.technical(
            ErrorCode.TABLE_VALUE_NOT_FOUND,
            f"ORC-1 vaut « {msg.value('ORC-1')} » pour un {trigger} (attendu {ORDER_CONTROLS[trigger]}).",
            "ORC^1^1",
        )
    status = _field(msg.segments("OBX")[0], "11", msg)
    if status != RESULT_STATUSES[trigger]:
        raise Refusal.technical(
            ErrorCode.TABLE_VALUE_NOT_FOUND,
            f"OBX-11 du document vaut « {status} » pour un {trigger} (attendu {RESULT_STATUSES[trigger]}).",
            "OBX^1^11",
        )


def _document_obx(msg: InboundMessage) -> Segment:
    obx = msg.segments("OBX")[0]
    if _field(obx, "2", msg) != "ED":
        raise Refusal.technical(ErrorCode.DATA_TYPE, "Le premier OBX doit porter le document (OBX-2 = ED).", "OBX^1^2")
    return obx


def _cda_bytes(obx: Segment, msg: InboundMessage) -> bytes:
    """OBX-5 ED: ``^text^XML^Base64^<CDA>``."""
    subtype, encoding, data = (_field(obx, f"5.{n}", msg) for n in (3, 4, 5))
    if encoding.lower() != "base64" or not data:
        raise Refusal.technical(
            ErrorCode.DATA_TYPE, "OBX-5 doit porter le CDA en Base64 (^text^XML^Base64^…).", "OBX^1^5"
        )
    if subtype.upper() != "XML":
        raise Refusal.technical(ErrorCode.DATA_TYPE, f"OBX-5.3 vaut « {subtype} » (attendu XML).", "OBX^1^5")
    try:
        return b64decode_lenient(data)
    except (binascii.Error, ValueError):
        raise Refusal.technical(ErrorCode.DATA_TYPE, "OBX-5 : base64 invalide.", "OBX^1^5") from None


def b64decode_lenient(data: str) -> bytes:
    """Base64 with its padding restored when missing (the national samples omit it), else strict."""
    compact = "".join(data.split())
    return base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)


def _txa_id(msg: InboundMessage, number: int) -> services.DocumentId | None:
    """TXA-12/13 (EI): ``ext^^root^ISO``, or the root alone in the first component."""
    first, root = msg.value(f"TXA-{number}.1"), msg.value(f"TXA-{number}.3")
    if not first:
        return None
    return services.DocumentId(root=root, extension=first) if root else services.DocumentId(root=first)


def _visibility(msg: InboundMessage) -> dict[str, bool]:
    flags = {}
    for obx in msg.segments("OBX")[2:]:
        name = VISIBILITY.get(_field(obx, "3.1", msg))
        if name:
            flags[name] = _field(obx, "5.1", msg).upper() == "Y"
    return flags


def read_mail(msg: InboundMessage) -> MailContext:
    """Sender (PRT SB), recipients (PRT RCT), and the mail OBX (Message-ID, subject)."""
    sender = next((prt for prt in msg.segments("PRT") if _field(prt, "4.1", msg) == "SB"), None)
    recipients = [prt for prt in msg.segments("PRT") if _field(prt, "4.1", msg) == "RCT"]
    mail_obx = msg.segments("OBX")[1] if len(msg.segments("OBX")) > 1 else None
    return MailContext(
        sender=_field(sender, "15.4", msg),
        sender_id=_field(sender, "5.1", msg),
        sender_organization_id=_field(sender, "8.10", msg),
        recipients=tuple(filter(None, (_field(prt, "15.4", msg).strip().lower() for prt in recipients))),
        recipient_units=tuple(
            (_field(prt, "8.6", msg), _field(prt, "8.10", msg))
            for prt in recipients
            if _field(prt, "8.7", msg) == "UF" and _field(prt, "8.10", msg)
        ),
        message_id=_field(mail_obx, "3.1", msg),
        subject=_field(mail_obx, "3.2", msg),
    )


def _field(segment: Segment | None, spec: str, msg: InboundMessage) -> str:
    if segment is None:
        return ""
    return next(iter(field_values(segment, spec, msg.header.encoding)), "").strip()
