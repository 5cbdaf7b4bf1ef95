"""MDM^T02 / T10 / T04 messages of the CI-SIS volet "Transmission de document(s) CDA en HL7v2" (v2.1).

Pure building from plain data (:class:`Transmission`): the services gather the data from the
database, this module only writes ER7. The rules it keeps (digest section 3):

* ORC-1, the document OBX-11 and the trigger agree (NW/F/T02, RO/C/T10, CA/D/T04);
* PID-3 lists the CDA ``recordTarget`` ids; TXA-12/13 carry the CDA ids (root alone, or
  ``ext^^root^ISO``);
* a PRT "SB" (sender) right after the document OBX carries what the PFI needs for the VIHF:
  the author's national id and profession (PRT-6), the structure and its FINESS géographique;
* one PRT "RCT" per MSSanté address (PRT-15 ``^NET^X.400^address``), with the recipient in PRT-5 when
  the DPI knows who it is: a professional's national id, the patient's INS;
* PID-18 (NDA) and PV1-19 (visit) with their assigning authority (CX-4), as PAM.fr and the national
  examples write them;
* then the metadata OBX in the volet's order, each Y or N, and the mail bodies; a replacement (T10) sent by
  mail opens each body with the preset "annule et remplace" notice the PDF also prints (MSS/va1.13).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import date, datetime

from django.utils import timezone

from documents.cda import InstanceId
from documents.content import REPLACEMENT_NOTICE, REPLACEMENT_NOTICE_TITLE
from dpi.hl7.parsing import escape

VOLET = "2.1^CISIS_CDA_HL7_V2"
PS_AUTHORITY = "ASIP-SANTE-PS&1.2.250.1.71.4.2.1&ISO"
STRUCTURE_AUTHORITY = "ASIP-SANTE-ST&1.2.250.1.71.4.2.2&ISO"
PROFESSION_SYSTEM = "TRE_G15-ProfessionSante"
INS_AUTHORITIES = {
    "1.2.250.1.213.1.4.8": "ASIP-SANTE-INS-NIR",
    "1.2.250.1.213.1.4.9": "ASIP-SANTE-INS-NIA",
    "1.2.250.1.213.1.4.10": "ASIP-SANTE-INS-NIR-TEST",
    "1.2.250.1.213.1.4.11": "ASIP-SANTE-INS-NIR-DEMO",
}
PATIENT_MAIL_DOMAIN = "patient.mssante.fr"

# trigger -> (ORC-1, document OBX-11)
EVENTS = {"T02": ("NW", "F"), "T10": ("RO", "C"), "T04": ("CA", "D")}

# The metadata OBX, in the order the volet imposes (digest 3.7).
METADATA = (
    ("MASQUE_PS", "Masqué aux professionnels de Santé"),
    ("INVISIBLE_PATIENT", "Document Non Visible par le patient"),
    ("INVISIBLE_REP_LEGAUX", "Non visible par les représentants Légaux du patient"),
    ("CONNEXION_SECRETE", "Connexion Secrete"),
    ("MODIF_CONF_CODE", "Modification Confidentiality Code"),
    ("DESTDMP", "Destinataire DMP"),
    ("DESTMSSANTEPS", "Destinataire (Professionnel de Santé, organisation ou BAL applicative)"),
    ("DESTMSSANTEPAT", "Destinataire Patient"),
    ("ACK_RECEPTION", "Accusé de réception"),
    ("ACK_LECTURE_MSS", "Accusé de lecture"),
)
MAIL_BODY_PS = ("CORPSMAIL_PS", "Corps du mail pour un PS")
MAIL_BODY_PATIENT = ("CORPSMAIL_PATIENT", "Corps du mail pour le patient")


@dataclass(frozen=True)
class PatientPart:
    ids: tuple[InstanceId, ...]  # the CDA recordTarget ids, INS first when present
    ipp_oid: str
    birth_name: str
    first_names: tuple[str, ...]
    birth_date: date | None
    sex: str
    birth_place_insee: str
    reliability: str  # PID-32: VALI or PROV
    nda: str = ""
    nda_authority: str = ""  # HD of PID-18.4: ``&FINESS&M``, ``&OID&ISO`` or a namespace


@dataclass(frozen=True)
class VisitPart:
    patient_class: str  # PV1-2: I, O, E, R or N
    visit_number: str = ""
    visit_authority: str = ""  # HD of PV1-19.4, as PID-18's
    care_unit: str = ""
    admitted_at: datetime | None = None
    discharged_at: datetime | None = None


@dataclass(frozen=True)
class SenderPart:
    national_id: str
    family_name: str
    given_name: str
    id_type: str  # table 0203: RPPS, ADELI, IDNPS
    profession_code: str
    profession_label: str
    organization: str
    finess_eg: str


@dataclass(frozen=True)
class Person:
    """PRT-5 of a recipient: a professional under ``ASIP-SANTE-PS`` (5.13 ``IDNPS``, ``RPPS``...) or the
    patient under the authority of their INS (5.13 ``INS``)."""

    identifier: str
    family_name: str = ""
    given_name: str = ""
    id_type: str = "IDNPS"
    authority: str = PS_AUTHORITY
    name_type: str = "D"  # table 0200: D (display) for a professional, L (legal) for the patient

    @classmethod
    def patient(cls, ins: InstanceId, family_name: str, given_name: str) -> Person:
        authority = f"{INS_AUTHORITIES.get(ins.root, '')}&{ins.root}&ISO"
        return cls(ins.extension, family_name, given_name, "INS", authority, "L")


@dataclass(frozen=True)
class Transmission:
    """Everything one MDM says: which document, for whom, with which visibility, sent by whom."""

    control_id: str
    trigger: str
    type_code: str
    type_label: str
    type_system: str
    document_id: InstanceId
    parent_id: InstanceId | None
    act_date: datetime
    cda: bytes
    patient: PatientPart
    visit: VisitPart
    sender: SenderPart
    metadata: dict[str, bool]
    mss_recipients: tuple[str, ...] = ()
    patient_address: str = ""
    patient_may_reply: bool = False  # else NTE-4 "FIN" after DESTMSSANTEPAT closes the patient's reply
    recipients_known: dict[str, Person] = field(default_factory=dict)  # address (lower case) -> who it is
    mail_body_ps: str = ""
    mail_body_patient: str = ""
    sending_application: str = "DPI"
    sending_facility: str = "DPI"
    receiving_application: str = "PFI"
    receiving_facility: str = "PFI"
    processing_id: str = "P"


def build_mdm(transmission: Transmission) -> str:
    """The MDM^<trigger>^MDM_T02 message, segments separated by CR."""
    t = transmission
    if t.trigger not in EVENTS:
        raise ValueError(t.trigger)
    if t.trigger == "T10" and t.parent_id is None:
        raise ValueError("a replacement (T10) names the replaced document (TXA-13)")
    order_control, result_status = EVENTS[t.trigger]
    type_ce = f"{escape(t.type_code)}^{escape(t.type_label)}^{escape(t.type_system)}"
    segments = [
        _msh(t),
        f"EVN||{_ts(timezone.now())}",
        _pid(t.patient),
        _pv1(t.visit),
        f"ORC|{order_control}|",
        f"OBR|1|||{type_ce}|",
        _txa(t),
        f"OBX|1|ED|{type_ce}||^text^XML^Base64^{base64.b64encode(t.cda).decode('ascii')}||||||{result_status}|",
        _sender(t.sender),
        *(_recipient(address, t.recipients_known) for address in t.mss_recipients),
        *([_recipient(t.patient_address, t.recipients_known)] if t.patient_address else []),
        *_metadata(t),
    ]
    return "\r".join(segments) + "\r"


def patient_mss_address(ins: str) -> str:
    """Mon espace santé address of a patient: the 15-character INS at patient.mssante.fr."""
    return f"{ins}@{PATIENT_MAIL_DOMAIN}"


def _msh(t: Transmission) -> str:
    return (
        f"MSH|^~\\&|{escape(t.sending_application)}|{escape(t.sending_facility)}|"
        f"{escape(t.receiving_application)}|{escape(t.receiving_facility)}|{_ts(timezone.now())}||"
        f"MDM^{t.trigger}^MDM_T02|{t.control_id}|{t.processing_id}|2.6|||||FRA|UNICODE UTF-8|||{VOLET}"
    )


def _pid(patient: PatientPart) -> str:
    ids = "~".join(_cx(identifier, patient.ipp_oid) for identifier in patient.ids)
    name = f"{escape(patient.birth_name)}^{escape(patient.first_names[0] if patient.first_names else '')}^"
    name += f"{escape(' '.join(patient.first_names))}^^^^L"
    birth_date = patient.birth_date.strftime("%Y%m%d") if patient.birth_date else ""
    birth_place = f"^^^^^^BDL^^{escape(patient.birth_place_insee)}" if patient.birth_place_insee else ""
    nda = f"{escape(patient.nda)}^^^{patient.nda_authority}^AN" if patient.nda else ""
    fields = ["PID", "", "", ids, "", name, "", birth_date, patient.sex, "", "", birth_place]
    fields += [""] * 6 + [nda] + [""] * 13 + [patient.reliability]
    return "|".join(fields)


def _cx(identifier: InstanceId, ipp_oid: str) -> str:
    if identifier.root in INS_AUTHORITIES:
        authority = INS_AUTHORITIES[identifier.root]
        return f"{escape(identifier.extension)}^^^{authority}&{identifier.root}&ISO^INS"
    kind = "PI" if identifier.root == ipp_oid else "RI"
    return f"{escape(identifier.extension)}^^^&{identifier.root}&ISO^{kind}"


def _pv1(visit: VisitPart) -> str:
    fields = ["PV1", "1", visit.patient_class, escape(visit.care_unit)] + [""] * 15
    fields.append(f"{escape(visit.visit_number)}^^^{visit.visit_authority}^VN" if visit.visit_number else "")
    fields += [""] * 24
    fields += [_ts(visit.admitted_at), _ts(visit.discharged_at)]
    return "|".join(fields).rstrip("|")


def _txa(t: Transmission) -> str:
    fields = ["TXA", "1", escape(t.type_code), "TEXT", _ts(t.act_date)] + [""] * 7
    fields += [_ei(t.document_id), _ei(t.parent_id) if t.parent_id else "", "", "", "", "AU"]
    return "|".join(fields)


def _ei(identifier: InstanceId) -> str:
    """TXA-12/13: the root alone, or ``extension^^root^ISO``."""
    if identifier.extension:
        return f"{escape(identifier.extension)}^^{escape(identifier.root)}^ISO"
    return escape(identifier.root)


def _sender(sender: SenderPart) -> str:
    person = (
        f"{escape(sender.national_id)}^{escape(sender.family_name)}^{escape(sender.given_name)}"
        f"^^^^^^{PS_AUTHORITY}^D^^^{sender.id_type}"
    )
    profession = (
        f"{sender.profession_code}^{escape(sender.profession_label)}^{PROFESSION_SYSTEM}"
        if sender.profession_code
        else ""
    )
    organization = f"{escape(sender.organization)}^^^^^{STRUCTURE_AUTHORITY}^FINEG^^^{escape(sender.finess_eg)}"
    return f"PRT||UC||SB^Send by^participation|{person}|{profession}||{organization}"


def _recipient(address: str, known: dict[str, Person]) -> str:
    person = known.get(address.lower())
    xcn = (
        f"{escape(person.identifier)}^{escape(person.family_name)}^{escape(person.given_name)}"
        f"^^^^^^{person.authority}^{person.name_type}^^^{person.id_type}"
        if person
        else ""
    )
    return f"PRT||UC||RCT^Result Copies To^participation|{xcn}" + "|" * 10 + f"^NET^X.400^{escape(address)}"


def _metadata(t: Transmission) -> list[str]:
    segments: list[str] = []
    number = 2  # the document OBX is 1
    for code, label in METADATA:
        flag = "Y" if t.metadata.get(code) else "N"
        segments.append(f"OBX|{number}|CWE|{code}^{escape(label)}^MetaDMPMSS||{flag}^^expandedYes-NoIndicator||||||F|")
        number += 1
        if code == "DESTMSSANTEPAT" and t.metadata.get(code) and not t.patient_may_reply:
            segments.append("NTE|1|||FIN|")  # the patient cannot answer the hospital's mailbox
    for (code, label), body in _mail_bodies(t):
        if body:
            data = base64.b64encode(body.encode("utf-8")).decode("ascii")
            segments.append(f"OBX|{number}|ED|{code}^{escape(label)}^MetaDMPMSS||^text^^Base64^{data}||||||F|")
            number += 1
    return segments


def _mail_bodies(t: Transmission) -> tuple[tuple[tuple[str, str], str], ...]:
    """CORPSMAIL_PS and CORPSMAIL_PATIENT; those of a replacement sent by mail open with the preset notice."""
    bodies = (
        (MAIL_BODY_PS, t.mail_body_ps, "DESTMSSANTEPS"),
        (MAIL_BODY_PATIENT, t.mail_body_patient, "DESTMSSANTEPAT"),
    )
    if t.trigger != "T10":
        return tuple((metadata, body) for metadata, body, _destination in bodies)
    return tuple(
        (metadata, _replacement_mail_body(body) if body or t.metadata.get(destination) else "")
        for metadata, body, destination in bodies
    )


def _replacement_mail_body(body: str) -> str:
    """The mail body of a replacement: the "annule et remplace" notice, then the usual text."""
    notice = f"{REPLACEMENT_NOTICE_TITLE} — {REPLACEMENT_NOTICE}"
    return f"{notice}\n\n{body}" if body else notice


def _ts(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y%m%d%H%M%S") if value else ""
