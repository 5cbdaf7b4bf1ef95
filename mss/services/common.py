"""What the MSSanté services share: the request's types, the routing of a mailbox to a care unit, the traces."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.db.models import BooleanField, ExpressionWrapper, Q

from documents.cda import InstanceId
from dpi.hl7.models import Message
from dpi.models import CareUnit
from mss.models import MailboxRoute, Trace
from mss.refusals import Refusal
from patients.models import Episode, Patient
from patients.pam import Identity

Event = Trace.Event
logger = logging.getLogger(__name__)


class Action(StrEnum):
    INTEGRATE = "integrate"  # MDM^T02
    REPLACE = "replace"  # MDM^T10
    DELETE = "delete"  # MDM^T04


@dataclass(frozen=True)
class DocumentId:
    """TXA-12/TXA-13: the CDA ``ClinicalDocument/id`` (root, optional extension)."""

    root: str
    extension: str = ""

    def matches(self, other: InstanceId | None) -> bool:
        return other is not None and (self.root, self.extension) == (other.root, other.extension)

    @property
    def key(self) -> str:
        return f"{self.root}^{self.extension}" if self.extension else self.root


@dataclass(frozen=True)
class MailContext:
    """The mail the document came with: sender (PRT SB), recipients (PRT RCT), subject."""

    sender: str = ""
    sender_id: str = ""
    sender_organization_id: str = ""
    recipients: tuple[str, ...] = ()
    recipient_units: tuple[tuple[str, str], ...] = ()  # (FINESS, UF code) of RCT PRT-8 with 8.7 = UF
    message_id: str = ""
    subject: str = ""  # the mail body stays in the journal only


@dataclass(frozen=True)
class InboundDocument:
    action: Action
    cda: bytes
    document_id: DocumentId
    replaced_id: DocumentId | None
    pid: Identity
    mail: MailContext
    visibility: dict[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """What became of a request: AA with a note, or the refusal answered AE."""

    refusal: Refusal | None = None
    note: str = ""


@dataclass(frozen=True)
class Route:
    care_unit: CareUnit | None
    mailbox: str


# --- Routing ---------------------------------------------------------------------------------------


def route(mail: MailContext) -> Route:
    """The care unit of the recipient mailbox (admin mapping), else the UF named in RCT PRT-8, else the
    default mapping, else none."""
    mailbox = mail.recipients[0] if mail.recipients else ""
    if mail.recipients:
        routes = {
            r.address: r for r in MailboxRoute.objects.filter(address__in=mail.recipients).select_related("care_unit")
        }
        for address in mail.recipients:
            if address in routes:
                return Route(routes[address].care_unit, address)
    for finess, code in mail.recipient_units:
        units = CareUnit.objects.filter(code=code, active=True)
        if finess:
            units = units.filter(Q(site__finess_eg=finess) | Q(site__legal_entity__finess_ej=finess))
        unit = units.first()
        if unit is not None:
            return Route(unit, mailbox)
    default = MailboxRoute.objects.filter(is_default=True).select_related("care_unit").first()
    return Route(default.care_unit if default else None, mailbox)


def receiving_visit(patient: Patient, unit: CareUnit | None) -> Episode | None:
    """The patient's visit in the receiving unit (open first), else none: PV1-2 = N, no visit is sent."""
    if unit is None:
        return None
    still_open = ExpressionWrapper(Q(discharged_at__isnull=True), output_field=BooleanField())
    visits = Episode.objects.filter(patient=patient, care_unit=unit, cancelled=False)
    return visits.order_by(still_open.desc(), "-admitted_at", "-pk").first()


# --- Traces ------------------------------------------------------------------------------------------


def save_trace(event: str, **fields: Any) -> Trace:
    """One trace, saved now (the user's actions); a received message's traces are saved together."""
    row = trace_row(event, **fields)
    row.save()
    return row


def trace_row(event: str, *, mail: MailContext | None = None, route_: Route | None = None, **values: Any) -> Trace:
    detail = values.pop("detail", {})
    if mail is not None:
        values.setdefault("sender", mail.sender[:254])
        values.setdefault("subject", mail.subject[:300])
        if mail.message_id:
            detail.setdefault("mail_message_id", mail.message_id)
    if route_ is not None:
        values.setdefault("mailbox", route_.mailbox[:254])
        values.setdefault("care_unit", route_.care_unit)
    return Trace(event=event, detail=detail, **values)


def record_refusal(*, refusal: Refusal, mail: MailContext, message: Message) -> None:
    """A message refused before its document could be read: its two traces."""
    where = route(mail)
    received = trace_row(Event.RECEIVED, mail=mail, route_=Route(None, where.mailbox), message=message)
    Trace.objects.bulk_create([received, refused_trace(refusal, mail=mail, where=where, message=message, cda_id="")])


def refused_trace(refusal: Refusal, *, mail: MailContext, where: Route, message: Message, cda_id: str) -> Trace:
    detail = {"text": refusal.detail.text}
    if refusal.private:
        detail["private"] = refusal.private  # the local identity's values: shown with the patient's traces only
    return trace_row(
        Event.REFUSED, mail=mail, route_=Route(None, where.mailbox), message=message, patient=refusal.patient,
        cda_id=cda_id[:260], error_code=refusal.code, detail=detail,
    )  # fmt: skip
