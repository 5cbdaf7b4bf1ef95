"""Writing documents in the DPI: drafts, validation (PDF/A + CDA R2), correction, deletion."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from directory.models import Correspondent
from documents.cda import build_cda
from documents.composition import document_content
from documents.models import Document, DocumentVersion, Provenance, Status
from documents.pdf import render_pdf
from documents.recipients import sending_addresses, snapshots
from documents.rules import Operation, WritingRefused, require
from documents.schema import cda_schema_errors
from documents.signals import document_deleted, version_validated
from documents.types import SEGUR_TYPES, FieldSpec, SegurType
from dpi.models import AuditEvent, CareUnit, User
from dpi.services import audit
from patients.access import require_access
from patients.models import Episode, Patient

logger = logging.getLogger(__name__)


FLAGS = ("hold_sending", "masked_to_professionals", "invisible_to_patient", "invisible_to_legal_representatives")


def _apply_flags(document: Document, flags: dict[str, bool]) -> None:
    """Sending hold and DMP visibility chosen by the author (a visibility change after validation is a new version)."""
    for name, value in flags.items():
        if name not in FLAGS:
            raise ValueError(name)
        setattr(document, name, bool(value))


@dataclass(frozen=True)
class Recipients:
    """Recipients chosen by the author: correspondents, other professionals' addresses, the patient's mailbox."""

    professionals: tuple[str, ...] = ()
    patient: bool = False
    correspondents: tuple[Correspondent, ...] = ()  # named in the document (HOP/va1.05), their addresses sent to
    patient_may_reply: bool = False  # to a document sent to the patient's Mon espace santé mailbox


def _apply_recipients(document: Document, recipients: Recipients | None) -> None:
    if recipients is None:
        return
    document.recipients = snapshots(document.patient, recipients.correspondents)
    document.mss_recipients = sending_addresses(recipients.professionals, recipients.correspondents)
    document.mss_to_patient = recipients.patient
    document.patient_may_reply = recipients.patient and recipients.patient_may_reply


def audit_document(
    document: Document,
    user: User | None,
    change: AuditEvent.Change,
    request: HttpRequest | None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    **detail: Any,
) -> None:
    audit(
        action=AuditEvent.Action.DOCUMENT_CHANGE,
        actor=user,
        request=request,
        obj=document,
        patient_id=document.patient_id,
        change=change,
        before=before,
        after=after,
        detail=detail,
    )


def _segur_type(type_code: str) -> SegurType:
    try:
        return SEGUR_TYPES[type_code]
    except KeyError:
        raise ValidationError(_("Type de document inconnu : %(code)s") % {"code": type_code}) from None


def create_draft(
    *,
    patient: Patient,
    type_code: str,
    title: str,
    fields: dict[str, str],
    act_date: datetime,
    acting_user: User,
    episode: Episode | None = None,
    care_unit: CareUnit | None = None,
    flags: dict[str, bool] | None = None,
    recipients: Recipients | None = None,
    request: HttpRequest | None = None,
    validating: bool = False,
) -> Document:
    """A new Ségur document, in draft, written by ``acting_user`` for ``patient``.

    ``validating``: the draft is saved on its way to :func:`validate_document` (``saved_draft="draft_created"``),
    whose one audit row says it was saved. The writing rules decide whether ``acting_user`` may draft this type
    (:mod:`documents.rules`): a refusal is audited and raises :class:`~documents.rules.WritingRefused`."""
    require_access(acting_user, patient)
    segur = _segur_type(type_code)
    unit = care_unit or (episode.care_unit if episode else None)
    require(user=acting_user, operation=Operation.DRAFT, type_code=segur.code, patient_id=patient.pk,
            care_unit=unit, request=request)  # fmt: skip
    return _create_draft(patient, segur, title, fields, act_date, acting_user, episode, unit, flags, recipients,
                         request, validating)  # fmt: skip


@transaction.atomic
def _create_draft(
    patient: Patient,
    segur: SegurType,
    title: str,
    fields: dict[str, str],
    act_date: datetime,
    acting_user: User,
    episode: Episode | None,
    unit: CareUnit | None,
    flags: dict[str, bool] | None,
    recipients: Recipients | None,
    request: HttpRequest | None,
    validating: bool,
) -> Document:
    document = Document(
        patient=patient,
        episode=episode,
        set_id="pending",
        type_code=segur.code,
        type_label=segur.label,
        title=title,
        act_date=act_date,
        provenance=Provenance.PRODUCED,
        author=acting_user,
        care_unit=unit,
        finess_eg=unit.site.finess_eg if unit else "",
        fields=fields,
        **_author_snapshot(acting_user, unit),
    )
    _apply_flags(document, flags or {})
    _apply_recipients(document, recipients)
    document.save()
    document.set_id = f"{settings.DPI_OID_ROOT}.1.{document.pk}"
    document.save(update_fields=["set_id"])
    if not validating:
        audit_document(
            document, acting_user, AuditEvent.Change.DRAFT_CREATED, request, hold_sending=document.hold_sending
        )
    return document


def update_draft(
    *,
    document: Document,
    title: str,
    fields: dict[str, str],
    act_date: datetime,
    acting_user: User,
    flags: dict[str, bool] | None = None,
    recipients: Recipients | None = None,
    request: HttpRequest | None = None,
    validating: bool = False,
) -> Document:
    """Edit a draft; a validated version is locked (see :func:`start_correction`). ``validating``: as for
    :func:`create_draft` (``saved_draft="draft_updated"``). The writing rules apply as for :func:`create_draft`."""
    require_access(acting_user, document.patient)
    _require(document, acting_user, Operation.DRAFT, request, "draft_updated")
    return _update_draft(document, title, fields, act_date, acting_user, flags, recipients, request, validating)


def _require(document: Document, user: User, operation: Operation, request: HttpRequest | None, step: str) -> None:
    require(user=user, operation=operation, type_code=document.type_code, patient_id=document.patient_id,
            care_unit=document.care_unit, document=document, request=request, step=step)  # fmt: skip


@transaction.atomic
def _update_draft(
    document: Document,
    title: str,
    fields: dict[str, str],
    act_date: datetime,
    acting_user: User,
    flags: dict[str, bool] | None,
    recipients: Recipients | None,
    request: HttpRequest | None,
    validating: bool,
) -> Document:
    if document.is_locked:
        raise ValidationError(_("Ce document est validé : corrigez-le pour créer une nouvelle version."))
    document.title, document.fields, document.act_date = title, fields, act_date
    _apply_flags(document, flags or {})
    _apply_recipients(document, recipients)
    document.save()
    if not validating:
        audit_document(
            document, acting_user, AuditEvent.Change.DRAFT_UPDATED, request, hold_sending=document.hold_sending
        )
    return document


def validate_document(
    *, document: Document, acting_user: User, request: HttpRequest | None = None, saved_draft: str = ""
) -> DocumentVersion:
    """Lock the draft into a new version: render the PDF/A and the CDA R2 (N1 carrying it) from the same content.

    One audit row says what the validation did: the version, the draft saved just before when ``saved_draft``
    names it (``"draft_created"``/``"draft_updated"``, saved with ``validating=True``), and the sendings the
    receivers of ``version_validated`` ordered (they return them). A refused validation leaves the saved
    draft with its own row. Only a user whom the writing rules allow to validate the type may; the author
    stays the draft's writer, ``acting_user`` becomes the version's validator (the CDA's legalAuthenticator).
    """
    try:
        _require(document, acting_user, Operation.VALIDATE, request, "validated")
        return _validate(document=document, acting_user=acting_user, request=request, saved_draft=saved_draft)
    except (ValidationError, WritingRefused):
        if saved_draft:
            change = AuditEvent.Change(saved_draft)
            audit_document(document, acting_user, change, request, hold_sending=document.hold_sending)
        raise


@transaction.atomic
def _validate(
    *, document: Document, acting_user: User, request: HttpRequest | None, saved_draft: str
) -> DocumentVersion:
    require_access(acting_user, document.patient)
    list(Document.objects.select_for_update().filter(pk=document.pk).values_list("pk"))  # one validation at a time
    document.refresh_from_db()
    if document.status != Status.DRAFT:
        raise ValidationError(_("Seul un brouillon peut être validé."))
    _check_required_fields(document)
    previous = document.current_version
    number = previous.version_number + 1 if previous else 1
    level = produced_level(document.type_code)
    version = DocumentVersion(
        document=document,
        version_number=number,
        cda_id_root=f"{settings.DPI_OID_ROOT}.2.{document.pk}.{number}",
        replaces=previous,
        level=level,
        validated_at=timezone.now(),
        validated_by=acting_user,
    )
    content = document_content(document, version, acting_user)
    version.pdf = render_pdf(content)
    try:
        version.cda = build_cda(content, pdf=version.pdf, level=level)
    except ValueError as exc:  # content the CDA cannot say (an author without profession...): the user can act
        raise ValidationError(str(exc)) from exc
    _check_schema(version.cda)
    version.save()
    document.current_version = version
    document.status = Status.VALIDATED
    document.save(update_fields=["current_version", "status"])
    answers = version_validated.send(sender=DocumentVersion, version=version, acting_user=acting_user)
    feeding = [_ordered(order) for _receiver, orders in answers for order in orders or ()]
    detail: dict[str, Any] = {"version": number, "cda_id": version.cda_id_root, "feeding": feeding}
    if saved_draft:
        detail |= {"draft": saved_draft, "hold_sending": document.hold_sending}
    audit_document(
        document,
        acting_user,
        AuditEvent.Change.VALIDATED,
        request,
        before={"status": Status.DRAFT},
        after={"status": Status.VALIDATED},
        **detail,
    )
    return version


def _ordered(order: Any) -> dict[str, Any]:
    """A sending ordered at validation, as its audit row said before it joined the validation's."""
    due = timezone.localtime(order.due_at).isoformat()  # Europe/Paris, as every time the user reads
    return {"order": order.pk, "channel": order.channel, "state": order.state, "due_at": due}


def start_correction(*, document: Document, acting_user: User, request: HttpRequest | None = None) -> Document:
    """Reopen a validated document for a new version (same setId, versionNumber + 1, replacing the current):
    a writing act, for those the writing rules allow to draft the type."""
    require_access(acting_user, document.patient)
    _require(document, acting_user, Operation.DRAFT, request, "correction_started")
    return _start_correction(document, acting_user, request)


@transaction.atomic
def _start_correction(document: Document, acting_user: User, request: HttpRequest | None) -> Document:
    if document.status != Status.VALIDATED or document.provenance != Provenance.PRODUCED:
        raise ValidationError(_("Seul un document validé produit dans le DPI peut être corrigé."))
    document.status = Status.DRAFT
    document.save(update_fields=["status"])
    audit_document(
        document,
        acting_user,
        AuditEvent.Change.CORRECTION_STARTED,
        request,
        before={"status": Status.VALIDATED},
        after={"status": Status.DRAFT},
    )
    return document


@transaction.atomic
def delete_document(
    *, document: Document, acting_user: User, request: HttpRequest | None = None, notify_mss: bool = False
) -> Document:
    """Mark the document deleted: it stays visible, as deleted, to habilitated users. ``notify_mss``: its
    MSSanté recipients are told (SC.MSS/UX.38, by the receivers of ``document_deleted``)."""
    require_access(acting_user, document.patient)
    if document.status == Status.DELETED:
        return document
    before = {"status": document.status}
    document.status = Status.DELETED
    document.save(update_fields=["status"])
    after = {"status": document.status}
    audit_document(
        document, acting_user, AuditEvent.Change.DELETED, request, before=before, after=after, notify_mss=notify_mss
    )
    document_deleted.send(sender=Document, document=document, acting_user=acting_user, notify_mss=notify_mss)
    return document


def _author_snapshot(user: User, unit: CareUnit | None) -> dict[str, str]:
    role = user.get_profession_display() or ""
    if user.specialty:
        role = f"{role} · {user.get_specialty_display()}"
    return {
        "author_name": user.display_name,
        "author_national_id": user.national_id,
        "author_role": role,
        "author_organization": unit.site.name if unit else "",
    }


def produced_level(type_code: str) -> str:
    """N3 of its volet for a type that has one (the discharge letter, LDL-SES), N1 otherwise (docs/cda.md)."""
    return "N3" if _segur_type(type_code).volet else "N1"


def _check_required_fields(document: Document) -> None:
    specs = _segur_type(document.type_code).fields
    missing = [f.label for f in specs if f.required and not document.fields.get(f.name)]
    if missing:
        raise ValidationError(_("Champs obligatoires manquants : %(fields)s") % {"fields": ", ".join(missing)})
    unknown = [f.label for f in specs if f.is_choice and document.fields.get(f.name) and not _choice(document, f)]
    if unknown:
        raise ValidationError(_("Valeur hors liste : %(fields)s") % {"fields": ", ".join(unknown)})


def _choice(document: Document, spec: FieldSpec) -> str:
    return spec.choice_label(document.fields.get(spec.name) or "")


def _check_schema(cda: bytes) -> None:
    """Refuse a CDA the schema rejects; without the schema installed, log and go on."""
    try:
        errors = cda_schema_errors(cda)
    except ImproperlyConfigured:
        logger.warning("CDA schema not installed (CDA_SCHEMA_PATH): produced CDA not validated")
        return
    if errors:
        raise ValidationError(_("Le CDA produit est invalide : %(errors)s") % {"errors": "; ".join(errors[:3])})
