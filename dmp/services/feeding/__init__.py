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

One module per use case: ``orders`` (creation, the user's actions during the delay, withdrawals),
``runner`` (claim, checks, MDM, outcome), ``acks`` (the PFI's ZAM), ``exports`` (the document's
export lines). Callers import from this package.
"""

from dmp.services.feeding.acks import record_business_ack
from dmp.services.feeding.exports import sync_exports
from dmp.services.feeding.orders import (
    WITHDRAWAL_REASONS,
    audit_order,
    cancel_order,
    check_sendable,
    enqueue,
    order_deletion,
    order_feeding,
    order_fields,
    refused_by_recipient,
    release_order,
    send_history,
    send_now,
    withdraw_from_dmp,
)
from dmp.services.feeding.runner import OrderRefused, run_order

__all__ = [
    "WITHDRAWAL_REASONS",
    "OrderRefused",
    "audit_order",
    "cancel_order",
    "check_sendable",
    "enqueue",
    "order_deletion",
    "order_feeding",
    "order_fields",
    "record_business_ack",
    "refused_by_recipient",
    "release_order",
    "run_order",
    "send_history",
    "send_now",
    "sync_exports",
    "withdraw_from_dmp",
]
