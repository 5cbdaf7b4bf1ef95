"""Simulated intermediation platform (PFI): the MLLP peer the DPI sends its documents to.

It receives MDM^T02/T10/T04 (CI-SIS volet *Transmission de document(s) CDA en HL7v2* v2.1),
checks them against the rules of the volet, answers a technical ACK, records what it understood
(:class:`sandbox.models.PfiMessage`), then sends the business acknowledgements the message asked
for (ZAM^Z01 DMP receipt, ZAM^Z02 MSSanté delivery, ZAM^Z03 MSSanté read, one per recipient) to
the DPI's own listener, correlated by OBX-4 = MSH-10 of the MDM. A document accepted for the DMP
(DESTDMP=Y) is filed in the sandbox DMP (:mod:`sandbox.dmp.feeding`). How it answers is set in the
admin (:class:`sandbox.models.PfiBehaviour`), so a demo user can make it fail.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import threading
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections, connections
from django.utils import timezone
from django.utils.translation import gettext as _

from dpi.hl7.ack import MalformedAck, new_control_id, parse_ack
from dpi.hl7.errors import ErrorCode, HL7ProcessingError
from dpi.hl7.mllp import READ_SIZE, Frame, FrameReader, ServerHandle, frame, serve_in_thread
from dpi.hl7.models import db_text
from dpi.hl7.parsing import Envelope, Header, Segment, escape, field_values, read_envelope, read_segments
from sandbox.dmp.feeding import feed_from_pfi
from sandbox.models import PfiBehaviour, PfiMessage, PfiZam

logger = logging.getLogger(__name__)

T = TypeVar("T")

APPLICATION = "PFI"
FACILITY = "SANDBOX"
VERSION = "2.6"
PROFILE = "2.1^CISIS_CDA_HL7_V2"
CHARSET = "UNICODE UTF-8"
POLL_SECONDS = 0.2
PATIENT_MAIL_DOMAIN = "patient.mssante.fr"
PS_OID = "1.2.250.1.71.4.2.1"  # national identifiers of professionals (ASIP-SANTE-PS)
INS_OIDS = ("1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.9", "1.2.250.1.213.1.4.10", "1.2.250.1.213.1.4.11")
VISIT_CLASSES = ("E", "I", "O", "R")  # PV1-2 values whose message must carry the visit (PV1-19)
ASSIGNING_ID_TYPES = ("ISO", "M", "N", "L")  # HD-3 in PAM.fr: OID, FINESS EJ, FINESS EG, local

# Trigger -> (ORC-1, OBX-11 of the document OBX) the volet requires (section 3.1).
EVENTS = {"T02": ("NW", "F"), "T10": ("RO", "C"), "T04": ("CA", "D")}

# The DMP/MSSanté metadata OBX, in the order the volet imposes (section 3.7); the first eight are
# required, ACK_RECEPTION and ACK_LECTURE_MSS default to N, the mail bodies are optional.
METADATA_CODES = (
    "MASQUE_PS",
    "INVISIBLE_PATIENT",
    "INVISIBLE_REP_LEGAUX",
    "CONNEXION_SECRETE",
    "MODIF_CONF_CODE",
    "DESTDMP",
    "DESTMSSANTEPS",
    "DESTMSSANTEPAT",
    "ACK_RECEPTION",
    "ACK_LECTURE_MSS",
    "CORPSMAIL_PS",
    "CORPSMAIL_PATIENT",
)
REQUIRED_METADATA = METADATA_CODES[:8]
TEXT_METADATA = ("CORPSMAIL_PS", "CORPSMAIL_PATIENT")

# Errors the simulated services report in the ZAM ERR-5 (section 3.10).
DMP_ERROR = ("DMPClosed", "DMP fermé", "DMP_ERROR_CODE")
SMTP_ERROR = ("550", "Mailbox unavailable", "SMTPERRORCODE")


# --- Reading an MDM ----------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """Why the PFI does not accept a message: one ERR segment of the ACK."""

    text: str
    location: str = ""
    code: int = ErrorCode.APPLICATION_ERROR
    ack_code: str = "AE"


@dataclass(frozen=True)
class Recipient:
    """An MSSanté address (PRT RCT-15.4) and the id of its owner (PRT-5.1, 10.1 or 8.10)."""

    address: str
    identifier: str = ""


@dataclass
class Mdm:
    """What the PFI understood of a message; ``problems`` say why it is refused."""

    envelope: Envelope
    trigger: str = ""
    document_id: str = ""
    parent_id: str = ""
    ins: str = ""
    identity_status: str = ""
    sender: str = ""
    recipients: list[Recipient] = field(default_factory=list)
    flags: dict[str, str] = field(default_factory=dict)
    mail_bodies: dict[str, str] = field(default_factory=dict)  # CORPSMAIL_* decoded, when readable
    cda: bytes = b""
    problems: list[Problem] = field(default_factory=list)

    @property
    def header(self) -> Header:
        return self.envelope.header

    def flag(self, code: str) -> bool:
        return self.flags.get(code) == "Y"

    @property
    def to_dmp(self) -> bool:
        return self.flag("DESTDMP")

    @property
    def to_patient(self) -> bool:
        return self.flag("DESTMSSANTEPAT")

    @property
    def patient_address(self) -> str:
        """The patient's Mon espace santé address: from an RCT PRT, else derived from the INS."""
        for recipient in self.recipients:
            if recipient.address.lower().endswith("@" + PATIENT_MAIL_DOMAIN):
                return recipient.address
        return f"{self.ins}@{PATIENT_MAIL_DOMAIN}" if self.ins else ""

    @property
    def mail_recipients(self) -> list[Recipient]:
        """Where the document is mailed: the RCT professionals (DESTMSSANTEPS) and the patient (DESTMSSANTEPAT)."""
        chosen: list[Recipient] = []
        if self.flag("DESTMSSANTEPS"):
            patient = self.patient_address.lower()
            chosen += [recipient for recipient in self.recipients if recipient.address.lower() != patient]
        if self.to_patient and self.patient_address:
            chosen.append(Recipient(self.patient_address, self.ins))
        unique: dict[str, Recipient] = {}
        for recipient in chosen:
            unique.setdefault(recipient.address.lower(), recipient)
        return list(unique.values())


def read_mdm(raw: bytes) -> Mdm:
    """Read an MDM the way the PFI does; never raises, every problem lands in ``problems``."""
    envelope = read_envelope(raw)
    mdm = Mdm(envelope=envelope)
    header = envelope.header
    if envelope.problem is not None:
        problem = envelope.problem
        mdm.problems.append(Problem(problem.text, problem.location, int(problem.code), "AR"))
        return mdm
    if header.message_code != "MDM":
        text = _("Type de message non pris en charge par la PFI : %(type)s") % {"type": header.message_type}
        mdm.problems.append(Problem(text, "MSH^1^9^1^1", ErrorCode.UNSUPPORTED_MESSAGE_TYPE, "AR"))
        return mdm
    mdm.trigger = header.trigger_event
    if mdm.trigger not in EVENTS:
        text = _("Événement MDM non pris en charge : %(trigger)s") % {"trigger": mdm.trigger}
        mdm.problems.append(Problem(text, "MSH^1^9^1^2", ErrorCode.UNSUPPORTED_EVENT, "AR"))
        return mdm
    try:
        segments = read_segments(envelope.text, header.encoding)
    except HL7ProcessingError as exc:
        detail = exc.detail
        mdm.problems.append(Problem(detail.text, detail.location, int(detail.code), "AR"))
        return mdm
    _read_content(mdm, segments)
    mdm.problems += conformance_problems(mdm, segments)
    return mdm


def _read_content(mdm: Mdm, segments: list[Segment]) -> None:
    encoding = mdm.header.encoding

    def values(segment: Segment | None, spec: str) -> list[str]:
        return field_values(segment, spec, encoding) if segment is not None else []

    def first(segment: Segment | None, spec: str) -> str:
        return next(iter(values(segment, spec)), "").strip()

    pid = _first_segment(segments, "PID")
    for repetition in values(pid, "3"):
        parts = repetition.split(encoding.component)
        if len(parts) >= 5 and parts[4] == "INS" and parts[0]:
            mdm.ins = parts[0]
            break
    mdm.identity_status = first(pid, "32")
    txa = _first_segment(segments, "TXA")
    mdm.document_id = _document_id(values(txa, "12"), encoding.component)
    mdm.parent_id = _document_id(values(txa, "13"), encoding.component)
    for prt in (segment for segment in segments if segment.name == "PRT"):
        role = first(prt, "4.1")
        if role == "SB" and not mdm.sender:
            person = first(prt, "5.1") or first(prt, "10.1")
            mdm.sender = " / ".join(part for part in (person, first(prt, "8.10")) if part) or "?"
        elif role == "RCT" and (address := first(prt, "15.4")):
            identifier = first(prt, "5.1") or first(prt, "10.1") or first(prt, "8.10")
            mdm.recipients.append(Recipient(address, identifier))
    document = next((segment for segment in segments if segment.name == "OBX"), None)
    with contextlib.suppress(ValueError):  # not base64: the document cannot go to the DMP, nothing more
        mdm.cda = base64.b64decode(first(document, "5.5"), validate=True)
    for obx in _metadata_obx(segments):
        code = first(obx, "3.1")
        mdm.flags[code] = "text" if code in TEXT_METADATA else first(obx, "5.1")
        if code in TEXT_METADATA:
            with contextlib.suppress(ValueError):  # unreadable: reported by _metadata_problems
                mdm.mail_bodies[code] = base64.b64decode(first(obx, "5.5"), validate=True).decode("utf-8")


def _document_id(repetitions: list[str], component: str) -> str:
    """TXA-12/13: the root alone (12.1), or the whole ``ext^^root^ISO`` when 12.3 holds a root."""
    if not repetitions:
        return ""
    parts = repetitions[0].split(component)
    if len(parts) >= 3 and parts[2]:
        return repetitions[0]
    return parts[0].strip()


def _first_segment(segments: list[Segment], name: str) -> Segment | None:
    return next((segment for segment in segments if segment.name == name), None)


def _metadata_obx(segments: list[Segment]) -> list[Segment]:
    """Every OBX after the first (the document)."""
    return [segment for segment in segments if segment.name == "OBX"][1:]


def conformance_problems(mdm: Mdm, segments: list[Segment]) -> list[Problem]:
    """The rules of the volet the message breaks (each answered AE 207 with a clear label)."""
    encoding = mdm.header.encoding
    problems: list[Problem] = []
    order_code, document_status = EVENTS[mdm.trigger]

    def first(segment: Segment | None, spec: str) -> str:
        return next(iter(field_values(segment, spec, encoding)), "").strip() if segment is not None else ""

    orc = _first_segment(segments, "ORC")
    if first(orc, "1") != order_code:
        problems.append(
            Problem(
                _("ORC-1 « %(value)s » incohérent avec l'événement %(trigger)s (attendu %(expected)s)")
                % {"value": first(orc, "1"), "trigger": mdm.trigger, "expected": order_code},
                "ORC^1^1",
            )
        )
    observations = [segment for segment in segments if segment.name == "OBX"]
    document = observations[0] if observations else None
    if document is None or first(document, "3.1") in METADATA_CODES:
        problems.append(Problem(_("OBX du document CDA absent (premier OBX)"), "OBX^1"))
    elif first(document, "11") != document_status:
        problems.append(
            Problem(
                _("OBX-11 du document « %(value)s » incohérent avec l'événement %(trigger)s (attendu %(expected)s)")
                % {"value": first(document, "11"), "trigger": mdm.trigger, "expected": document_status},
                "OBX^1^11",
            )
        )
    if not mdm.document_id:
        problems.append(Problem(_("Identifiant du document (TXA-12) absent"), "TXA^1^12"))
    if mdm.trigger == "T10" and not mdm.parent_id:
        problems.append(Problem(_("Document remplacé (TXA-13) absent pour un remplacement T10"), "TXA^1^13"))
    if not mdm.sender:
        problems.append(Problem(_("Segment PRT de l'émetteur (PRT-4 = SB) absent"), "PRT^1^4"))
    problems += _metadata_problems(mdm, segments)
    problems += _identifier_problems(mdm, segments)
    problems += _recipient_problems(mdm, segments)
    if mdm.to_dmp and not mdm.ins:
        problems.append(Problem(_("DESTDMP=Y sans INS dans PID-3 : le DMP exige une INS qualifiée"), "PID^1^3"))
    elif mdm.to_dmp and mdm.identity_status != "VALI":
        problems.append(
            Problem(
                _("DESTDMP=Y avec une INS non qualifiée (PID-32 « %(status)s », VALI attendu)")
                % {"status": mdm.identity_status},
                "PID^1^32",
            )
        )
    if mdm.flag("INVISIBLE_PATIENT") and mdm.to_patient:
        text = _("INVISIBLE_PATIENT=Y interdit l'envoi au patient (DESTMSSANTEPAT=Y)")
        problems.append(Problem(text, _obx_location(mdm, segments)))
    if mdm.flag("DESTMSSANTEPS") and not mdm.recipients:
        problems.append(Problem(_("DESTMSSANTEPS=Y sans destinataire MSSanté (PRT-4 = RCT, PRT-15.4)"), "PRT^1^15"))
    return problems


def _metadata_problems(mdm: Mdm, segments: list[Segment]) -> list[Problem]:
    encoding = mdm.header.encoding
    problems: list[Problem] = []
    rank = {code: position for position, code in enumerate(METADATA_CODES)}
    previous = ""
    for number, obx in enumerate(_metadata_obx(segments), start=2):
        code = next(iter(field_values(obx, "3.1", encoding)), "").strip()
        location = f"OBX^{number}^3"
        if code not in rank:
            problems.append(Problem(_("Métadonnée DMP/MSSanté inconnue : « %(code)s »") % {"code": code}, location))
            continue
        if previous and rank[code] <= rank[previous]:
            problems.append(
                Problem(
                    _("Métadonnées DMP/MSSanté dans le désordre : %(code)s après %(previous)s")
                    % {"code": code, "previous": previous},
                    location,
                )
            )
        previous = code if not previous or rank[code] > rank[previous] else previous
        value = mdm.flags.get(code, "")
        if code in TEXT_METADATA and code not in mdm.mail_bodies:
            text = _("Corps du mail %(code)s illisible : texte UTF-8 en Base64 attendu dans OBX-5.5") % {"code": code}
            problems.append(Problem(text, f"OBX^{number}^5"))
        if code not in TEXT_METADATA and value not in ("Y", "N"):
            problems.append(
                Problem(
                    _("Valeur Y ou N attendue pour %(code)s, reçu « %(value)s »") % {"code": code, "value": value},
                    f"OBX^{number}^5",
                )
            )
    for code in REQUIRED_METADATA:
        if code not in mdm.flags:
            problems.append(Problem(_("Métadonnée DMP/MSSanté obligatoire absente : %(code)s") % {"code": code}, "OBX"))
    return problems


def _identifier_problems(mdm: Mdm, segments: list[Segment]) -> list[Problem]:
    """PID-18 (NDA) and PV1-19 (visit) as PAM.fr and the volet ask: the type (AN, VN) and the assigning
    authority (CX-4: a namespace, or a universal id with its type); PV1-19 required for classes E, I, O, R."""
    encoding = mdm.header.encoding

    def first(segment: Segment | None, spec: str) -> str:
        return next(iter(field_values(segment, spec, encoding)), "").strip() if segment is not None else ""

    problems: list[Problem] = []
    pid, pv1 = _first_segment(segments, "PID"), _first_segment(segments, "PV1")
    patient_class = first(pv1, "2")
    if patient_class in VISIT_CLASSES and not first(pv1, "19.1"):
        text = _("PV1-19 (numéro de venue) obligatoire pour la classe de patient %(cls)s") % {"cls": patient_class}
        problems.append(Problem(text, "PV1^1^19"))
    for segment, number, kind, name in ((pid, 18, "AN", "PID"), (pv1, 19, "VN", "PV1")):
        if not first(segment, f"{number}.1"):
            continue
        label = f"{name}-{number}"
        namespace, universal_id, id_type = (first(segment, f"{number}.4.{part}") for part in (1, 2, 3))
        if first(segment, f"{number}.5") != kind:
            text = _("%(field)s : type d'identifiant %(kind)s attendu en %(field)s.5") % {"field": label, "kind": kind}
            problems.append(Problem(text, f"{name}^1^{number}^5"))
        if not namespace and not universal_id:
            text = _("%(field)s sans autorité d'affectation (%(field)s.4)") % {"field": label}
            problems.append(Problem(text, f"{name}^1^{number}^4"))
        elif universal_id and id_type not in ASSIGNING_ID_TYPES:
            text = _("%(field)s.4 : type d'identifiant universel « %(type)s » (ISO, M, N ou L attendu)") % {
                "field": label,
                "type": id_type,
            }
            problems.append(Problem(text, f"{name}^1^{number}^4^3"))
    return problems


def _recipient_problems(mdm: Mdm, segments: list[Segment]) -> list[Problem]:
    """PRT-5 of a recipient, when present: an identifier, its authority and its type (5.1, 5.9, 5.13); a
    professional under ASIP-SANTE-PS, the patient by the INS of their Mon espace santé address."""
    encoding = mdm.header.encoding
    problems: list[Problem] = []
    for position, prt in enumerate((s for s in segments if s.name == "PRT"), start=1):

        def first(spec: str, prt: Segment = prt) -> str:
            return next(iter(field_values(prt, spec, encoding)), "").strip()

        if first("4.1") != "RCT" or not any(first(f"5.{part}") for part in (1, 2, 3, 9, 13)):
            continue
        identifier, authority, id_type, address = first("5.1"), first("5.9.2"), first("5.13"), first("15.4")
        to_patient = address.lower().endswith("@" + PATIENT_MAIL_DOMAIN)
        if not (identifier and authority and id_type):
            text = _("PRT-5 du destinataire incomplet : identifiant (5.1), autorité (5.9) et type (5.13) attendus")
        elif to_patient and (id_type != "INS" or authority not in INS_OIDS):
            text = _("PRT-5 du patient destinataire : son INS (5.13 = INS, 5.9 = OID de l'INS) attendu")
        elif to_patient and identifier != address.split("@")[0]:
            text = _("PRT-5 : l'INS %(ins)s n'est pas celui de l'adresse %(address)s") % {
                "ins": identifier,
                "address": address,
            }
        elif not to_patient and (id_type == "INS" or authority != PS_OID):
            text = _("PRT-5 d'un professionnel : identifiant national sous l'OID %(oid)s attendu") % {"oid": PS_OID}
        else:
            continue
        problems.append(Problem(text, f"PRT^{position}^5"))
    return problems


def _obx_location(mdm: Mdm, segments: list[Segment]) -> str:
    for number, obx in enumerate(_metadata_obx(segments), start=2):
        if next(iter(field_values(obx, "3.1", mdm.header.encoding)), "") == "DESTMSSANTEPAT":
            return f"OBX^{number}^5"
    return "OBX"


# --- Building the ACK and the ZAM -------------------------------------------------------


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


# --- Database access (run in the simulator's one database thread) ------------------------


def _with_connection(function: Callable[[], T]) -> T:
    close_old_connections()
    try:
        return function()
    finally:
        close_old_connections()


def _current_behaviour() -> PfiBehaviour:
    return _with_connection(PfiBehaviour.current)


def _receive(mdm: Mdm, *, peer: str, problems: list[Problem], mode: str) -> tuple[PfiMessage, list[Problem]]:
    """Record a received message and decide its ACK: a resent MSH-10 already accepted is a duplicate
    (AA again, nothing processed twice); otherwise the ``ae``/``ar`` modes refuse what the rules accept."""

    def save() -> tuple[PfiMessage, list[Problem]]:
        final = list(problems)
        control_id = db_text(mdm.header.control_id)[:199]
        duplicate = (
            not final
            and bool(control_id)
            and PfiMessage.objects.filter(control_id=control_id, ack_code="AA", duplicate=False).exists()
        )
        if not final and not duplicate:
            final = _mode_problems(mode)
        message = PfiMessage.objects.create(
            peer=peer[:255],
            control_id=control_id,
            trigger=db_text(mdm.trigger)[:10],
            document_id=db_text(mdm.document_id)[:255],
            parent_id=db_text(mdm.parent_id)[:255],
            ins=db_text(mdm.ins)[:40],
            to_dmp=mdm.to_dmp,
            mss_recipients=[db_text(recipient.address) for recipient in mdm.recipients],
            to_patient=mdm.to_patient,
            flags={db_text(code): db_text(value) for code, value in mdm.flags.items()},
            sender=db_text(mdm.sender)[:255],
            ack_code=_ack_code(final),
            duplicate=duplicate,
            error=db_text("; ".join(problem.text for problem in final)),
            raw=db_text(mdm.envelope.text),
        )
        return message, final

    return _with_connection(save)


def _mode_problems(mode: str) -> list[Problem]:
    if mode == PfiBehaviour.Mode.AE:
        return [Problem(_("Erreur simulée de la PFI (mode AE)"))]
    if mode == PfiBehaviour.Mode.AR:
        return [Problem(_("Rejet simulé de la PFI (mode AR) : renvoyer plus tard"), ack_code="AR")]
    return []


def _record_zam(message_id: int, planned: PlannedZam, *, control_id: str, raw: str) -> PfiZam:
    def save() -> PfiZam:
        return PfiZam.objects.create(
            message_id=message_id,
            event=planned.event,
            recipient=planned.recipient.address[:255] if planned.recipient else "",
            status=planned.status,
            control_id=control_id,
            raw=raw,
        )

    return _with_connection(save)


def _record_outcome(zam_id: int, outcome: str) -> None:
    _with_connection(lambda: PfiZam.objects.filter(pk=zam_id).update(outcome=db_text(outcome)[:255]))


# --- The simulator -------------------------------------------------------------------------


class PfiSimulator:
    """The PFI over MLLP: ``await serve(stop)`` listens on ``host:port`` until ``stop`` is set."""

    name = "pfi"

    def __init__(
        self,
        host: str | None = None,
        port: int | None = None,
        dpi_host: str | None = None,
        dpi_port: int | None = None,
        *,
        zam_delay: float | None = None,
        zam_retries: int = 5,
        timeout: float = 10.0,
    ) -> None:
        self.host = host or settings.PFI_HOST
        self.port = settings.PFI_PORT if port is None else port
        self.dpi_host = dpi_host or settings.MLLP_HOST
        self.dpi_port = settings.MLLP_PORT if dpi_port is None else dpi_port
        self.zam_delay = settings.SANDBOX_PFI_ZAM_DELAY_SECONDS if zam_delay is None else zam_delay
        self.zam_retries = zam_retries
        self.timeout = timeout
        self._server: asyncio.Server | None = None
        self._db: ThreadPoolExecutor | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task] = set()
        self._behaviour_unreadable = False

    @property
    def listening(self) -> bool:
        return self._server is not None

    async def serve(self, stop: asyncio.Event, started: threading.Event | None = None) -> None:
        """Listen (or refuse, as the behaviour says) until ``stop`` is set, then release everything."""
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pfi-db")
        try:
            await self._open()
            logger.info("PFI simulator on %s:%s, ZAM to %s:%s", self.host, self.port, self.dpi_host, self.dpi_port)
            if started is not None:
                started.set()
            while not stop.is_set():
                await self._follow_behaviour()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), POLL_SECONDS)
        finally:
            await self._shutdown()

    # -- listening socket, opened and closed as the mode says

    async def _open(self) -> None:
        self._server = await asyncio.start_server(self._serve_connection, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._writers):
            writer.close()
        if server is not None:
            with contextlib.suppress(Exception):
                await server.wait_closed()

    async def _follow_behaviour(self) -> None:
        try:
            behaviour = await self._call(_current_behaviour)
        except Exception:  # database briefly unavailable: keep the current state, say it once
            if not self._behaviour_unreadable:
                logger.exception("PFI simulator: cannot read its behaviour")
            self._behaviour_unreadable = True
            return
        self._behaviour_unreadable = False
        refusing = behaviour.mode == PfiBehaviour.Mode.REFUSE
        if refusing and self.listening:
            logger.info("PFI simulator: refusing connections")
            await self._close()
        elif not refusing and not self.listening:
            try:
                await self._open()
                logger.info("PFI simulator: listening again on %s:%s", self.host, self.port)
            except OSError:
                logger.exception("PFI simulator: cannot listen on %s:%s", self.host, self.port)

    async def _shutdown(self) -> None:
        await self._close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._db is not None:
            loop = asyncio.get_running_loop()
            with contextlib.suppress(Exception):
                await loop.run_in_executor(self._db, connections.close_all)
            self._db.shutdown(wait=True)
            self._db = None
        logger.info("PFI simulator stopped")

    async def _call(self, function: Callable[..., T], *args: object, **kwargs: object) -> T:
        """Run a database function in the simulator's database thread."""
        return await sync_to_async(function, thread_sensitive=False, executor=self._db)(*args, **kwargs)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- inbound MDM

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self._writers.add(writer)
        address = writer.get_extra_info("peername")
        peer = f"{address[0]}:{address[1]}" if isinstance(address, tuple) else str(address or "")
        frames = FrameReader(settings.MLLP_MAX_MESSAGE_BYTES)
        try:
            while True:
                data = await asyncio.wait_for(reader.read(READ_SIZE), settings.MLLP_IDLE_TIMEOUT_SECONDS)
                if not data:
                    return
                for received in frames.feed(data):
                    ack = await self._answer_safely(received, peer)
                    writer.write(frame(ack.encode("utf-8")))
                    await writer.drain()
        except (ConnectionError, TimeoutError):
            logger.info("PFI simulator: connection %s closed", peer)
        finally:
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            if task is not None:
                self._tasks.discard(task)

    async def _answer_safely(self, received: Frame, peer: str) -> str:
        try:
            return await self.answer(received, peer)
        except asyncio.CancelledError:
            raise
        except Exception:  # the simulator never dies on a message
            logger.exception("PFI simulator: failure on a message from %s", peer)
            problem = Problem(_("Erreur interne de la PFI simulée"), ack_code="AR")
            return build_ack(read_envelope(received.payload).header, code="AR", problems=[problem])

    async def answer(self, received: Frame, peer: str) -> str:
        """The ACK text for one frame. The message is recorded on receipt (before the wait of the slow
        mode); its ZAMs are scheduled once the ACK AA is about to leave."""
        behaviour = await self._call(_current_behaviour)
        mdm = read_mdm(received.payload)
        problems = list(mdm.problems)
        if received.truncated:
            problems.insert(0, Problem(_("Message trop volumineux"), ack_code="AR"))
        message, problems = await self._call(_receive, mdm, peer=peer, problems=problems, mode=behaviour.mode)
        if behaviour.mode == PfiBehaviour.Mode.SLOW:
            await asyncio.sleep(behaviour.slow_seconds)
        if message.ack_code == "AA" and not message.duplicate:
            if mdm.to_dmp and behaviour.mode != PfiBehaviour.Mode.DMP_REJECT:
                await self._call(
                    feed_from_pfi,
                    trigger=mdm.trigger,
                    ins=mdm.ins,
                    document_id=mdm.document_id,
                    cda=mdm.cda,
                    flags=mdm.flags,
                )
            planned = plan_zams(mdm, behaviour.mode)
            if planned:
                delay = behaviour.zam_delay_seconds if behaviour.zam_delay_seconds is not None else self.zam_delay
                self._spawn(self._send_zams(message.pk, mdm.header, planned, delay))
        return build_ack(mdm.header, code=message.ack_code, problems=problems)

    # -- outbound ZAM

    async def _send_zams(self, message_id: int, header: Header, planned: list[PlannedZam], delay: float) -> None:
        for stage in sorted({zam.stage for zam in planned}):
            await asyncio.sleep(delay)
            for zam in (zam for zam in planned if zam.stage == stage):
                await self._send_zam(message_id, header, zam)

    async def _send_zam(self, message_id: int, header: Header, planned: PlannedZam) -> None:
        control_id = new_control_id()
        text = build_zam(planned, mdm_header=header, control_id=control_id)
        row = await self._call(_record_zam, message_id, planned, control_id=control_id, raw=text)
        outcome = await self._deliver(text.encode("utf-8"), control_id)
        await self._call(_record_outcome, row.pk, outcome)

    async def _deliver(self, payload: bytes, control_id: str) -> str:
        """Send one ZAM to the DPI listener; the ACK code it answered, or the transport error."""
        error = ""
        for attempt in range(self.zam_retries + 1):
            if attempt:
                await asyncio.sleep(min(0.5 * 2 ** (attempt - 1), 5.0))
            try:
                answer = await self._exchange(payload)
            except (OSError, TimeoutError) as exc:
                error = _("erreur de transport après %(attempts)d tentative(s) : %(error)r") % {
                    "attempts": attempt + 1,
                    "error": exc,
                }
                logger.warning("PFI simulator: ZAM %s to %s:%s: %s", control_id, self.dpi_host, self.dpi_port, error)
                continue
            try:
                ack = parse_ack(answer)
            except MalformedAck as exc:
                return _("acquittement illisible : %(error)s") % {"error": exc}
            details = "; ".join(f"[{detail.code}] {detail.text}" for detail in ack.errors)
            return f"{ack.code} {details}".strip()
        return error

    async def _exchange(self, payload: bytes) -> bytes:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(self.dpi_host, self.dpi_port), self.timeout)
        try:
            writer.write(frame(payload))
            await writer.drain()
            frames = FrameReader(settings.MLLP_MAX_MESSAGE_BYTES)
            while True:
                data = await asyncio.wait_for(reader.read(READ_SIZE), self.timeout)
                if not data:
                    raise ConnectionResetError(_("connexion fermée par le DPI avant l'acquittement"))
                received = frames.feed(data)
                if received:
                    return received[0].payload
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


# --- Running it in a thread (tests, benchmarks) ---------------------------------------------


def start_pfi_in_thread(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    dpi_host: str | None = None,
    dpi_port: int | None = None,
    zam_delay: float | None = None,
    zam_retries: int = 5,
    timeout: float = 10.0,
) -> ServerHandle:
    """Start a simulator in a daemon thread; ``port=0`` picks a free port (see ``handle.port``)."""
    simulator = PfiSimulator(
        host, port, dpi_host, dpi_port, zam_delay=zam_delay, zam_retries=zam_retries, timeout=timeout
    )
    return serve_in_thread(simulator, name=f"pfi-{host}:{port}")
