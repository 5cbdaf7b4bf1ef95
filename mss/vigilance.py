"""Identity vigilance of the MSSanté inbound flow: the documents refused for their identity (902-905) that the
identity-vigilance team has not handled yet, what they say of the patient beside the closest local identities,
and the two ways out: filed by hand into the right patient (the manual import and its identity checks), or
marked handled (who, when, why; audited)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from documents.cda import CdaHeader, CdaPatient, InvalidCda, parse_cda_header
from dpi.models import AuditEvent, User
from dpi.services import audit, stamp_once
from mss.hl7 import journal_cda
from mss.matching import first_names
from mss.models import PendingImport, Trace
from mss.refusals import APPLICATION_ERRORS, Refusal
from patients.models import Patient
from patients.names import name_key

IDENTITY_CODES = ("902", "903", "904", "905")
PERMISSION = "mss.identity_vigilance"
CANDIDATES_SHOWN = 5


def may_handle(user: User) -> bool:
    """The identity-vigilance team: the ``mss.identity_vigilance`` permission (a group in practice)."""
    return user.is_active and user.has_perm(PERMISSION)


def pending_refusals(limit: int = 100) -> QuerySet[Trace]:
    """Refused-for-identity documents not handled yet, oldest first (the work list's order)."""
    return (
        Trace.objects.filter(event=Trace.Event.REFUSED, error_code__in=IDENTITY_CODES, handled_at__isnull=True)
        .select_related("patient")
        .order_by("at", "pk")[:limit]
    )


def refusal_label(code: str) -> str:
    return APPLICATION_ERRORS.get(code, "")


@dataclass(frozen=True)
class TraitRow:
    """One trait of the comparison: the document's value, then each candidate's with whether it differs."""

    label: str
    received: str
    local: tuple[tuple[str, bool], ...]


@dataclass(frozen=True)
class Comparison:
    header: CdaHeader | None
    candidates: list[Patient]
    rows: list[TraitRow]
    problem: str = ""


def _traits_of_document(patient: CdaPatient) -> list[tuple[str, str]]:
    ins = f"{patient.ins.extension} ({patient.ins.root})" if patient.ins else ""
    born = patient.birth_date.strftime("%d/%m/%Y") if patient.birth_date else ""
    return [
        ("INS (OID)", ins), ("nom de naissance", patient.birth_name), ("prénoms de naissance", first_names(patient)),
        ("date de naissance", born), ("sexe", patient.sex), ("lieu de naissance (INSEE)", patient.birth_place_insee),
    ]  # fmt: skip


def _traits_of_identity(patient: Patient) -> list[str]:
    ins = f"{patient.ins} ({patient.ins_oid})" if patient.ins else ""
    born = patient.birth_date.strftime("%d/%m/%Y") if patient.birth_date else ""
    return [ins, patient.birth_name, patient.first_names, born, patient.sex, patient.birth_place_insee]


def closest_identities(received: CdaPatient, known: Patient | None = None) -> list[Patient]:
    """The identity the refusal named, the ones with the document's INS, then the homonyms: same birth name and
    birth date, or same first name and birth date, or same names (a birth date typed wrong); never merged ones."""
    birth_name, first = name_key(received.birth_name), name_key(received.first_name or first_names(received))
    close = Q(pk__in=[])
    if received.ins is not None:
        close |= Q(ins=received.ins.extension)
    if received.birth_date and birth_name:
        close |= Q(birth_date=received.birth_date, birth_name_key=birth_name)
    if received.birth_date and first:
        close |= Q(birth_date=received.birth_date, first_name_key=first)
    if birth_name and first:
        close |= Q(birth_name_key=birth_name, first_name_key=first)
    found = list(Patient.objects.filter(close, merged_into__isnull=True).order_by("birth_name_key", "pk")[:20])
    ranked = sorted(found, key=lambda patient: -_shared_traits(received, patient))
    first_ones = [known] if known is not None and known.merged_into_id is None else []
    return (first_ones + [patient for patient in ranked if patient not in first_ones])[:CANDIDATES_SHOWN]


def _shared_traits(received: CdaPatient, patient: Patient) -> int:
    document = [value for _label, value in _traits_of_document(received)]
    return sum(mine == theirs for mine, theirs in zip(_traits_of_identity(patient), document, strict=True))


def _cda(trace: Trace) -> bytes:
    if trace.message is None:
        raise InvalidCda("aucun message HL7 n'est associé à ce refus.")
    return journal_cda(trace.message)


def compare(trace: Trace) -> Comparison:
    """The document's patient (its CDA ``recordTarget``) beside the closest local identities, trait by trait,
    compared exactly as the automatic integration does (a difference of case or accent is a difference)."""
    try:
        header = parse_cda_header(_cda(trace))
    except (Refusal, InvalidCda) as error:
        return Comparison(None, [], [], problem=f"Document illisible dans le journal : {error}")
    candidates = closest_identities(header.patient, trace.patient)
    locals_ = [_traits_of_identity(patient) for patient in candidates]
    rows = [
        TraitRow(label, received, tuple((values[index], values[index] != received) for values in locals_))
        for index, (label, received) in enumerate(_traits_of_document(header.patient))
    ]
    return Comparison(header, candidates, rows)


@transaction.atomic
def mark_handled(*, trace: Trace, user: User, note: str = "", request: HttpRequest | None = None) -> Trace:
    """The refusal leaves the work list: who, when, why, and one audit row."""
    locked = stamp_once(trace, at="handled_at", by="handled_by", user=user, already="Ce refus a déjà été traité.")
    audit(
        action=AuditEvent.Action.DOCUMENT_CHANGE, actor=user, request=request, obj=locked,
        patient_id=locked.patient_id,
        change=AuditEvent.Change.IDENTITY_REFUSAL_HANDLED, detail={"error_code": locked.error_code, "note": note[:500]},
    )  # fmt: skip
    return locked


@transaction.atomic
def stage_for_import(*, trace: Trace, user: User) -> PendingImport:
    """The refused document, staged for the user's manual import (the patient then chosen goes through the
    import's habilitation and identity checks; a different INS is never filed). Filed, the refusal is handled."""
    cda = _cda(trace)
    header = parse_cda_header(cda)
    PendingImport.objects.filter(user=user, refused_trace=trace).delete()
    return PendingImport.objects.create(
        user=user, archive_name=f"MSSanté {trace.sender or trace.mailbox}"[:255], path=trace.cda_id[:255], cda=cda,
        title=(header.title or header.type_label)[:250], refused_trace=trace,
    )  # fmt: skip
