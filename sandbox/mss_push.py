"""Sandbox PFI, inbound MSSanté side: MDM messages of the volet "Transmission au LPS d'un document CDA
provenant d'un courriel MSSanté" (v1.1), from the national samples or generated for a local patient.

:func:`build_mdm` writes the message field by field (tests and ``manage.py sandbox_push_mss`` use it);
:func:`patient_document` builds a CDA R2 N1 for a patient of the database, optionally with one trait
changed (``alter``) so that the DPI refuses it; :func:`push` sends a message to the DPI's MLLP listener.
"""

from __future__ import annotations

import base64
import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from documents.cda import build_cda
from documents.content import Author, DocumentContent, DocumentType, Organization, PatientIdentity, Section

# A one-page PDF, small and valid enough for the viewers (the CDA N1 body).
MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>endobj\n"
    b"4 0 obj<</Length 60>>stream\nBT /F1 18 Tf 72 760 Td (Compte rendu recu par MSSante) Tj ET\nendstream endobj\n"
    b"5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
TRAITS = ("birth_name", "first_names", "birth_date", "sex", "birth_place", "ins", "ins_oid")
TRIGGERS = {"T02": ("NW", "F"), "T10": ("RO", "C"), "T04": ("CA", "D")}
SENDER_ID = "801234567897"
SENDER_ORGANIZATION = "1130000001"  # national structure id of the sending hospital ("1" + FINESS)


@dataclass(frozen=True)
class Mdm:
    """An inbound LPS MDM; ``cda`` is the document sent (base64-encoded in OBX-5)."""

    cda: bytes
    document_id: str  # root of ClinicalDocument/id (TXA-12)
    trigger: str = "T02"
    control_id: str = field(default_factory=lambda: uuid.uuid4().hex[:20])
    replaced_id: str = ""  # TXA-13
    ins: str = ""
    ins_oid: str = "1.2.250.1.213.1.4.8"
    birth_name: str = ""
    first_names: str = ""
    birth_date: str = ""  # YYYYMMDD
    sex: str = ""
    birth_place: str = ""
    sender: str = "dr.expediteur@hopital-voisin.mssante.fr"
    sender_id: str = SENDER_ID
    recipient: str = "dpi@hopital.mssante.fr"
    subject: str = "XDM/1.0/DDM+Compte rendu"
    visibility: tuple[str, str, str] = ("N", "N", "N")  # MASQUE_PS, INVISIBLE_PATIENT, INVISIBLE_REP_LEGAUX
    profile: str = "1.1^CISIS_CDA_HL7_LPS"
    order_control: str = ""  # default: the trigger's
    result_status: str = ""

    def but(self, **changes: object) -> Mdm:
        return replace(self, **changes)

    def text(self) -> str:
        order_control, status = TRIGGERS[self.trigger]
        pid_ids = f"{self.ins}^^^ASIP-SANTE-INS-NIR&{self.ins_oid}&ISO^INS" if self.ins else ""
        place = f"~^^^^^^BDL^^{self.birth_place}" if self.birth_place else ""
        segments = [
            f"MSH|^~\\&|PFI|PFI-CHU|DPI|CHU|{_now()}||MDM^{self.trigger}^MDM_T02|{self.control_id}|P|2.6|||||FRA|"
            f"UNICODE UTF-8|||{self.profile}",
            f"EVN||{_now()}",
            f"PID|||{pid_ids}||{self.birth_name}^{self.first_names.split(' ')[0]}^{self.first_names}^^^^L||"
            f"{self.birth_date}|{self.sex}|||^^^^^FRA^H{place}|||||||||||||||||||||VALI",
            "PV1|1|N",
            f"ORC|{self.order_control or order_control}|",
            "OBR|1|||11488-4^Compte rendu de consultation^LN|",
            f"TXA|1|11488-4|TEXT|{_now()}||||||||{self.document_id}|{self.replaced_id}||||AU",
            f"OBX|1|ED|11488-4^Compte rendu de consultation^LN||^text^XML^Base64^"
            f"{base64.b64encode(self.cda).decode()}||||||{self.result_status or status}|",
            f"PRT||UC||SB^Send by^participation|{self.sender_id}^EXPEDITEUR^Paul^^^^^^ASIP-SANTE-PS&1.2.250.1.71.4.2.1"
            f"&ISO^D^^^IDNPS|||Hôpital voisin^^^^^ASIP-SANTE-ST&1.2.250.1.71.4.2.2&ISO^FINEG^^^{SENDER_ORGANIZATION}"
            f"|||||||^^X.400^{self.sender}",
            f"PRT||UC||RCT^Result Copies To^participation|||||||||||^^X.400^{self.recipient}",
            f"OBX|2|ED|<{uuid.uuid4().hex}@mssante.fr>^{self.subject}||^text^^Base64^"
            f"{base64.b64encode(b'Bonjour, ci-joint le compte rendu.').decode()}||||||F|",
        ]
        codes = ("MASQUE_PS", "INVISIBLE_PATIENT", "INVISIBLE_REP_LEGAUX", "MODIF_CONF_CODE")
        values = (*self.visibility, "N")
        for number, (code, value) in enumerate(zip(codes, values, strict=True), start=3):
            segments.append(f"OBX|{number}|CWE|{code}^{code}^MetaDMPMSS||{value}^^expandedYes-NoIndicator||||||F|")
        return "\r".join(segments) + "\r"

    def encode(self) -> bytes:
        return self.text().encode("utf-8")


def _now() -> str:
    return timezone.localtime().strftime("%Y%m%d%H%M%S")


def patient_identity(patient: object, alter: str = "") -> PatientIdentity:
    """The patient's identity as a sender would write it, with one trait changed when ``alter`` names one."""
    identity = PatientIdentity(
        ipp=patient.ipp,
        ipp_root="1.2.250.1.999.9.3",  # the sender's own IPP domain
        birth_name=patient.birth_name,
        first_names=patient.first_names,
        birth_date=patient.birth_date,
        sex=patient.sex,
        birth_place_insee=patient.birth_place_insee,
        ins=patient.ins,
        ins_oid=patient.ins_oid,
    )
    return altered(identity, alter) if alter else identity


def altered(identity: PatientIdentity, trait: str) -> PatientIdentity:
    if trait not in TRAITS:
        raise ValueError(f"unknown trait {trait!r}: one of {', '.join(TRAITS)}")
    changes: dict[str, object] = {
        "birth_name": {"birth_name": identity.birth_name + "X"},
        "first_names": {"first_names": identity.first_names + " MARIE"},
        "birth_date": {"birth_date": (identity.birth_date or date(1980, 1, 1)) + timedelta(days=1)},
        "sex": {"sex": "M" if identity.sex == "F" else "F"},
        "birth_place": {"birth_place_insee": "99100" if identity.birth_place_insee != "99100" else "75056"},
        "ins": {"ins": _other_ins(identity.ins)},
        "ins_oid": {"ins_oid": "1.2.250.1.213.1.4.9" if identity.ins_oid != "1.2.250.1.213.1.4.9" else
                    "1.2.250.1.213.1.4.8"},
    }[trait]  # fmt: skip
    return replace(identity, **changes)


def _other_ins(ins: str) -> str:
    from dpi.validators import nir_key

    base = f"{(int(ins[:13]) + 1) % 10**13:013d}" if ins[:13].isdigit() else "2800375000001"
    return base + nir_key(base)


def patient_document(
    identity: PatientIdentity,
    *,
    id_root: str = "",
    version: int = 1,
    replaces: str = "",
    set_id: str = "",
    title: str = "Compte rendu de consultation de cardiologie",
    author_id: str = SENDER_ID,
    organization_id: str = SENDER_ORGANIZATION,
) -> tuple[str, bytes]:
    """A CDA R2 N1 sent by a neighbouring hospital about ``identity``: (its id root, its bytes)."""
    id_root = id_root or f"1.2.250.1.999.9.2.{uuid.uuid4().int % 10**12}"
    organization = Organization(name="Hôpital voisin", finess_eg=organization_id[1:], finess_ej="130000001")
    author = Author(national_id=author_id, family_name="EXPEDITEUR", given_name="Paul", profession_code="10",
                    organization=organization)  # fmt: skip
    moment = timezone.now().replace(microsecond=0)
    content = DocumentContent(
        id_root=id_root,
        set_id=set_id or f"{id_root}.0",
        version_number=version,
        type=DocumentType("11488-4", "Compte rendu de consultation"),
        title=title,
        created_at=moment,
        act_start=moment - timedelta(hours=1),
        act_end=None,
        patient=identity,
        author=author,
        custodian=organization,
        sections=(Section("29545-1", "Examen", paragraphs=("Examen clinique normal.",)),),
        replaces_id=replaces,
    )
    return id_root, build_cda(content, pdf=MINIMAL_PDF, level="N1")


def mdm_for(identity: PatientIdentity, cda: bytes, id_root: str, **options: object) -> Mdm:
    """The MDM carrying ``cda``, its PID written from the same identity."""
    return Mdm(
        cda=cda,
        document_id=id_root,
        ins=identity.ins,
        ins_oid=identity.ins_oid or "1.2.250.1.213.1.4.8",
        birth_name=identity.birth_name,
        first_names=identity.first_names,
        birth_date=identity.birth_date.strftime("%Y%m%d") if identity.birth_date else "",
        sex=identity.sex,
        birth_place=identity.birth_place_insee,
        **options,
    )


def sample_text(path: Path, control_id: str = "") -> str:
    """A sample message, CR-terminated; with ``control_id``, MSH-10 replaced (the samples all use 015)."""
    text = "\r".join(line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()) + "\r"
    if control_id:
        text = re.sub(r"^(MSH(?:\|[^|\r]*){8})\|[^|\r]*", lambda m: f"{m.group(1)}|{control_id}", text, count=1)
    return text


def push(message: str | bytes, *, host: str | None = None, port: int | None = None) -> object:
    """Send one message to the DPI's MLLP listener; returns the parsed ACK (or raises TransportError)."""
    from dpi.hl7.client import send

    return send(message, host=host or settings.MLLP_HOST, port=port or settings.MLLP_PORT, retries=1, timeout=30)


def describe(ack: object) -> str:
    """One line per ACK: MSA-1, then each ERR (code, application code and label, text)."""
    parts = [getattr(ack, "code", "?")]
    for error in getattr(ack, "errors", ()):
        application = error.application_error
        label = f" {application.code} {application.label}" if application else ""
        parts.append(f"[{error.code}{label}] {error.text}")
    return " ".join(parts)
