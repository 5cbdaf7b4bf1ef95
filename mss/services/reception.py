"""Reception from the PFI: integrate, replace or delete a document received by MSSanté, on an exact
identity match; a refusal changes nothing but the traces."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from documents.cda import CdaHeader, InstanceId, InvalidCda, VersionStatus, parse_cda_header
from documents.models import Document, DocumentVersion, Provenance, Status
from documents.services import Integration, integrate_cda
from dpi.hl7.models import Message
from dpi.models import AuditEvent
from dpi.services import audit
from dpi.xmlsafe import InvalidXML, parse_xml
from mss.matching import match_patient, pid_disagreements
from mss.models import Trace
from mss.refusals import Refusal
from mss.services.common import (
    Action,
    DocumentId,
    InboundDocument,
    Outcome,
    Route,
    receiving_visit,
    refused_trace,
    route,
    trace_row,
)
from patients.models import Patient

Event = Trace.Event
logger = logging.getLogger(__name__)
_NS = {"h": "urn:hl7-org:v3"}


# --- Reception from the PFI --------------------------------------------------------------------------


def receive_document(*, inbound: InboundDocument, message: Message) -> Outcome:
    """Apply an integrate/replace/delete request on an exact identity match; a refusal changes nothing.

    The message's traces (received, matched, then integrated, replaced, deleted, duplicate or refused) are
    written together at the end, in one statement.
    """
    where = route(inbound.mail)
    received = trace_row(Event.RECEIVED, mail=inbound.mail, route_=Route(None, where.mailbox), message=message,
                          cda_id=inbound.document_id.key[:260], detail={"action": inbound.action.value})  # fmt: skip
    try:
        outcome, traces = _apply_in_savepoint(inbound, message, where)
    except Refusal as refusal:
        outcome = Outcome(refusal=refusal)
        refused = refused_trace(
            refusal, mail=inbound.mail, where=where, message=message, cda_id=inbound.document_id.key
        )
        traces = [refused]
    Trace.objects.bulk_create([received, *traces])
    return outcome


def _apply_in_savepoint(inbound: InboundDocument, message: Message, where: Route) -> tuple[Outcome, list[Trace]]:
    """A savepoint: a refusal rolls back everything, and the traces of the attempt are dropped with it.

    Two listener threads may file the same CDA at once (the PFI resends a mail): the second one's insert
    waits for the first one's commit, then breaks the unique CDA id. Its savepoint is rolled back and the
    request is applied once more: it now sees the document, a duplicate (AA with a note, traced).
    """
    traces: list[Trace] = []
    try:
        with transaction.atomic():
            return _apply(inbound, message, where, traces), traces
    except IntegrityError:
        logger.info("MSSanté: CDA %s filed concurrently, applied again", inbound.document_id.key)
    traces = []
    with transaction.atomic():
        return _apply(inbound, message, where, traces), traces


def _apply(inbound: InboundDocument, message: Message, where: Route, traces: list[Trace]) -> Outcome:
    header = _header(inbound.cda)
    if not inbound.document_id.matches(header.id):
        raise Refusal.application(
            "906", f"TXA-12 ({inbound.document_id.key}) ne désigne pas le CDA transmis ({header.id.key}).", "TXA^1^12"
        )
    disagreements = pid_disagreements(inbound.pid, header.patient)
    if disagreements:
        raise Refusal.application("904", "PID et CDA diffèrent : " + " ; ".join(disagreements), "PID^1^3")
    patient = match_patient(header.patient)
    context = _Context(inbound, message, where, header, patient, traces)
    context.trace(Event.MATCHED)
    if inbound.action == Action.DELETE:
        return _delete(context)
    # The replaced document is locked before anything is read: a concurrent replace of it waits here,
    # then sees its own CDA filed (a duplicate) rather than a version that is no longer the latest.
    replaced = _locked_replaced(context) if inbound.action == Action.REPLACE else None
    duplicate = _duplicate(context)
    if duplicate is not None:
        return duplicate
    if replaced is not None:
        _check_replaced(context, *replaced)
    return _integrate(context)


@dataclass
class _Context:
    inbound: InboundDocument
    message: Message
    where: Route
    header: CdaHeader
    patient: Patient
    traces: list[Trace]  # written by receive_document when the request is applied

    def trace(self, event: str, **values: Any) -> None:
        values.setdefault("cda_id", self.header.id.key[:260])
        self.traces.append(trace_row(event, mail=self.inbound.mail, route_=self.where, message=self.message,
                                      patient=self.patient, **values))  # fmt: skip

    def refuse(self, code: str, text: str, location: str = "") -> Refusal:
        return Refusal.application(code, text, location, patient=self.patient)


def _header(cda: bytes) -> CdaHeader:
    try:
        return parse_cda_header(cda)
    except InvalidCda as exc:
        raise Refusal.application("906", str(exc), "OBX^1^5") from None


def _held(patient: Patient | None, document_id: DocumentId | InstanceId) -> DocumentVersion | None:
    versions = DocumentVersion.objects.filter(cda_id_root=document_id.root, cda_id_extension=document_id.extension)
    if patient is not None:
        versions = versions.filter(document__patient=patient)
    return versions.select_related("document").defer("cda", "pdf", "stylesheet").first()


def _duplicate(context: _Context) -> Outcome | None:
    """The same CDA id already held: AA with a note (the PFI may resend a mail), never a second document."""
    held = _held(None, context.header.id)
    if held is None:
        return None
    if held.document.patient_id != context.patient.pk:
        raise context.refuse("906", "Ce document (même identifiant CDA) est déjà classé dans un autre dossier.")
    context.trace(Event.DUPLICATE, document=held.document, detail={"version": held.version_number})
    note = f"Document déjà intégré (identifiant CDA {context.header.id.key}, version {held.version_number})."
    return Outcome(note=note)


def _locked_replaced(context: _Context) -> tuple[Document, DocumentVersion]:
    """T10: the document holding the replaced version (TXA-13), locked; 900 when the file does not hold it."""
    replaced = _held(context.patient, context.inbound.replaced_id)
    if replaced is None:
        raise context.refuse("900", "Le document à remplacer n'est pas dans le dossier.", "TXA^1^13")
    return Document.objects.select_for_update().get(pk=replaced.document_id), replaced


def _check_replaced(context: _Context, document: Document, replaced: DocumentVersion) -> None:
    """T10: the CDA must be a new version of the replaced id (relatedDocument RPLC and setId), which must be
    the latest version held (900); requested by its author's side (901)."""
    header = context.header
    if not context.inbound.replaced_id.matches(header.replaced_id):
        raise context.refuse(
            "900", "Le CDA ne désigne pas le document de TXA-13 comme remplacé (relatedDocument RPLC).", "TXA^1^13"
        )
    if header.set_id is not None and header.set_id.key != document.set_id:
        raise context.refuse("900", "Le setId du CDA n'est pas celui du document remplacé.", "TXA^1^13")
    if document.current_version_id != replaced.pk or document.status == Status.DELETED:
        raise context.refuse("900", "Le document à remplacer n'est pas la dernière version détenue.", "TXA^1^13")
    _check_author(context, document)


def _integrate(context: _Context) -> Outcome:
    episode = receiving_visit(context.patient, context.where.care_unit)
    try:
        integration = integrate_cda(
            patient=context.patient, data=context.inbound.cda, provenance=Provenance.MSS, episode=episode
        )
    except ValidationError as exc:
        code = getattr(exc, "code", "")
        duplicate = _duplicate(context) if code == "duplicate" else None  # filed meanwhile by another thread
        if duplicate is not None:
            return duplicate
        if code == "stale":
            raise context.refuse("900", " ".join(exc.messages)) from None
        raise context.refuse("906", " ".join(exc.messages)) from None
    if context.inbound.action == Action.REPLACE and integration.status != VersionStatus.NEW_VERSION:
        raise context.refuse("900", "Le CDA reçu n'est pas une nouvelle version du document remplacé.", "TXA^1^13")
    _place(integration, context)
    replaced = integration.status == VersionStatus.NEW_VERSION
    context.trace(Event.REPLACED if replaced else Event.INTEGRATED, document=integration.document,
                  detail={"version": integration.version.version_number})  # fmt: skip
    verb = "remplacé (version %d)" if replaced else "intégré (version %d)"
    return Outcome(note=f"Document {verb % integration.version.version_number}.")


def _place(integration: Integration, context: _Context) -> None:
    """Care unit of the receiving mailbox (new documents) and the visibility sent by the PFI."""
    document = integration.document
    changed = []
    if integration.status == VersionStatus.NEW_DOCUMENT and context.where.care_unit is not None:
        document.care_unit = context.where.care_unit
        changed.append("care_unit")
    for name, value in context.inbound.visibility.items():
        setattr(document, name, value)
        changed.append(name)
    if changed:
        document.save(update_fields=changed)


def _delete(context: _Context) -> Outcome:
    """T04: the document's latest version (TXA-12) is marked deleted; it stays viewable as deleted."""
    target = _held(context.patient, context.inbound.document_id)
    if target is None:
        raise context.refuse("900", "Le document à supprimer n'est pas dans le dossier.", "TXA^1^12")
    document = Document.objects.select_for_update().get(pk=target.document_id)
    if document.current_version_id != target.pk:
        raise context.refuse("900", "Le document à supprimer n'est pas la dernière version détenue.", "TXA^1^12")
    if document.status == Status.DELETED:
        context.trace(Event.DUPLICATE, document=document, detail={"already": "deleted"})
        return Outcome(note="Document déjà supprimé.")
    _check_author(context, document)
    document.status = Status.DELETED
    document.save(update_fields=["status"])
    audit(
        action=AuditEvent.Action.DOCUMENT_CHANGE, obj=document, patient_id=document.patient_id,
        change=AuditEvent.Change.DELETED, detail={"provenance": Provenance.MSS, "message": context.message.pk},
    )  # fmt: skip
    context.trace(Event.DELETED, document=document)
    return Outcome(note="Document supprimé (reste consultable, marqué supprimé).")


def _check_author(context: _Context, document: Document) -> None:
    """901 unless the requester (PRT SB person or organisation; else the CDA author) is the stored author or
    from the stored author's organisation."""
    mail = context.inbound.mail
    requester = {mail.sender_id, *_organization_keys(mail.sender_organization_id)} - {""}
    if not requester:
        author = context.header.author_id.extension if context.header.author_id else ""
        requester = {author, *_organization_ids(context.inbound.cda)} - {""}
    current = DocumentVersion.objects.only("cda").get(pk=document.current_version_id)
    authors = {document.author_national_id, *_organization_ids(bytes(current.cda))} - {""}
    if not requester & authors:
        raise context.refuse("901", "L'expéditeur n'est ni l'auteur du document ni de sa structure.", "PRT^1^5")


def _organization_keys(identifier: str) -> set[str]:
    """A structure's id as FINESS and as national structure id (``1`` + FINESS)."""
    identifier = identifier.strip()
    if len(identifier) == 10 and identifier[0] in "13":
        return {identifier, identifier[1:]}
    return {identifier, f"1{identifier}"} if len(identifier) == 9 else {identifier}


def _organization_ids(cda: bytes) -> set[str]:
    """The author's organisation ids of a CDA (representedOrganization), in both forms."""
    try:
        root = parse_xml(cda)
    except InvalidXML:
        return set()
    path = "h:author/h:assignedAuthor/h:representedOrganization/h:id/@extension"
    return {key for value in root.xpath(path, namespaces=_NS) for key in _organization_keys(str(value))}
