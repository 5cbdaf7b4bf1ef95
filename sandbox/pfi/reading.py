"""Reading an MDM and checking it against the rules of the volet (the problems the ACK reports)."""

from __future__ import annotations

import base64
import contextlib
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from dpi.hl7.errors import ErrorCode, HL7ProcessingError
from dpi.hl7.parsing import Envelope, Header, Segment, field_values, read_envelope, read_segments
from sandbox.pfi.common import (
    ASSIGNING_ID_TYPES,
    EVENTS,
    INS_OIDS,
    METADATA_CODES,
    PATIENT_MAIL_DOMAIN,
    PS_OID,
    REQUIRED_METADATA,
    TEXT_METADATA,
    VISIT_CLASSES,
)


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
