"""Celery tasks of the feeding: thin, idempotent, calling the services."""

from __future__ import annotations

from celery import shared_task

from dmp.selectors.feeding import due_order_ids
from dmp.services import feeding as services


@shared_task(name="dmp.run_feeding_order")
def run_feeding_order(order_id: int) -> str:
    """Run one order if it is due; a duplicate delivery of this task finds nothing to claim."""
    order = services.run_order(order_id)
    return order.state if order else "nothing to do"


@shared_task(name="dmp.dispatch_due_orders")
def dispatch_due_orders() -> int:
    """Beat's sweep: queue every due order (and any whose worker died mid-send, once its lease expired)."""
    ids = due_order_ids()
    for order_id in ids:
        run_feeding_order.delay(order_id)
    return len(ids)
