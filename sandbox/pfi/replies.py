"""Building the technical ACK and the business acknowledgements (ZAM) the simulator sends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import timezone

from dpi.hl7.ack import new_control_id
from dpi.hl7.errors import ErrorCode
from dpi.hl7.parsing import Header, escape
from sandbox.models import PfiBehaviour
from sandbox.pfi.common import APPLICATION, CHARSET, DMP_ERROR, FACILITY, PROFILE, SMTP_ERROR, VERSION
from sandbox.pfi.reading import Mdm, Problem, Recipient


def _clean(value: str) -> str:
    """A request field copied into our message: no control characters, no stray field separator."""
    return "".join(char for char in value if char >= " " and char != "\x7f").replace("|", "\\F\\")


def _msh(*, receiver: Header, message_type: str, control_id: str, profile: str = "") -> str:
    fields = [
        "MSH",
        "^~\\&",
        APPLICATION,
        FACILITY,
        _clean(receiver.sending_application),
        _clean(receiver.sending_facility),
        timezone.localtime().strftime("%Y%m%d%H%M%S"),
        "",
        message_type,
        control_id,
        _clean(receiver.processing_id) or "P",
        VERSION,
        "",
        "",
        "",
        "",
        "FRA",
        CHARSET,
        "",
        "",
        profile,
    ]
    return "|".join(fields).rstrip("|")


def _err(problem: Problem) -> str:
    try:
        label = ErrorCode(problem.code).label
    except ValueError:
        label = ""
    fields = ["ERR", "", problem.location, f"{problem.code}^{label}^HL70357", "E", "", "", "", escape(problem.text)]
    return "|".join(fields)


def _ack_code(problems: Sequence[Problem]) -> str:
    """AA when nothing is wrong; AR when one problem calls for it (the sender may resend); AE otherwise."""
    if not problems:
        return "AA"
    return "AR" if any(problem.ack_code == "AR" for problem in problems) else "AE"


def build_ack(header: Header, *, code: str, problems: Sequence[Problem] = ()) -> str:
    """The technical ACK of the PFI (section 3.9), segments terminated by CR."""
    trigger = _clean(header.trigger_event)
    segments = [
        _msh(receiver=header, message_type=f"ACK^{trigger}^ACK" if trigger else "ACK", control_id=new_control_id()),
        f"MSA|{code}|{_clean(header.control_id)}",
        *(_err(problem) for problem in problems),
    ]
    return "".join(f"{segment}\r" for segment in segments)


@dataclass(frozen=True)
class PlannedZam:
    """A business acknowledgement to send: ``stage`` 1 after the delay, 2 after twice the delay."""

    event: str
    status: str
    recipient: Recipient | None = None
    error: tuple[str, str, str] | None = None
    stage: int = 1


def plan_zams(mdm: Mdm, mode: str) -> list[PlannedZam]:
    """The ZAMs an accepted message asked for (ACK_RECEPTION, ACK_LECTURE_MSS), as the mode shapes them."""
    planned: list[PlannedZam] = []
    receipts = mdm.flag("ACK_RECEPTION")
    if mdm.to_dmp and receipts:
        rejected = mode == PfiBehaviour.Mode.DMP_REJECT
        planned.append(PlannedZam("Z01", "N" if rejected else "Y", error=DMP_ERROR if rejected else None))
    undelivered = mode == PfiBehaviour.Mode.MSS_REJECT
    for recipient in mdm.mail_recipients:
        if receipts:
            status, error = ("N", SMTP_ERROR) if undelivered else ("Y", None)
            planned.append(PlannedZam("Z02", status, recipient, error))
        if mdm.flag("ACK_LECTURE_MSS") and not undelivered:  # an undelivered mail is never read
            planned.append(PlannedZam("Z03", "Y", recipient, stage=2))
    return planned


_ZAM_OBX = {
    "Z01": ("ACK_RECEPTION_DMP", "Accusé de réception DMP", "", ""),
    "Z02": ("ACK_RECEPTION_MSS", "Accusé de réception MSSanté", "DESTINATAIRE_MSS", "Destinataire MSSanté"),
    "Z03": ("ACK_LECTURE_MSS", "Accusé de lecture", "LECTEUR_MSS", "Lecteur du courriel MSSanté"),
}


def build_zam(planned: PlannedZam, *, mdm_header: Header, control_id: str) -> str:
    """ZAM^Zxx^ZAM_Z01 (section 3.10) acknowledging the MDM whose header is ``mdm_header``."""
    status_code, status_label, info_code, info_label = _ZAM_OBX[planned.event]
    original = _clean(mdm_header.control_id)
    segments = [
        _msh(
            receiver=mdm_header,
            message_type=f"ZAM^{planned.event}^ZAM_Z01",
            control_id=control_id,
            profile=PROFILE,
        ),
        f"EVN||{timezone.localtime().strftime('%Y%m%d%H%M%S')}",
        f"OBX|1|CWE|{status_code}^{status_label}^AckMetierZAM|{original}|{planned.status}^^expandedYes-NoIndicator"
        "||||||F|",
    ]
    if planned.recipient is not None and info_code:
        recipient = planned.recipient
        segments.append(
            f"OBX|2|XTN|{info_code}^{info_label}^AckMetierZAM|{escape(recipient.identifier)}"
            f"|^^X.400^{escape(recipient.address)}||||||F|"
        )
    if planned.error is not None:
        code, label, system = (escape(part) for part in planned.error)
        segments.append(f"ERR|||207^Application error^messageErrorCondition|E|{code}^{label}^{system}")
    return "".join(f"{segment}\r" for segment in segments)
