"""Fault campaign of the feeding (issue 17): one batch of orders, several patients, DMP and MSSanté, run by
real ``celery worker`` and ``celery beat`` processes against the sandbox PFI, through one run of faults:

1. the PFI is down while the batch is validated: every order is refused a connection at least once;
2. the PFI comes back slow, and the worker is SIGKILLed while the PFI holds an ACK, then replaced;
3. the new worker's database connections are killed (``pg_terminate_backend``) while it waits for an ACK;
4. the PFI answers normally again.

Then every order was accepted once by the PFI (a resend of the same MSH-10 is answered as a duplicate), is
sent, its attempts and HL7 journal rows add up, and each business acknowledgement was recorded once.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from dmp.models import BusinessAck, FeedingOrder, OrderState
from documents.models import ExportState, ExportStatus
from documents.services import Recipients
from dpi import celery_app
from dpi.hl7.models import Message
from dpi.validators import nir_key
from patients.models import IdentityStatus
from sandbox.models import PfiMessage, PfiZam
from tests.dmp.conftest import PRO_ADDRESS, set_pfi_mode, wait_until
from tests.dmp.test_worker import _process, _stop, process_env  # noqa: F401  (process_env: a fixture)
from tests.factories import EpisodeFactory, PatientFactory

pytestmark = pytest.mark.django_db(transaction=True)

PATIENTS, LETTERS_PER_PATIENT = 3, 5  # 15 DMP orders; the first letter of each patient also mailed: 18 orders
WORKER_APPLICATION = "feeding-campaign-worker"  # how the worker's backends are found in pg_stat_activity
SLOW_SECONDS = 1.5  # the PFI's wait before an ACK while slow: the window in which a fault hits mid-send
SAFETY_NET = 120  # seconds: only a hung campaign ever waits that long
ZAMS = {"dmp": ["Z01"], "mss": ["Z02", "Z03"]}  # what each order's PFI processing sends back, once


@pytest.fixture
def campaign_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """``process_env`` of the crash test, with a database application name to find the workers' backends,
    backoff capped at 2 s and attempts enough that no order fails while the PFI is down (a transient cause)."""
    base = request.getfixturevalue("process_env")
    return base | {
        "DATABASE_URL": f"{base['DATABASE_URL']}?application_name={WORKER_APPLICATION}",
        "DMP_FEEDING_MAX_BACKOFF_SECONDS": "2",
        "DMP_FEEDING_MAX_ATTEMPTS": "30",
        "DPI_VAR_DIR": str(django_settings.VAR_DIR / "campaign"),
    }


def _batch(letter: Callable[..., object], care_unit) -> list[FeedingOrder]:
    """The letters of several qualified patients, validated at once (no delay): their orders."""
    documents = []
    for number in range(PATIENTS):
        nir13 = f"28501751230{number:02d}"
        patient = PatientFactory(
            ins=nir13 + nir_key(nir13),
            ins_oid="1.2.250.1.213.1.4.10",
            identity_status=IdentityStatus.QUALIFIEE,
            birth_place_insee="75056",
            sex="F",
        )
        episode = EpisodeFactory(patient=patient, care_unit=care_unit, nda=f"NDA-CAMPAIGN-{number}")
        for index in range(LETTERS_PER_PATIENT):
            recipients = Recipients((PRO_ADDRESS,)) if index == 0 else None
            documents.append(letter(episode, title=f"Lettre {number}-{index}", recipients=recipients))
    return list(FeedingOrder.objects.filter(document__in=documents).order_by("pk"))


def _states(orders: list[FeedingOrder]) -> Counter[str]:
    return Counter(FeedingOrder.objects.filter(pk__in=[order.pk for order in orders]).values_list("state", flat=True))


def _mid_send(since: datetime) -> bool:
    """An order the PFI received since ``since`` and has not answered yet (the worker waits for its ACK)."""
    received = PfiMessage.objects.filter(received_at__gte=since).values("control_id")
    return FeedingOrder.objects.filter(state=OrderState.SENDING, control_id__in=received).exists()


def _kill_worker_backends() -> int:
    """Terminate every PostgreSQL backend of the worker processes; how many there were."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = %s AND pid <> pg_backend_pid()",
            [WORKER_APPLICATION],
        )
        return cursor.fetchone()[0]


def _run_campaign(orders: list[FeedingOrder], env: dict[str, str], workers: list[subprocess.Popen]) -> int:
    """The faults, in order, while the worker feeds the batch; the number of database backends killed."""
    wait_until(lambda: not FeedingOrder.objects.filter(pk__in=[o.pk for o in orders], attempts=0).exists(), SAFETY_NET)
    since = timezone.now()
    set_pfi_mode("slow", slow_seconds=SLOW_SECONDS)  # back, slowly
    wait_until(lambda: _mid_send(since), SAFETY_NET)
    _stop(workers[0], signal.SIGKILL)  # the PFI holds an ACK the DPI will never journal
    since = timezone.now()
    workers.append(_process("worker", "--pool=solo", env=env))
    wait_until(lambda: _mid_send(since), SAFETY_NET)
    killed = _kill_worker_backends()  # the new worker's connection dies while it waits for its ACK
    set_pfi_mode("normal")
    wait_until(lambda: _states(orders) == {OrderState.SENT: len(orders)}, SAFETY_NET)
    return killed


def _wait_for_zams(orders: list[FeedingOrder]) -> None:
    """Every ZAM the PFI planned was delivered to the DPI listener (it sends them after its ACK)."""
    expected = sum(len(ZAMS[order.channel]) for order in orders)
    wait_until(
        lambda: PfiZam.objects.count() == expected and not PfiZam.objects.filter(outcome="").exists(), SAFETY_NET
    )


def test_batch_fed_through_pfi_outage_killed_worker_and_killed_connections_is_accepted_once_per_order(
    care_unit, letter, no_delay, pfi, campaign_env
):
    started = time.monotonic()
    celery_app.control.purge()
    set_pfi_mode("refuse")  # down before the first order is due
    workers = [_process("worker", "--pool=solo", env=campaign_env)]
    beat = _process("beat", f"--schedule={django_settings.VAR_DIR / 'campaign-beat'}", env=campaign_env)
    try:
        orders = _batch(letter, care_unit)
        killed = _run_campaign(orders, campaign_env, workers)
        _wait_for_zams(orders)
    finally:
        for process in (*workers, beat):
            _stop(process)

    assert len(orders) == PATIENTS * LETTERS_PER_PATIENT + PATIENTS and killed >= 1
    received = PfiMessage.objects.all()
    journal = Message.objects.filter(direction=Message.Direction.OUTBOUND)
    for order in orders:
        order.refresh_from_db()
        mine, journaled = received.filter(control_id=order.control_id), journal.filter(control_id=order.control_id)
        assert order.state == OrderState.SENT and order.sent_at is not None
        assert mine.filter(ack_code="AA", duplicate=False).count() == 1  # processed once by the PFI...
        assert not mine.exclude(ack_code="AA").exists()  # ...and every resend answered as a duplicate
        assert journaled.filter(status=Message.Status.PROCESSED, ack_code="AA").count() == 1
        assert mine.count() <= journaled.count() <= order.attempts  # journaled before sending, once per attempt
        assert order.attempts >= 2  # at least one connection refused while the PFI was down
        assert sorted(order.acks.values_list("event", flat=True)) == ZAMS[order.channel]  # each ZAM recorded once
    document_ids = [order.document_id for order in orders]
    lines = ExportStatus.objects.filter(document_id__in=document_ids)
    assert not lines.filter(state__in=[ExportState.PENDING, ExportState.HELD, ExportState.FAILED]).exists()
    assert journal.count() == journal.filter(control_id__in=[order.control_id for order in orders]).count()
    inbound = Message.objects.filter(direction=Message.Direction.INBOUND, message_type__startswith="ZAM")
    assert inbound.count() == BusinessAck.objects.count() == PfiZam.objects.count()
    unanswered = journal.filter(status=Message.Status.PENDING).count()
    assert received.filter(duplicate=True).count() >= 2 and unanswered >= 2  # both faults hit a send in flight
    print(  # the campaign's one-line summary, shown with -s
        f"\nfault campaign: {len(orders)} orders sent, {sum(o.attempts for o in orders)} attempts, "
        f"{journal.count()} outbound journal rows ({unanswered} never answered), PFI received {received.count()} "
        f"({received.filter(duplicate=True).count()} duplicates), {len(workers)} workers, {killed} backends "
        f"killed, {inbound.count()} ZAMs, {time.monotonic() - started:.1f} s"
    )
