"""Feeding orders: created at validation with no user action, held, cancelled, released, run, acknowledged.

Life of an order (one per document version, channel and purpose)::

    HELD ──release──▶ SCHEDULED ──due, claimed──▶ SENDING ──AA──▶ SENT ──ZAM──▶ (export statuses)
                        │   ▲                       │  └─AE, or retries exhausted──▶ FAILED ──retry──▶ SCHEDULED
                   cancel   release                 └─checks fail──▶ REFUSED (reason on the document line)
                        ▼   │
                      CANCELLED

Running an order is at-least-once on the wire and once in effect: the claim is an atomic
update with a lease, the MSH-10 is fixed per order, so the resend after a crash is the same
message, which the PFI recognises (HL7 original-mode duplicate detection on MSH-10).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from consent.selectors import can_feed_dmp
from dmp import mdm
from dmp.clients.pfi import send_mdm
from dmp.models import (
    BusinessAck,
    DeletionReason,
    FeedingChannel,
    FeedingOrder,
    OrderKind,
    OrderState,
    Purpose,
    Trigger,
)
from dmp.selectors.feeding import feeding_delay, historical_candidates, last_sent
from dmp.transmission import Plan, transmission_for
from documents.cda import CdaHeader, InvalidCda, parse_cda_header
from documents.models import Channel, Document, DocumentVersion, ExportState, ExportStatus, Provenance, Status
from documents.types import SEGUR_TYPES
from dpi.hl7.ack import new_control_id
from dpi.hl7.client import TransportError
from dpi.hl7.models import Message
from dpi.models import AuditEvent, User
from dpi.services import audit
from patients.access import require_access
from patients.models import DmpStatus, IdentityStatus

logger = logging.getLogger(__name__)

# Database errors that trying again can cure: the connection was lost (a restart, pg_terminate_backend, the
# network: OperationalError or InterfaceError), or PostgreSQL aborted the transaction (serialization failure,
# deadlock: OperationalError too). Retried like a transport error; anything else needs a human.
TRANSIENT_DATABASE_ERRORS = (OperationalError, InterfaceError)

VISIBILITY = {
    "MASQUE_PS": "masked_to_professionals",
    "INVISIBLE_PATIENT": "invisible_to_patient",
    "INVISIBLE_REP_LEGAUX": "invisible_to_legal_representatives",
}
# An export line only moves forward, except to a failure: a late "sent" never hides an acknowledgement.
_PROGRESS = [ExportState.PENDING, ExportState.SENT, ExportState.ACKNOWLEDGED, ExportState.READ]


# The patient's place among MSSanté recipients when no address can be built (no INS): never translated,
# it is a key of the export lines.
PATIENT_KEY = "patient"


class OrderRefused(Exception):
    """A check at run time failed: the order is not sent, and says why."""


# --- creation --------------------------------------------------------------------------------------


def order_feeding(*, version: DocumentVersion, acting_user: User | None, **signal: object) -> list[FeedingOrder]:
    """At validation, with no user action: a DMP order for a Ségur document, an MSSanté order if recipients.

    Receiver of :data:`documents.signals.version_validated` (inside the validation transaction): the orders
    it returns are written in the validation's audit row (one validation, one row).
    """
    document = version.document
    if document.provenance != Provenance.PRODUCED:
        return []
    due = timezone.now() + feeding_delay(document.type_code, document.care_unit)
    state = OrderState.HELD if document.hold_sending else OrderState.SCHEDULED
    channels = []
    if document.type_code in SEGUR_TYPES:
        channels.append(FeedingChannel.DMP)
    if document.mss_recipients or document.mss_to_patient:
        channels.append(FeedingChannel.MSS)
    return [
        _create_order(version, channel, OrderKind.AUTOMATIC, state=state, due=due, user=acting_user)
        for channel in channels
    ]


def order_deletion(*, document: Document, acting_user: User | None) -> FeedingOrder | None:
    """The document was deleted in the DPI: cancel what waits, withdraw it from the DMP if it is there.

    Called by :func:`dmp.services.sending.on_document_deleted`, which then tells the MSSanté recipients
    when the user asked to.
    """
    _cancel_pending(document, acting_user, _("Document supprimé dans le DPI"))
    return _withdraw(document, DeletionReason.DELETED_HERE, acting_user)


WITHDRAWAL_REASONS = (DeletionReason.ERROR, DeletionReason.PATIENT_REQUEST)


@transaction.atomic
def withdraw_from_dmp(
    *, document: Document, reason: str, acting_user: User, request: HttpRequest | None = None
) -> FeedingOrder:
    """Delete the document from the DMP (error, patient request): an MDM^T04 of the last version sent.

    Publications still waiting for the DMP are cancelled: they would put the document back.
    """
    require_access(acting_user, document.patient)
    if reason not in WITHDRAWAL_REASONS:
        raise ValidationError(_("Motif de suppression inconnu."))
    _cancel_pending(document, acting_user, _("Document retiré du DMP"), channel=FeedingChannel.DMP)
    order = _withdraw(document, reason, acting_user)
    if order is None:
        raise ValidationError(_("Ce document n'est pas dans le DMP."))
    audit_order(order, acting_user, AuditEvent.Change.DMP_WITHDRAWAL_ORDERED, request, reason=reason)
    return order


def _withdraw(document: Document, reason: str, user: User | None) -> FeedingOrder | None:
    """A T04 of the version last accepted by the DMP; an existing deletion is only restarted if it stopped."""
    sent = last_sent(document, FeedingChannel.DMP)
    if sent is None or sent.purpose == Purpose.DELETE:
        return None
    order, created = FeedingOrder.objects.select_for_update(of=("self",)).get_or_create(
        version=sent.version,
        channel=FeedingChannel.DMP,
        purpose=Purpose.DELETE,
        defaults=order_fields(document, OrderKind.MANUAL, user, timezone.now(), OrderState.SCHEDULED)
        | {"deletion_reason": reason},
    )
    if created:
        sync_exports(order)
        enqueue(order)
    elif order.state in RESTARTABLE:
        _reschedule(order)
    return order


@transaction.atomic
def send_now(
    *, document: Document, channel: str, acting_user: User, request: HttpRequest | None = None
) -> FeedingOrder:
    """Send by hand a document not yet successfully fed on ``channel`` (the current version, now)."""
    require_access(acting_user, document.patient)
    if document.status != Status.VALIDATED or document.provenance != Provenance.PRODUCED:
        raise ValidationError(_("Seul un document validé produit dans le DPI peut être envoyé."))
    order = _order_now(document, channel, acting_user)
    audit_order(order, acting_user, AuditEvent.Change.FEEDING_SENT_BY_HAND, request)
    return order


@transaction.atomic
def send_history(
    *, patient_documents: list[Document], acting_user: User, request: HttpRequest | None = None
) -> list[FeedingOrder]:
    """Historical feeding: send a selection of the patient's earlier documents to the DMP in one batch."""
    if not patient_documents:
        return []
    patient = patient_documents[0].patient
    require_access(acting_user, patient)
    allowed = set(historical_candidates(patient).values_list("pk", flat=True))
    if any(document.pk not in allowed or document.patient_id != patient.pk for document in patient_documents):
        raise ValidationError(_("Un des documents choisis ne relève pas de l'alimentation historique."))
    orders = [
        _order_now(document, FeedingChannel.DMP, acting_user, kind=OrderKind.HISTORICAL)
        for document in patient_documents
    ]
    audit(
        action=AuditEvent.Action.DOCUMENT_CHANGE,
        actor=acting_user,
        request=request,
        patient_id=patient.pk,
        change=AuditEvent.Change.HISTORICAL_FEEDING_ORDERED,
        detail={"documents": [d.pk for d in patient_documents]},
    )
    return orders


def _order_now(document: Document, channel: str, user: User, *, kind: str = OrderKind.MANUAL) -> FeedingOrder:
    """The current version's order on ``channel``, due now: created, or restarted if it stopped."""
    version = document.current_version
    order = (
        FeedingOrder.objects.select_for_update(of=("self",))
        .filter(version=version, channel=channel, purpose=Purpose.PUBLISH)
        .exclude(kind=OrderKind.ADDITIONAL)
        .first()
    )
    if order is None:
        return _create_order(version, channel, kind, state=OrderState.SCHEDULED, due=timezone.now(), user=user)
    if order.state in (OrderState.SCHEDULED, OrderState.SENDING):
        raise ValidationError(_("Un envoi de ce document est déjà en cours."))
    if order.state == OrderState.SENT and not refused_by_recipient(order):
        raise ValidationError(_("Cette version a déjà été envoyée."))
    if kind == OrderKind.HISTORICAL:
        order.kind = kind
    order.created_by = user
    _reschedule(order)
    return order


def _create_order(
    version: DocumentVersion, channel: str, kind: str, *, state: str, due: timezone.datetime, user: User | None
) -> FeedingOrder:
    document = version.document
    fields = order_fields(document, kind, user, due, state)
    if channel == FeedingChannel.MSS:
        fields |= {
            "mss_recipients": list(document.mss_recipients),
            "mss_patient": document.mss_to_patient,
            "mss_patient_may_reply": document.patient_may_reply,
        }
    order = FeedingOrder.objects.create(version=version, channel=channel, purpose=Purpose.PUBLISH, **fields)
    sync_exports(order)
    enqueue(order)
    return order


def order_fields(document: Document, kind: str, user: User | None, due: datetime, state: str) -> dict:
    return {
        "document": document,
        "kind": kind,
        "state": state,
        "due_at": due,
        "created_by": user,
        "control_id": new_control_id(),
    }


# Orders a user may restart; a SENT order too when the DMP or a recipient refused it (see refused_by_recipient).
RESTARTABLE = (OrderState.HELD, OrderState.CANCELLED, OrderState.REFUSED, OrderState.FAILED)


def _reschedule(order: FeedingOrder) -> None:
    """Due now, attempts from zero; a refused message is a new message (new MSH-10, event decided again)."""
    if order.state == OrderState.SENT:
        order.control_id, order.trigger, order.replaced_version, order.metadata = new_control_id(), "", None, {}
    order.state, order.reason = OrderState.SCHEDULED, ""
    order.due_at, order.attempts, order.lease_until, order.lease_token = timezone.now(), 0, None, ""
    order.save()
    sync_exports(order)
    enqueue(order)


def refused_by_recipient(order: FeedingOrder) -> bool:
    """A SENT order whose latest business ack is a refusal (DMP rejection, undelivered mail)."""
    if order.state != OrderState.SENT:
        return False
    latest = max(order.acks.all(), key=lambda ack: ack.pk, default=None)  # prefetched on the document page
    return latest is not None and not latest.success


def _cancel_pending(document: Document, user: User | None, reason: str, *, channel: str | None = None) -> None:
    pending = FeedingOrder.objects.select_for_update(of=("self",)).filter(
        document=document, purpose=Purpose.PUBLISH, state__in=[OrderState.SCHEDULED, OrderState.HELD]
    )
    if channel:
        pending = pending.filter(channel=channel)
    for order in pending:
        order.state, order.reason = OrderState.CANCELLED, reason
        order.save(update_fields=["state", "reason"])
        sync_exports(order)


# --- user actions during the delay -----------------------------------------------------------------


@transaction.atomic
def cancel_order(*, order: FeedingOrder, acting_user: User, request: HttpRequest | None = None) -> FeedingOrder:
    """Cancel during the delay (or while held); it can be released later."""
    order = _locked(order, acting_user)
    if order.state not in (OrderState.SCHEDULED, OrderState.HELD):
        state = order.get_state_display()
        raise ValidationError(_("Cet envoi ne peut plus être annulé (%(state)s).") % {"state": state})
    order.state, order.reason = OrderState.CANCELLED, _("Annulé par %(user)s") % {"user": acting_user.display_name}
    order.save(update_fields=["state", "reason"])
    sync_exports(order)
    audit_order(order, acting_user, AuditEvent.Change.FEEDING_CANCELLED, request)
    return order


@transaction.atomic
def release_order(*, order: FeedingOrder, acting_user: User, request: HttpRequest | None = None) -> FeedingOrder:
    """Release a held, cancelled, refused or failed order (or one the DMP refused): it is sent now, re-checked."""
    order = _locked(order, acting_user)
    if order.state not in RESTARTABLE and not refused_by_recipient(order):
        raise ValidationError(_("Cet envoi n'est ni bloqué, ni annulé, ni en échec."))
    previous = order.state
    if order.document.hold_sending:  # the hold was for this sending: later versions follow the usual path
        Document.objects.filter(pk=order.document_id).update(hold_sending=False)
    _reschedule(order)
    audit_order(order, acting_user, AuditEvent.Change.FEEDING_RELEASED, request, previous_state=previous)
    return order


def _locked(order: FeedingOrder, user: User) -> FeedingOrder:
    locked = FeedingOrder.objects.select_for_update(of=("self",)).select_related("document").get(pk=order.pk)
    require_access(user, locked.document.patient)
    return locked


# --- running ---------------------------------------------------------------------------------------


def run_order(order_id: int) -> FeedingOrder | None:
    """Claim the order if it is due, check it, send its MDM to the PFI and record the outcome.

    Returns ``None`` when there was nothing to do (not due, already claimed, already done).
    Must run outside a transaction: the HL7 journal rows survive whatever happens next.
    """
    claim = _claim(order_id)
    if claim is None:
        return None
    order, token = claim
    try:
        if _already_accepted(order):  # a worker died after the PFI's AA was journaled: nothing to resend
            return _conclude(order, token, OrderState.SENT, "")
        with transaction.atomic():
            message = _prepare(order)
        send_mdm(message)
    except OrderRefused as refusal:
        return _conclude(order, token, OrderState.REFUSED, str(refusal))
    except TransportError as error:
        return _after_failure(order, token, error)
    except TRANSIENT_DATABASE_ERRORS as error:
        logger.warning("Feeding order %s: database error, tried again later: %s", order.pk, error)
        connection.close()  # drop the broken connection: the next query opens a new one
        text = _("Base de données indisponible : %(error)s") % {"error": str(error).strip()}
        return _after_failure(order, token, TransportError(text, permanent=False), database=True)
    except Exception as error:  # never leave an order in SENDING: say it, keep the retry button
        logger.exception("Feeding order %s failed", order.pk)
        return _conclude(order, token, OrderState.FAILED, _("Erreur interne : %(error)s") % {"error": error})
    return _conclude(order, token, OrderState.SENT, "")


def _claim(order_id: int) -> tuple[FeedingOrder, str] | None:
    """Take the order (atomic update with a lease and a token), or ``None`` if it is not claimable."""
    now, token = timezone.now(), uuid.uuid4().hex
    lease = now + timedelta(seconds=settings.DMP_FEEDING_LEASE_SECONDS)
    claimable = Q(state=OrderState.SCHEDULED, due_at__lte=now) | Q(state=OrderState.SENDING, lease_until__lt=now)
    claimed = FeedingOrder.objects.filter(claimable, pk=order_id).update(
        state=OrderState.SENDING, lease_until=lease, lease_token=token, attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    order = FeedingOrder.objects.select_related("document__patient", "version").get(pk=order_id)
    sync_exports(order)
    return order, token


def _already_accepted(order: FeedingOrder) -> bool:
    return Message.objects.filter(
        direction=Message.Direction.OUTBOUND, control_id=order.control_id, status=Message.Status.PROCESSED
    ).exists()


def _prepare(order: FeedingOrder) -> str:
    """Re-check the order against the current state of the file, fix its trigger once, build the MDM."""
    document = order.document
    header = _header(order.version)
    if order.purpose == Purpose.PUBLISH:
        _check_current(order)
    if order.channel == FeedingChannel.DMP:
        _check_dmp(order, header)
    plan = mss_plan(order) if order.channel == FeedingChannel.MSS else None
    if plan is not None and not plan.professionals and not plan.patient_address:
        raise OrderRefused("; ".join(plan.refused.values()) or _("Aucun destinataire MSSanté."))
    if not order.trigger:
        _fix_trigger(order, plan, header)
    transmission = transmission_for(order, document, plan, header)
    if not transmission.sender.national_id:
        raise OrderRefused(_("L'émetteur n'a pas d'identifiant national (RPPS) : la PFI ne peut pas le transmettre."))
    return mdm.build_mdm(transmission)


def _header(version: DocumentVersion) -> CdaHeader:
    """The version's CDA header, read once per run (the checks and the PID both need it)."""
    try:
        return parse_cda_header(bytes(version.cda))
    except InvalidCda as error:
        raise OrderRefused(_("CDA de la version illisible : %(error)s") % {"error": error}) from error


def _check_current(order: FeedingOrder) -> None:
    document = Document.objects.get(pk=order.document_id)
    if document.status == Status.DELETED:
        raise OrderRefused(_("Document supprimé."))
    if document.current_version_id != order.version_id or document.status != Status.VALIDATED:
        raise OrderRefused(_("Version remplacée par une version plus récente."))


def _check_dmp(order: FeedingOrder, header: CdaHeader) -> None:
    patient = order.document.patient
    if patient.identity_status != IdentityStatus.QUALIFIEE or not patient.ins:
        raise OrderRefused(_("INS non qualifié : le DMP exige une identité qualifiée."))
    cda_ins = header.patient.ins.extension if header.patient.ins else None
    if cda_ins is None:
        raise OrderRefused(_("Le document ne porte pas l'INS (validé avant sa qualification) : corrigez-le."))
    if cda_ins != patient.ins:
        raise OrderRefused(_("L'INS du document diffère de l'INS actuel du patient : corrigez le document."))
    if order.purpose == Purpose.DELETE:
        return
    if patient.dmp_status == DmpStatus.CLOSED:
        raise OrderRefused(_("DMP du patient fermé."))
    episode = order.document.episode
    if episode is not None and not can_feed_dmp(episode):
        raise OrderRefused(_("Opposition du patient à l'alimentation du DMP pour cet épisode de soins."))


def mss_plan(order: FeedingOrder) -> Plan:
    """Who an MSSanté order may write to, under the PFI's combination rules (digest 3.7)."""
    document, refused = order.document, {}
    professionals = tuple(order.mss_recipients)
    if professionals and (document.masked_to_professionals or document.invisible_to_legal_representatives):
        reason = _("Document masqué aux professionnels ou invisible pour les représentants légaux : pas d'envoi.")
        refused |= dict.fromkeys(professionals, reason)
        professionals = ()
    address = ""
    if order.mss_patient:
        ins = document.patient.ins
        if document.patient.refuses_patient_mailbox_since:
            refused[PATIENT_KEY] = _("Le patient refuse l'envoi dans sa messagerie de Mon espace santé.")
        elif document.invisible_to_patient:
            refused[PATIENT_KEY] = _("Document invisible pour le patient : pas d'envoi à sa messagerie.")
        elif not ins:
            refused[PATIENT_KEY] = _("Patient sans INS : adresse de messagerie inconnue.")
        else:
            address = mdm.patient_mss_address(ins)
    return Plan(professionals, address, refused)


def _fix_trigger(order: FeedingOrder, plan: Plan | None, header: CdaHeader) -> None:
    """T02, T10 (a previous version was sent on this channel) or T04, decided once per order; with the fact
    the statistics count, whether the version sent carries the INS (the CDA does only when qualified)."""
    previous = last_sent(order.document, order.channel)
    if order.purpose == Purpose.DELETE:
        order.trigger = Trigger.T04
    elif previous is not None and previous.purpose == Purpose.PUBLISH and previous.version_id != order.version_id:
        order.trigger, order.replaced_version = Trigger.T10, previous.version
    else:
        order.trigger = Trigger.T02
    order.metadata = _metadata(order, plan, previous)
    order.ins_qualified = header.patient.ins is not None
    order.save(update_fields=["trigger", "replaced_version", "metadata", "ins_qualified"])


def _metadata(order: FeedingOrder, plan: Plan | None, previous: FeedingOrder | None) -> dict[str, bool]:
    document = order.document
    flags = {code: getattr(document, name) for code, name in VISIBILITY.items()}
    changed = bool(
        order.trigger == Trigger.T10
        and previous
        and any(previous.metadata.get(code) != flags[code] for code in VISIBILITY)
    )
    to_dmp = order.channel == FeedingChannel.DMP
    return flags | {
        "CONNEXION_SECRETE": False,
        "MODIF_CONF_CODE": changed,
        "DESTDMP": to_dmp,
        "DESTMSSANTEPS": bool(plan and plan.professionals),
        "DESTMSSANTEPAT": bool(plan and plan.patient_address),
        "ACK_RECEPTION": True,
        "ACK_LECTURE_MSS": not to_dmp,
    }


def _after_failure(
    order: FeedingOrder, token: str, error: TransportError, *, database: bool = False
) -> FeedingOrder | None:
    """A permanent failure (the PFI's AE, ``dmp.clients.pfi``) fails at once; a transient one (AR, no answer,
    an unreadable ACK, a transient database error: ``database``) is tried again with backoff, up to a ceiling."""
    rejected = error.permanent
    if rejected or order.attempts >= settings.DMP_FEEDING_MAX_ATTEMPTS:
        exhausted = (
            _("Échec après %(n)d tentatives : %(error)s")
            if database
            else _("PFI injoignable après %(n)d tentatives : %(error)s")
        )
        reason = str(error) if rejected else exhausted % {"n": order.attempts, "error": error}
        return _conclude(order, token, OrderState.FAILED, reason[:300], error.message)
    backoff = settings.DMP_FEEDING_BACKOFF_SECONDS * 2 ** (order.attempts - 1)
    delay = min(backoff, settings.DMP_FEEDING_MAX_BACKOFF_SECONDS)
    with transaction.atomic():
        order = _owned(order, token)
        if order is None:
            return None
        order.state, order.lease_until, order.lease_token = OrderState.SCHEDULED, None, ""
        order.due_at, order.reason = timezone.now() + timedelta(seconds=delay), str(error)[:300]
        if error.message is not None:  # a database error has no message of its own: keep the last one
            order.message = error.message
        order.save()
        sync_exports(order)
        enqueue(order)
    return order


def _owned(order: FeedingOrder, token: str) -> FeedingOrder | None:
    """The order, locked, if this run still holds it (a run past its lease may have been taken over)."""
    locked = FeedingOrder.objects.select_for_update(of=("self",)).select_related("document").get(pk=order.pk)
    return locked if locked.state == OrderState.SENDING and locked.lease_token == token else None


def _conclude(
    order: FeedingOrder, token: str, state: str, reason: str, message: Message | None = None
) -> FeedingOrder | None:
    with transaction.atomic():
        order = _owned(order, token)
        if order is None:
            return None
        order.state, order.reason, order.lease_until, order.lease_token = state, reason[:300], None, ""
        if state == OrderState.SENT:
            order.sent_at = timezone.now()
            order.message = _journal(order)
        elif message is not None:
            order.message = message
        order.save()
        sync_exports(order)
        if state == OrderState.SENT:
            _after_sent(order)
    logger.info("Feeding order %s: %s %s", order.pk, state, reason)
    return order


def _after_sent(order: FeedingOrder) -> None:
    """ZAMs that arrived before this conclusion are applied now; a version of a deleted document is withdrawn."""
    for ack in order.acks.all():
        _apply_ack(order, ack)
    if order.purpose == Purpose.PUBLISH and order.channel == FeedingChannel.DMP:
        if Document.objects.filter(pk=order.document_id, status=Status.DELETED).exists():
            _withdraw(order.document, DeletionReason.DELETED_HERE, None)


def _journal(order: FeedingOrder) -> Message | None:
    return (
        Message.objects.filter(direction=Message.Direction.OUTBOUND, control_id=order.control_id)
        .order_by("-pk")
        .first()
    )


def enqueue(order: FeedingOrder) -> None:
    """Ask the worker to run the order when due; the beat sweep catches anything this misses."""
    if order.state != OrderState.SCHEDULED:
        return
    from dmp.tasks import run_feeding_order

    countdown = max((order.due_at - timezone.now()).total_seconds(), 0)
    transaction.on_commit(lambda: run_feeding_order.apply_async((order.pk,), countdown=countdown))


# --- business acknowledgements -----------------------------------------------------------------------


@transaction.atomic
def record_business_ack(
    *, order: FeedingOrder, event: str, success: bool, recipient: str, error: str, event_at, message: Message
) -> BusinessAck:
    """A ZAM from the PFI: keep it, and move the document's export line for that channel and recipient.

    The order row is locked first, as the worker concluding the same order does, so both take
    their locks in the same order; a ZAM arriving before that conclusion is applied by it.
    """
    order = FeedingOrder.objects.select_for_update(of=("self",)).select_related("document").get(pk=order.pk)
    ack = BusinessAck.objects.create(
        order=order, event=event, success=success, recipient=recipient, error=error, event_at=event_at, message=message
    )
    if order.state == OrderState.SENT and _is_latest(order):
        _apply_ack(order, ack)
    return ack


def _apply_ack(order: FeedingOrder, ack: BusinessAck) -> None:
    channel, address = _export_key(order, ack.event, ack.recipient)
    if not ack.success:
        state, reason = ExportState.FAILED, ack.error or _("Refus sans motif")
    elif ack.event == BusinessAck.Event.Z03:
        state, reason = ExportState.READ, ""
    elif order.purpose == Purpose.DELETE:
        state, reason = ExportState.WITHDRAWN, ""
    else:
        state, reason = ExportState.ACKNOWLEDGED, ""
    _set_export(order.document, channel, address, state, reason)


def _is_latest(order: FeedingOrder) -> bool:
    """Whether ``order`` is the one whose line is shown: a ZAM for an older version is only kept."""
    latest = last_sent(order.document, order.channel)
    return latest is None or latest.pk == order.pk


def _export_key(order: FeedingOrder, event: str, recipient: str) -> tuple[str, str]:
    if order.channel == FeedingChannel.DMP or event == BusinessAck.Event.Z01:
        return Channel.DMP, ""
    if recipient.endswith("@" + mdm.PATIENT_MAIL_DOMAIN):
        return Channel.MSS_PATIENT, recipient
    return Channel.MSS_PRO, recipient


# --- export lines ------------------------------------------------------------------------------------

_ORDER_TO_EXPORT = {
    OrderState.SCHEDULED: ExportState.PENDING,
    OrderState.SENDING: ExportState.PENDING,
    OrderState.HELD: ExportState.HELD,
    OrderState.CANCELLED: ExportState.NOT_SENT,
    OrderState.REFUSED: ExportState.NOT_SENT,
    OrderState.FAILED: ExportState.FAILED,
    OrderState.SENT: ExportState.SENT,
}


def sync_exports(order: FeedingOrder) -> None:
    """The document's export lines follow its order (one line for the DMP, one per MSSanté recipient)."""
    state = _ORDER_TO_EXPORT[order.state]
    reason = order.reason
    if order.state == OrderState.SCHEDULED and not reason:
        reason = _("Envoi prévu le %(due)s") % {"due": timezone.localtime(order.due_at).strftime("%d/%m/%Y %H:%M")}
    for channel, address, refusal in _export_lines(order):
        line_state, line_reason = (ExportState.NOT_SENT, refusal) if refusal else (state, reason)
        _set_export(order.document, channel, address, line_state, line_reason, forward_only=state == ExportState.SENT)


def _export_lines(order: FeedingOrder) -> list[tuple[str, str, str]]:
    if order.channel == FeedingChannel.DMP:
        return [(Channel.DMP, "", "")]
    plan = mss_plan(order)
    lines = [(Channel.MSS_PRO, address, plan.refused.get(address, "")) for address in order.mss_recipients]
    if order.mss_patient:
        ins = order.document.patient.ins
        address = plan.patient_address or (mdm.patient_mss_address(ins) if ins else PATIENT_KEY)
        lines.append((Channel.MSS_PATIENT, address, plan.refused.get(PATIENT_KEY, "")))
    return lines


def _set_export(
    document: Document, channel: str, recipient: str, state: str, reason: str, *, forward_only: bool = False
) -> None:
    line, _created = ExportStatus.objects.get_or_create(document=document, channel=channel, recipient=recipient)
    if forward_only and line.state in _PROGRESS and _PROGRESS.index(line.state) > _PROGRESS.index(state):
        return
    if state == ExportState.FAILED and not reason:
        reason = _("Échec")
    line.state, line.reason = state, reason[:300]
    line.save(update_fields=["state", "reason", "updated_at"])


def audit_order(
    order: FeedingOrder, user: User | None, change: AuditEvent.Change, request: HttpRequest | None, **detail: object
) -> None:
    audit(
        action=AuditEvent.Action.DOCUMENT_CHANGE,
        actor=user,
        request=request,
        obj=order.document,
        patient_id=order.document.patient_id,
        change=change,
        detail={"order": order.pk, "channel": order.channel, **detail},
    )
