"""Replay of journal entries (service, Celery task on a real worker) and the read-only admin journal."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.contrib.auth.models import Group
from django.db import connections
from django.urls import reverse

from dpi import celery_app
from dpi.hl7 import registry, tasks
from dpi.hl7.engine import process_inbound
from dpi.hl7.errors import ErrorCode, HL7ProcessingError
from dpi.hl7.models import Message
from dpi.hl7.registry import InboundMessage
from dpi.hl7.services import ReplayRefused, replay_message
from dpi.models import AuditEvent
from tests.factories import UserFactory


@pytest.fixture
def operator(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client, operator):
    client.force_login(operator)
    return client


@pytest.fixture
def receive_rejected(db, adt) -> Callable[[str], Message]:
    """Receive an ADT^A01 that its handler rejects (AE), whatever handler the apps register."""

    def reject(msg: InboundMessage) -> None:
        raise HL7ProcessingError(ErrorCode.APPLICATION_ERROR, "Patient inconnu", location="PID^1^3")

    def receive(control_id: str, **fields: str) -> Message:
        with registry.registered(reject, "ADT^A01"):
            process_inbound(adt(control_id, **fields).encode(), peer="test")
        return Message.objects.get(control_id=control_id)

    return receive


@pytest.fixture
def rejected(receive_rejected: Callable[[str], Message]) -> Message:
    return receive_rejected("1")


def close_connections(**kwargs: object) -> None:
    connections.close_all()


@pytest.fixture
def celery_worker(transactional_db) -> Iterator[None]:
    """A real worker in a thread, on the broker of the settings (Redis in the test suite)."""
    assert tasks.replay_messages.name in celery_app.tasks
    task_postrun.connect(close_connections, weak=False)  # the worker thread's DB connection
    try:
        with start_worker(celery_app, perform_ping_check=False, pool="solo"):
            yield
    finally:
        task_postrun.disconnect(close_connections)


def test_replay_runs_the_handler_again_on_the_same_row_and_audits_it(rejected, operator, adt_handler):
    message = replay_message(message=rejected, acting_user=operator)

    assert message.pk == rejected.pk
    assert (message.status, message.ack_code, message.error, message.replay_count) == (
        Message.Status.PROCESSED,
        "AA",
        "",
        1,
    )
    assert message.processed_at >= rejected.processed_at
    assert Group.objects.filter(name="effect-GAM-1").exists()
    event = AuditEvent.objects.get(action=AuditEvent.Action.MESSAGE_REPLAY)
    assert (event.actor, event.object_id) == (operator, str(message.pk))
    assert event.detail == {"status": "processed", "ack_code": "AA", "replay_count": 1}


def test_failed_replay_keeps_the_error_and_counts_the_attempt(rejected, operator, failing_handler):
    message = replay_message(message=rejected, acting_user=operator)

    assert (message.status, message.ack_code, message.replay_count) == (Message.Status.ERROR, "AE", 1)
    assert "Patient inconnu" in message.error
    assert not Group.objects.exists()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.MESSAGE_REPLAY).count() == 1


def test_duplicate_ack_follows_the_replayed_original(rejected, operator, adt, adt_handler):
    replay_message(message=rejected, acting_user=operator)

    ack = process_inbound(adt("1").encode(), peer="test")

    assert ack == bytes(Message.objects.get(pk=rejected.pk).ack)
    assert Group.objects.count() == 1


def test_duplicates_and_outbound_messages_are_not_replayed(rejected, operator, adt):
    process_inbound(adt("1").encode(), peer="test")
    duplicate = Message.objects.get(status=Message.Status.DUPLICATE)
    outbound = Message.objects.create(
        direction=Message.Direction.OUTBOUND, status=Message.Status.ERROR, raw=b"MSH|", size=4
    )

    with pytest.raises(ReplayRefused, match=f"n° {rejected.pk}"):
        replay_message(message=duplicate, acting_user=operator)
    with pytest.raises(ReplayRefused):
        replay_message(message=outbound, acting_user=operator)


def test_replay_task_on_a_real_worker_replays_every_message(
    celery_worker, operator, receive_rejected, adt_handler, eventually
):
    for control_id in ("1", "2", "3"):
        receive_rejected(control_id)

    tasks.replay_messages.delay(list(Message.objects.values_list("pk", flat=True)), operator.pk)

    eventually(lambda: not Message.objects.exclude(status=Message.Status.PROCESSED).exists())
    assert Group.objects.count() == 3
    assert AuditEvent.objects.filter(action=AuditEvent.Action.MESSAGE_REPLAY, actor=operator).count() == 3


def test_journal_list_filters_and_searches_by_patient_identifier(admin_client, rejected, receive_rejected):
    receive_rejected("2", ipp="777777")
    url = reverse("admin:hl7_message_changelist")

    found = admin_client.get(url, {"q": "777777"})
    filtered = admin_client.get(url, {"status__exact": "error", "ack_code__exact": "AE", "sender": "GAM|CHU-X"})

    assert found.status_code == 200
    assert list(found.context["cl"].result_list) == [Message.objects.get(control_id="2")]
    assert filtered.context["cl"].result_count == 2
    assert admin_client.get(url, {"message_type": "ADT^A01", "received_at__year": "2099"}).status_code == 200


def test_journal_entry_page_is_read_only_and_shows_segments_ack_and_error(admin_client, rejected):
    response = admin_client.get(reverse("admin:hl7_message_change", args=[rejected.pk]))

    content = response.content.decode()
    assert response.status_code == 200
    assert "MSH|^~\\&amp;|GAM|CHU-X" in content
    assert "\nEVN||20240306111154\n" in content
    assert "MSA|AE|1" in content
    assert "Patient inconnu" in content
    assert 'name="_save"' not in content
    assert admin_client.get(reverse("admin:hl7_message_add")).status_code == 403
    assert (
        admin_client.post(reverse("admin:hl7_message_delete", args=[rejected.pk]), {"post": "yes"}).status_code == 403
    )


def test_replaying_one_selected_message_from_the_admin_is_synchronous(admin_client, rejected, adt_handler):
    response = admin_client.post(
        reverse("admin:hl7_message_changelist"),
        {"action": "replay_selected", "_selected_action": [rejected.pk]},
        follow=True,
    )

    assert "Message rejoué" in response.content.decode()
    assert Message.objects.get().status == Message.Status.PROCESSED


def test_replaying_many_selected_messages_enqueues_the_task(
    celery_worker, admin_client, receive_rejected, adt_handler, eventually
):
    for control_id in ("1", "2"):
        receive_rejected(control_id)

    response = admin_client.post(
        reverse("admin:hl7_message_changelist"),
        {"action": "replay_selected", "_selected_action": list(Message.objects.values_list("pk", flat=True))},
        follow=True,
    )

    assert "2 messages mis en file" in response.content.decode()
    eventually(lambda: not Message.objects.exclude(status=Message.Status.PROCESSED).exists())
    assert Group.objects.count() == 2


# --- a resend recovers an original that never concluded, or that asked for the resend (AR) ---------------


def test_resend_of_a_message_interrupted_before_its_ack_processes_it_once(db, adt, adt_handler):
    from datetime import timedelta

    from django.utils import timezone

    from dpi.hl7.parsing import read_envelope

    raw = adt("9").encode()
    stuck = Message.from_envelope(  # journaled, then the listener died before the handler's commit
        read_envelope(raw), direction=Message.Direction.INBOUND, peer="test", size=len(raw),
        status=Message.Status.RECEIVED, received_at=timezone.now() - timedelta(minutes=5),
    )  # fmt: skip
    stuck.save()

    ack = process_inbound(raw, peer="test")

    assert b"MSA|AA|9" in ack
    stuck.refresh_from_db()
    assert (stuck.status, stuck.ack_code) == (Message.Status.PROCESSED, "AA")
    assert Group.objects.count() == 1
    assert Message.objects.get(status=Message.Status.DUPLICATE).duplicate_of == stuck
    process_inbound(raw, peer="test")  # a third copy is a plain duplicate
    assert Group.objects.count() == 1


def test_resend_after_an_internal_error_ar_is_processed_again(db, adt):
    def crash(msg: InboundMessage) -> None:
        raise RuntimeError("database went away")

    with registry.registered(crash, "ADT^A01"):
        first = process_inbound(adt("7").encode(), peer="test")
    assert b"MSA|AR|7" in first

    def admit(msg: InboundMessage) -> None:
        Group.objects.create(name="admitted")

    with registry.registered(admit, "ADT^A01"):
        second = process_inbound(adt("7").encode(), peer="test")
    assert b"MSA|AA|7" in second
    assert Group.objects.filter(name="admitted").count() == 1


def test_a_message_whose_process_dies_before_the_commit_leaves_nothing_and_its_resend_applies_once(db, adt):
    """The journal row commits with the handler's writes: a process killed in between leaves neither,
    and sent no ACK, so the sender resends; the resend is processed as a new message, once."""

    class Killed(BaseException):  # not an Exception: nothing in the engine answers it, as with SIGKILL
        pass

    def dies(msg: InboundMessage) -> None:
        Group.objects.create(name="half-applied")
        raise Killed

    with registry.registered(dies, "ADT^A01"), pytest.raises(Killed):
        process_inbound(adt("11").encode(), peer="test")
    assert not Message.objects.exists()
    assert not Group.objects.exists()

    def admit(msg: InboundMessage) -> None:
        Group.objects.create(name="admitted")

    with registry.registered(admit, "ADT^A01"):
        ack = process_inbound(adt("11").encode(), peer="test")
    assert b"MSA|AA|11" in ack
    assert list(Group.objects.values_list("name", flat=True)) == ["admitted"]
    assert Message.objects.get().status == Message.Status.PROCESSED
