"""Integration of a CDA received from outside (manual import, the DMP, MSSanté): identity check, version chain."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from documents.cda import (
    CdaHeader,
    CdaPatient,
    KnownVersion,
    VersionStatus,
    VersionVerdict,
    detect_version,
    parse_cda_header,
)
from documents.models import Document, DocumentVersion, Status
from documents.services.writing import audit_document
from dpi.models import AuditEvent, CareUnit, User
from patients.access import require_access
from patients.models import Episode, IdentityStatus, Patient


@dataclass(frozen=True)
class Integration:
    document: Document
    version: DocumentVersion
    status: VersionStatus  # NEW_DOCUMENT or NEW_VERSION
    warnings: tuple[str, ...]


def identity_differences(patient: Patient, cda_patient: CdaPatient) -> list[str]:
    """How the document's patient differs from the file's: the five INS traits and the INS (French)."""
    return list(compare_identity(patient, cda_patient).differences)


@dataclass(frozen=True)
class IdentityComparison:
    """The document's patient against the file's: the differences (French) and whether a user may confirm them.

    A different INS is never confirmable: the document is another person's. Trait differences may be confirmed
    when the file's identity is not qualified, or when the document carries the file's own INS (the national
    identifier proves the person; the traits were e.g. corrected in the file since). Traits that differ from a
    qualified identity in a document without its INS are not confirmable either: nothing proves the person.
    """

    differences: tuple[str, ...]
    confirmable: bool
    ins_differs: bool = False


def compare_identity(patient: Patient, cda_patient: CdaPatient) -> IdentityComparison:
    differences = []
    traits = [
        ("nom de naissance", patient.birth_name, cda_patient.birth_name),
        ("prénoms", patient.first_names, " ".join(cda_patient.first_names)),
        ("date de naissance", patient.birth_date, cda_patient.birth_date),
        ("sexe", patient.sex, cda_patient.sex),
        ("lieu de naissance", patient.birth_place_insee, cda_patient.birth_place_insee),
    ]
    for label, local, received in traits:
        if received and str(local).upper() != str(received).upper():
            differences.append(f"{label} : « {received} » dans le document, « {local} » dans le dossier")
    ins = cda_patient.ins
    same_ins = bool(ins and patient.ins) and (ins.extension, ins.root) == (patient.ins, patient.ins_oid)
    ins_differs = bool(ins and patient.ins) and not same_ins
    if ins and not same_ins:
        differences.append(
            f"INS : {ins.extension} ({ins.root}) dans le document, {patient.ins or 'aucun'} dans le dossier"
        )
    qualified = patient.identity_status == IdentityStatus.QUALIFIEE and bool(patient.ins)
    confirmable = not ins_differs and (same_ins or not qualified)
    return IdentityComparison(tuple(differences), confirmable, ins_differs)


def _identity_refusal(comparison: IdentityComparison) -> ValidationError:
    """One error per difference, each with its code (a list given to ValidationError keeps no code of its own):
    ``identity_mismatch`` when the user may confirm, ``identity_refused`` when no confirmation can file it."""
    if comparison.confirmable:
        return ValidationError([ValidationError(text, code="identity_mismatch") for text in comparison.differences])
    if comparison.ins_differs:
        reason = _(
            "L'INS du document n'est pas celui du dossier : ce document concerne un autre patient, "
            "il ne peut pas y être classé."
        )
    else:
        reason = _(
            "L'identité du dossier est qualifiée et le document ne porte pas son INS : "
            "les différences ne peuvent pas être confirmées."
        )
    texts = [reason, *comparison.differences]
    return ValidationError([ValidationError(text, code="identity_refused") for text in texts])


def _known_versions(patient: Patient) -> list[KnownVersion]:
    rows = DocumentVersion.objects.filter(document__patient=patient).values_list(
        "cda_id_root", "cda_id_extension", "document__set_id", "version_number"
    )
    return [KnownVersion(root, extension, set_id, number) for root, extension, set_id, number in rows]


@transaction.atomic
def integrate_cda(
    *,
    patient: Patient,
    data: bytes,
    provenance: str,
    acting_user: User | None = None,
    episode: Episode | None = None,
    care_unit: CareUnit | None = None,
    stylesheet: bytes = b"",
    accept_identity_differences: bool = False,
    request: HttpRequest | None = None,
) -> Integration:
    """Store a CDA received from outside in the patient's file, recognising duplicates and new versions.

    The one place that detects versions (by setId + versionNumber, or without setId by a changed id,
    versionNumber + 1 and relatedDocument); the DMP and MSSanté integrations call it too.
    Raises :class:`documents.cda.InvalidCda` for what is not a readable CDA and ``ValidationError``
    for a duplicate, an outdated version, or (unless accepted) a patient identity that differs from
    the file's: nothing is stored then. A new document is filed in ``care_unit`` (the unit of the
    user who integrates it) and its site's FINESS.
    """
    if acting_user is not None:
        require_access(acting_user, patient)
    header = parse_cda_header(data)
    verdict = detect_version(header, _known_versions(patient))
    if verdict.status == VersionStatus.DUPLICATE:
        raise ValidationError(_("Ce document est déjà dans le dossier (même identifiant)."), code="duplicate")
    if verdict.status == VersionStatus.STALE:
        raise ValidationError(
            _("Une version plus récente de ce document est déjà dans le dossier (version %(n)s).")
            % {"n": verdict.known.version_number if verdict.known else "?"},
            code="stale",
        )
    comparison = compare_identity(patient, header.patient)
    warnings = comparison.differences
    if warnings and not (accept_identity_differences and comparison.confirmable):
        raise _identity_refusal(comparison)
    document, previous = _document_for(patient, header, verdict, provenance, episode, care_unit)
    version = DocumentVersion.objects.create(
        document=document,
        version_number=header.version_number or 1,
        cda_id_root=header.id.root,
        cda_id_extension=header.id.extension,
        replaces=previous,
        level=header.level,
        cda=data,
        pdf=header.pdf or b"",
        stylesheet=stylesheet,
        validated_at=timezone.now(),
    )
    document.current_version = version
    document.save(update_fields=["current_version"])
    detail = {"version": version.version_number, "cda_id": header.id.key, "warnings": list(warnings)}
    change = AuditEvent.Change(f"integrated_{verdict.status}")
    audit_document(document, acting_user, change, request, provenance=provenance, **detail)
    if warnings:  # the user confirmed the differences: a row of its own, easy to find and review
        audit_document(document, acting_user, AuditEvent.Change.IDENTITY_DIFFERENCES_CONFIRMED, request,
                       provenance=provenance, version=version.version_number, differences=list(warnings))  # fmt: skip
    return Integration(document, version, verdict.status, warnings)


def _document_for(
    patient: Patient,
    header: CdaHeader,
    verdict: VersionVerdict,
    provenance: str,
    episode: Episode | None,
    care_unit: CareUnit | None,
) -> tuple[Document, DocumentVersion | None]:
    """The document a new version belongs to (with the version it replaces), or a new document."""
    if verdict.status == VersionStatus.NEW_VERSION:
        document = Document.objects.select_for_update().get(patient=patient, set_id=verdict.set_id)
        return document, document.current_version
    author = " ".join(filter(None, [header.author_given_name, header.author_family_name]))
    document = Document.objects.create(
        patient=patient,
        episode=episode,
        set_id=verdict.set_id,
        type_code=header.type_code,
        type_label=header.type_label or header.type_code,
        title=header.title or header.type_label,
        act_date=header.service_start or header.effective_time or timezone.now(),
        act_end=header.service_end,
        provenance=provenance,
        status=Status.VALIDATED,
        author_name=author,
        author_national_id=header.author_id.extension if header.author_id else "",
        author_organization=header.custodian_name,
        care_unit=care_unit,
        finess_eg=care_unit.site.finess_eg if care_unit else "",
    )
    return document, None
