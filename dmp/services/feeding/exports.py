"""The document's export lines, which follow its feeding orders (one for the DMP, one per MSSanté recipient)."""

from __future__ import annotations

import logging

from django.utils import timezone
from django.utils.translation import gettext as _

from dmp import mdm
from dmp.models import (
    FeedingChannel,
    FeedingOrder,
    OrderState,
)
from dmp.transmission import Plan
from documents.models import Channel, Document, ExportState, ExportStatus

logger = logging.getLogger(__name__)

# An export line only moves forward, except to a failure: a late "sent" never hides an acknowledgement.
_PROGRESS = [ExportState.PENDING, ExportState.SENT, ExportState.ACKNOWLEDGED, ExportState.READ]


_LINE = ["document", "channel", "recipient"]

# The patient's place among MSSanté recipients when no address can be built (no INS): never translated,
# it is a key of the export lines.
PATIENT_KEY = "patient"


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
        set_export(order.document, channel, address, line_state, line_reason, forward_only=state == ExportState.SENT)


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


def set_export(
    document: Document, channel: str, recipient: str, state: str, reason: str, *, forward_only: bool = False
) -> None:
    """Move the line to ``state``; ``forward_only``: not when it is already further (a late "sent" never
    hides an acknowledgement). One UPDATE when the line exists, as it does after the first order."""
    if state == ExportState.FAILED and not reason:
        reason = _("Échec")
    line = ExportStatus.objects.filter(document=document, channel=channel, recipient=recipient)
    if forward_only and state in _PROGRESS:
        line = line.exclude(state__in=_PROGRESS[_PROGRESS.index(state) + 1 :])
    values = {"state": state, "reason": reason[:300], "updated_at": timezone.now()}
    if line.update(**values):
        return
    # No line yet, or (forward only) one further on, which the conflict leaves as it is.
    created = ExportStatus(document=document, channel=channel, recipient=recipient, **values)
    if forward_only:
        ExportStatus.objects.bulk_create([created], ignore_conflicts=True)
    else:
        ExportStatus.objects.bulk_create(
            [created], update_conflicts=True, unique_fields=_LINE, update_fields=list(values)
        )


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
