"""Fault campaign of the feeding (issue 17): one batch of orders, several patients, DMP and MSSanté, run by
real ``celery worker`` and ``celery beat`` processes against the sandbox PFI, through one run of faults:

1. the PFI is down while the batch is validated: every order is refused a connection at least once;
2. the PFI comes back slow, and the worker is SIGKILLed while the PFI holds an ACK, then replaced;
3. the new worker's database connection is killed (``pg_terminate_backend``) while it waits for an ACK;
4. the PFI answers normally again, and the worker's connection is killed ten more times, each time as soon as
   it comes back (hitting a claim, a send, a conclusion or the beat's sweep, wherever the worker is).

Then every order was accepted once by the PFI (a resend of the same MSH-10 is answered as a duplicate), is
sent, its attempts and HL7 journal rows add up, and each business acknowledgement was recorded once.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from dmp.models import BusinessAck, FeedingOrder, OrderState
from documents.models import Channel, Document, ExportState, ExportStatus
from documents.services import Recipients
from dpi import celery_app
from dpi.hl7.models import Message
from dpi.models import CareUnit
from dpi.validators import nir_key
from patients.models import IdentityStatus
from sandbox.models import PfiMessage, PfiZam
from tests.dmp.test_worker import _process, _stop, process_env  # noqa: F401  (process_env: a fixture)
from tests.factories import EpisodeFactory, PatientFactory
from tests.support.feeding import PRO_ADDRESS, set_pfi_mode
from tests.support.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

PATIENTS, LETTERS_PER_PATIENT = 3, 4  # 12 DMP orders; the first letter of each patient also mailed: 15 orders
WORKER_APPLICATION = "feeding-campaign-worker"  # how the worker's backends are found in pg_stat_activity
# How long the PFI holds an ACK while slow: the window in which a fault hits a send in flight. The killed
# worker's message is held long (nobody waits for it); its replacement's only for one send.
HOLD_KILLED_WORKER, HOLD_KILLED_CONNECTION = 10.0, 3.0
STORM_KILLS, STORM_PAUSE = 10, 0.2  # then the worker's connection, killed again each time it comes back
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


def _batch(letter: Callable[..., Document], care_unit: CareUnit) -> list[FeedingOrder]:
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


_BACKENDS = "FROM pg_stat_activity WHERE application_name = %s AND pid <> pg_backend_pid()"
COUNT_BACKENDS = f"SELECT count(*) {_BACKENDS}"
TERMINATE_BACKENDS = f"SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) {_BACKENDS}"


def _worker_backends(query: str = COUNT_BACKENDS) -> int:
    """How many PostgreSQL backends the worker processes have (or, with ``TERMINATE_BACKENDS``, had)."""
    with connection.cursor() as cursor:
        cursor.execute(query, [WORKER_APPLICATION])
        return cursor.fetchone()[0]


@dataclass
class Campaign:
    """What the faults did: the worker processes started, the database backends killed."""

    workers: list[subprocess.Popen]
    killed_in_flight: int = 0
    killed_in_storm: int = 0


def _run_campaign(orders: list[FeedingOrder], env: dict[str, str], campaign: Campaign) -> None:
    """The faults, in order, while the worker feeds the batch, until every order is sent."""
    ids = [order.pk for order in orders]
    wait_until(lambda: not FeedingOrder.objects.filter(pk__in=ids, attempts=0).exists(), SAFETY_NET)
    since = timezone.now()
    set_pfi_mode("slow", slow_seconds=HOLD_KILLED_WORKER)  # back, slowly
    wait_until(lambda: _mid_send(since), SAFETY_NET)
    _stop(campaign.workers[0], signal.SIGKILL)  # the PFI accepted a message whose ACK the DPI never journals
    set_pfi_mode("slow", slow_seconds=HOLD_KILLED_CONNECTION)
    since = timezone.now()
    campaign.workers.append(_process("worker", "--pool=solo", env=env))
    wait_until(lambda: _mid_send(since), SAFETY_NET)
    campaign.killed_in_flight = _worker_backends(TERMINATE_BACKENDS)  # the new worker's dies while it waits
    set_pfi_mode("normal")
    for _ in range(STORM_KILLS):  # each new connection, whatever it is doing: claiming, sending, concluding
        wait_until(lambda: _worker_backends() > 0, SAFETY_NET)  # the beat's sweep makes it reconnect
        campaign.killed_in_storm += _worker_backends(TERMINATE_BACKENDS)
        time.sleep(STORM_PAUSE)
    wait_until(lambda: _states(orders) == {OrderState.SENT: len(orders)}, SAFETY_NET)


def _wait_for_zams(orders: list[FeedingOrder]) -> None:
    """Every ZAM the PFI planned was delivered to the DPI listener (it sends them after its ACK)."""
    expected = sum(len(ZAMS[order.channel]) for order in orders)
    wait_until(
        lambda: PfiZam.objects.count() == expected and not PfiZam.objects.filter(outcome="").exists(), SAFETY_NET
    )


def _assert_accepted_once(order: FeedingOrder) -> None:
    """Sent; processed once by the PFI, every resend answered as a duplicate; journaled before each sending,
    with the PFI's AA once; each business acknowledgement recorded once."""
    order.refresh_from_db()
    received = PfiMessage.objects.filter(control_id=order.control_id)
    journaled = Message.objects.filter(direction=Message.Direction.OUTBOUND, control_id=order.control_id)
    assert (order.state, order.reason) == (OrderState.SENT, "") and order.sent_at is not None
    assert received.filter(ack_code="AA", duplicate=False).count() == 1
    assert not received.exclude(ack_code="AA").exists()
    assert journaled.filter(status=Message.Status.PROCESSED, ack_code="AA").count() == 1
    assert received.count() <= journaled.count() <= order.attempts
    assert order.attempts >= 2  # at least one connection refused while the PFI was down
    assert sorted(order.acks.values_list("event", flat=True)) == ZAMS[order.channel]


def _summary(orders: list[FeedingOrder], campaign: Campaign, seconds: float) -> str:
    journal = Message.objects.filter(direction=Message.Direction.OUTBOUND)
    received = PfiMessage.objects.all()
    return (
        f"fault campaign: {len(orders)} orders sent, {sum(order.attempts for order in orders)} attempts, "
        f"{journal.count()} outbound journal rows ({journal.filter(status=Message.Status.PENDING).count()} never "
        f"answered), PFI received {received.count()} ({received.filter(duplicate=True).count()} duplicates), "
        f"{len(campaign.workers)} workers, {campaign.killed_in_flight} + {campaign.killed_in_storm} database "
        f"backends killed, {BusinessAck.objects.count()} ZAMs recorded, {seconds:.1f} s"
    )


def test_batch_fed_through_pfi_outage_killed_worker_and_killed_connections_is_accepted_once_per_order(
    care_unit, letter, no_delay, pfi, campaign_env
):
    started = time.monotonic()
    celery_app.control.purge()
    set_pfi_mode("refuse")  # down before the first order is due
    campaign = Campaign(workers=[_process("worker", "--pool=solo", env=campaign_env)])
    beat = _process("beat", f"--schedule={django_settings.VAR_DIR / 'campaign-beat'}", env=campaign_env)
    try:
        orders = _batch(letter, care_unit)
        _run_campaign(orders, campaign_env, campaign)
        _wait_for_zams(orders)
    finally:
        for process in (*campaign.workers, beat):
            _stop(process)

    assert len(orders) == PATIENTS * LETTERS_PER_PATIENT + PATIENTS
    for order in orders:
        _assert_accepted_once(order)
    lines = ExportStatus.objects.filter(document__in=[order.document_id for order in orders])
    assert Counter(lines.values_list("channel", "state")) == {  # none pending, held or failed
        (Channel.DMP, ExportState.ACKNOWLEDGED): PATIENTS * LETTERS_PER_PATIENT,
        (Channel.MSS_PRO, ExportState.READ): PATIENTS,
    }
    journal = Message.objects.filter(direction=Message.Direction.OUTBOUND)
    assert journal.count() == journal.filter(control_id__in=[order.control_id for order in orders]).count()
    inbound = Message.objects.filter(direction=Message.Direction.INBOUND, message_type__startswith="ZAM")
    assert inbound.count() == BusinessAck.objects.count() == PfiZam.objects.count()
    # Both faults hit a send in flight: the PFI got the message, the DPI never journaled its ACK, resent it.
    assert campaign.killed_in_flight >= 1
    assert journal.filter(status=Message.Status.PENDING).count() >= 2
    assert PfiMessage.objects.filter(duplicate=True).count() >= 2
    print("\n" + _summary(orders, campaign, time.monotonic() - started))
