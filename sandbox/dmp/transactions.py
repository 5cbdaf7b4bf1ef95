"""What every transaction of the sandbox DMP shares: who asks (the verified caller), about which DMP,
the DMP's access rules (§3, after the VIHF checks), and what a transaction answers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from lxml import etree

from sandbox.dmp.identifiers import Ins
from sandbox.dmp.soap import Attachment, DmpFault, SoapRequest
from sandbox.dmp.vihf import Caller
from sandbox.models import PatientDmp


class Rules(Enum):
    """Which DMP rules a transaction is subject to."""

    NONE = "none"  # TD0.2: answers INEXISTANT, FERME, INTERDIT instead of faults
    DMP = "dmp"  # TD0.3: an open DMP, a professional not blocked
    ACCESS = "access"  # TD3.x, web pages: and a valid individual authorisation


@dataclass(frozen=True)
class Exchange:
    request: SoapRequest
    caller: Caller
    dmp: PatientDmp | None
    now: datetime


@dataclass
class Answer:
    """A transaction's answer body, and what the call record keeps of it."""

    body: etree._Element
    attachments: list[Attachment] = field(default_factory=list)
    unique_ids: list[str] = field(default_factory=list)
    query_id: str = ""
    parameters: dict = field(default_factory=dict)
    outcome: str = "ok"
    outcome_text: str = ""


@dataclass(frozen=True)
class Transaction:
    name: str
    rules: Rules
    patient_of: Callable[[etree._Element], Ins | None]  # the patient the request's body names, if any
    handle: Callable[[Exchange], Answer]


def dmp_for(caller: Caller, rules: Rules, now: datetime) -> PatientDmp | None:
    """The caller's patient's DMP, once the DMP rules let this professional in (faults in the order of §3)."""
    dmp = PatientDmp.objects.filter(ins=caller.patient.value, ins_oid=caller.patient.oid).first()
    if rules is Rules.NONE:
        return dmp
    if dmp is None:
        raise DmpFault("dmp:DMPNotFound", "Ce patient n'a pas de DMP.")
    if not dmp.is_open:
        raise DmpFault("dmp:DMPClosed", "Le DMP de ce patient est fermé.")
    if rules is Rules.ACCESS and not authorised(dmp, caller.national_id, now):
        raise DmpFault("dmp:AccessNotAuthorized", "Aucune autorisation d'accès valide de ce professionnel sur ce DMP.")
    if caller.national_id in dmp.blocked_professionals:
        raise DmpFault("dmp:ProfessionalBlocked", "Le patient a bloqué l'accès de ce professionnel à son DMP.")
    return dmp


def authorised(dmp: PatientDmp, national_id: str, now: datetime) -> bool:
    return dmp.authorisations.filter(national_id=national_id, until__gt=now).exists()
