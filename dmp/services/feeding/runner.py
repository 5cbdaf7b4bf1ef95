"""Running a feeding order: claim with a lease, run-time checks, the MDM to the PFI, the outcome."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from consent.selectors import can_feed_dmp
from dmp import mdm
from dmp.clients.pfi import send_mdm
from dmp.models import (
    DeletionReason,
    FeedingChannel,
    FeedingOrder,
    OrderState,
    Purpose,
    Trigger,
)
from dmp.selectors.feeding import last_sent
from dmp.services.feeding.acks import apply_ack
from dmp.services.feeding.exports import mss_plan, sync_exports
from dmp.services.feeding.orders import enqueue, withdraw_last_sent
from dmp.transmission import Plan, transmission_for
from documents.cda import CdaHeader, InvalidCda, parse_cda_header
from documents.models import DocumentVersion, Status
from dpi.hl7.client import TransportError
from dpi.hl7.models import Message
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


class OrderRefused(Exception):
    """A check at run time failed: the order is not sent, and says why."""


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
        if order.attempts > 1 and _already_accepted(order):  # a worker died after the PFI's AA was journaled
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


# What a run reads of the order's document, patient, visit, structure and people: one query at the claim.
_RUN_RELATIONS = (
    "document__patient",
    "document__episode__care_unit__site__legal_entity",
    "document__care_unit__site",
    "document__author",
    "version__validated_by",
    "created_by",
)


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
    order = FeedingOrder.objects.select_related(*_RUN_RELATIONS).get(pk=order_id)
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
    """The document as the claim read it, a moment ago (a version validated since is the next order's)."""
    document = order.document
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
        apply_ack(order, ack)
    if order.purpose == Purpose.PUBLISH and order.channel == FeedingChannel.DMP:
        if order.document.status == Status.DELETED:  # read with the order's lock (``_owned``)
            withdraw_last_sent(order.document, DeletionReason.DELETED_HERE, None)


def _journal(order: FeedingOrder) -> Message | None:
    return (
        Message.objects.filter(direction=Message.Direction.OUTBOUND, control_id=order.control_id)
        .order_by("-pk")
        .first()
    )
