"""A feeding order whose database connection is lost is tried again, not failed: killed for real with
``pg_terminate_backend`` while the order is on its way to the sandbox PFI (issue 17)."""

from __future__ import annotations

import queue
import threading

import pytest
from django.db import connection

from dmp.models import FeedingOrder, OrderState
from dmp.services.feeding import run_order
from sandbox.models import PfiMessage
from tests.support.feeding import set_pfi_mode
from tests.support.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def _run_in_a_thread_whose_connection_is_killed(order: FeedingOrder, *, when) -> None:
    """Run the order in a thread with its own connection; terminate that backend once ``when()`` holds."""
    pids: queue.Queue[int] = queue.Queue()

    def run() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pids.put(cursor.fetchone()[0])
            run_order(order.pk)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    pid = pids.get(timeout=10)
    wait_until(when)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    thread.join(timeout=30)
    assert not thread.is_alive()


def test_order_whose_connection_is_killed_while_the_pfi_answers_is_tried_again_and_sent_once(
    qualified_episode, letter, no_delay, pfi, settings
):
    settings.DMP_FEEDING_BACKOFF_SECONDS = 0  # the next attempt is due at once
    order = FeedingOrder.objects.get(document=letter(qualified_episode), channel="dmp")
    set_pfi_mode("slow", slow_seconds=1.5)  # the PFI holds its ACK: the worker waits on the socket
    _run_in_a_thread_whose_connection_is_killed(
        order, when=lambda: PfiMessage.objects.filter(control_id=order.control_id).exists()
    )
    order.refresh_from_db()
    assert (order.state, order.attempts) == (OrderState.SCHEDULED, 1)  # not failed: waiting for its next try
    assert order.reason.startswith("Base de données indisponible")

    set_pfi_mode("normal")
    run_order(order.pk)
    order.refresh_from_db()
    assert (order.state, order.attempts) == (OrderState.SENT, 2)
    received = PfiMessage.objects.filter(control_id=order.control_id)
    assert received.filter(ack_code="AA", duplicate=False).count() == 1  # the resend was the same message
    assert received.count() == 2


def test_order_whose_database_stays_broken_fails_visibly_after_its_attempts(
    qualified_episode, letter, no_delay, pfi, settings
):
    settings.DMP_FEEDING_BACKOFF_SECONDS, settings.DMP_FEEDING_MAX_ATTEMPTS = 0, 1
    order = FeedingOrder.objects.get(document=letter(qualified_episode), channel="dmp")
    set_pfi_mode("slow", slow_seconds=1.5)
    _run_in_a_thread_whose_connection_is_killed(
        order, when=lambda: PfiMessage.objects.filter(control_id=order.control_id).exists()
    )
    order.refresh_from_db()
    assert order.state == OrderState.FAILED
    assert order.reason.startswith("Échec après 1 tentatives : Base de données indisponible")
