"""Feeding orders on a real Celery worker and broker (Redis), against the sandbox PFI over MLLP.

The worker runs in a thread for most tests; the crash test runs ``celery worker`` and
``celery beat`` as real processes and kills the worker with SIGKILL in the middle of a send.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest
from celery.signals import task_postrun
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from consent.models import Source, State, Subject
from consent.services import record_consent
from dmp.models import FeedingOrder, OrderState
from dmp.services.feeding import cancel_order
from documents.services import Recipients
from dpi import celery_app
from sandbox.models import PfiMessage
from tests.support.feeding import PRO_ADDRESS, set_pfi_mode
from tests.support.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def short_delay(settings) -> None:
    """Three seconds between validation and sending (the delay is configured in minutes)."""
    settings.DMP_FEEDING_DELAY_MINUTES = 0.05


def _order(document, channel: str = "dmp") -> FeedingOrder:
    return FeedingOrder.objects.filter(document=document, channel=channel).latest("pk")


def _state(order: FeedingOrder) -> str:
    order.refresh_from_db()
    return order.state


def _accepted(document) -> list[PfiMessage]:
    ids = [version.cda_id_root for version in document.versions.all()]
    return list(PfiMessage.objects.filter(document_id__in=ids, ack_code="AA", duplicate=False))


@pytest.fixture
def finished_orders() -> Iterator[list[int]]:
    """The ids of the orders the worker finished running (whether or not there was something to do)."""
    done: list[int] = []

    def record(sender=None, args=(), **kwargs: object) -> None:
        if sender is not None and sender.name == "dmp.run_feeding_order":
            done.append(args[0])

    task_postrun.connect(record, weak=False)
    yield done
    task_postrun.disconnect(record)


def test_order_runs_on_the_worker_once_its_delay_has_passed(qualified_episode, letter, short_delay, pfi, worker):
    document = letter(qualified_episode)
    order = _order(document)
    assert _state(order) == OrderState.SCHEDULED and _accepted(document) == []
    wait_until(lambda: _state(order) == OrderState.SENT)
    assert order.sent_at >= order.due_at
    assert len(_accepted(document)) == 1


def test_cancelled_during_the_delay_nothing_is_sent(
    qualified_episode, letter, doctor, short_delay, pfi, worker, finished_orders
):
    document = letter(qualified_episode)
    order = _order(document)
    done = finished_orders
    cancel_order(order=order, acting_user=doctor)
    wait_until(lambda: order.pk in done)  # the worker ran the task at the due time: nothing to do
    assert _state(order) == OrderState.CANCELLED
    assert _accepted(document) == []


def test_opposition_recorded_during_the_delay_stops_the_dmp_but_not_mssanté(
    qualified_episode, letter, doctor, short_delay, pfi, worker
):
    document = letter(qualified_episode, recipients=Recipients((PRO_ADDRESS,)))
    record_consent(
        episode=qualified_episode, subject=Subject.FEEDING, state=State.INFORMED_OPPOSED, source=Source.UI,
        acting_user=doctor,
    )  # fmt: skip
    dmp, mss = _order(document, "dmp"), _order(document, "mss")
    wait_until(lambda: _state(dmp) == OrderState.REFUSED and _state(mss) == OrderState.SENT)
    assert [message.to_dmp for message in _accepted(document)] == [False]


def test_pfi_down_for_a_while_then_back_delivers_everything_once(
    qualified_episode, letter, settings, no_delay, pfi, worker
):
    settings.DMP_FEEDING_BACKOFF_SECONDS, settings.DMP_FEEDING_MAX_BACKOFF_SECONDS = 0.5, 1
    set_pfi_mode("refuse")
    documents = [letter(qualified_episode, title=f"Lettre {n}") for n in range(3)]
    orders = [_order(document) for document in documents]
    wait_until(lambda: all(order.refresh_from_db() or order.attempts >= 2 for order in orders))
    assert all(_state(order) in (OrderState.SCHEDULED, OrderState.SENDING) for order in orders)
    set_pfi_mode("normal")
    wait_until(lambda: all(_state(order) == OrderState.SENT for order in orders))
    assert [len(_accepted(document)) for document in documents] == [1, 1, 1]


# --- a worker killed in the middle of a send ----------------------------------------------------------


def _process(*command: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        [sys.executable, "-m", "celery", "-A", "dpi", *command, "--loglevel=WARNING"],
        cwd=django_settings.BASE_DIR,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
        process.wait(timeout=30)


@pytest.fixture
def process_env(settings) -> dict[str, str]:
    """The environment of worker and beat processes: this test's database, broker, PFI and short timings."""
    database = connection.settings_dict
    return os.environ | {
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "PFI_HOST": settings.PFI_HOST,
        "PFI_PORT": str(settings.PFI_PORT),
        "PFI_TIMEOUT_SECONDS": "20",
        "DMP_FEEDING_LEASE_SECONDS": "3",
        "DMP_FEEDING_SWEEP_SECONDS": "1",
        "DMP_FEEDING_BACKOFF_SECONDS": "1",
        "DPI_VAR_DIR": str(django_settings.VAR_DIR / "sigkill"),
    }


def test_worker_killed_in_the_middle_of_a_send_never_sends_twice(qualified_episode, letter, no_delay, pfi, process_env):
    celery_app.control.purge()
    set_pfi_mode("slow", slow_seconds=6)
    first_worker = _process("worker", "--pool=solo", env=process_env)
    beat = _process("beat", f"--schedule={django_settings.VAR_DIR / 'sigkill-beat'}", env=process_env)
    second_worker = None
    try:
        document = letter(qualified_episode)
        order = _order(document)
        wait_until(lambda: PfiMessage.objects.filter(control_id=order.control_id).exists())
        assert _state(order) == OrderState.SENDING
        _stop(first_worker, signal.SIGKILL)  # the PFI got the message; its ACK never reaches the DPI
        set_pfi_mode("normal")
        second_worker = _process("worker", "--pool=solo", env=process_env)
        wait_until(lambda: _state(order) == OrderState.SENT, timeout=60)
    finally:
        for process in (first_worker, beat, second_worker):
            if process is not None:
                _stop(process)
    assert order.attempts == 2 and order.sent_at <= timezone.now()
    received = PfiMessage.objects.filter(control_id=order.control_id)
    assert received.count() == 2  # the same message (same MSH-10) arrived twice...
    assert len(_accepted(document)) == 1  # ...and the PFI processed it once


# --- two workers draining the same orders -------------------------------------------------------------


def test_two_workers_draining_the_same_orders_send_each_exactly_once(
    qualified_episode, letter, no_delay, pfi, process_env
):
    """Two worker processes, four threads each, get every order twice (as the enqueue and the beat sweep can
    both deliver it): the claim and its lease let one run send it; the PFI receives each MSH-10 once. The lease
    is long here, so that a slow machine cannot make a run outlive it (a takeover resends the same MSH-10, which
    the PFI answers as a duplicate: tested above with a killed worker)."""
    from dmp.tasks import run_feeding_order

    celery_app.control.purge()
    documents = [letter(qualified_episode, title=f"Lettre {n}", hold_sending=True) for n in range(12)]
    orders = [_order(document) for document in documents]
    FeedingOrder.objects.filter(pk__in=[o.pk for o in orders]).update(state=OrderState.SCHEDULED, due_at=timezone.now())
    env = process_env | {"DMP_FEEDING_LEASE_SECONDS": "300"}
    workers = [_process("worker", "--pool=threads", "--concurrency=4", env=env) for _ in range(2)]
    try:
        for order in orders:
            run_feeding_order.delay(order.pk)
            run_feeding_order.delay(order.pk)
        wait_until(lambda: all(_state(order) == OrderState.SENT for order in orders), timeout=90)
    finally:
        for process in workers:
            _stop(process)
    assert [order.attempts for order in orders] == [1] * len(orders)
    for order, document in zip(orders, documents, strict=True):
        assert PfiMessage.objects.filter(control_id=order.control_id).count() == 1
        assert len(_accepted(document)) == 1
