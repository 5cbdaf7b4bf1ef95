"""The listener's bounds over real sockets: connections over MLLP_MAX_CONNECTIONS are closed at
once, frames over MLLP_MAX_BYTES_IN_FLIGHT are answered AR "resend later", and it keeps serving."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from django.contrib.auth.models import Group

from dpi.hl7 import registry
from dpi.hl7.mllp import END_BLOCK, HEAD_BYTES, START_BLOCK, FrameReader, InFlightBudget, frame
from dpi.hl7.models import Message
from dpi.hl7.registry import InboundMessage

MIB = 1024 * 1024


def padded(adt, control_id: str, size: int) -> bytes:
    """An ADT^A01 of about ``size`` bytes (a Z-segment carries the padding)."""
    message = adt(control_id)
    return (message + "ZPD|" + "X" * max(size - len(message) - 5, 0) + "\r").encode()


def test_connections_over_the_cap_are_closed_at_once_and_logged(start_listener, open_peer, adt, adt_handler, caplog):
    listener = start_listener(max_connections=3)
    caplog.set_level(logging.WARNING, logger="dpi.hl7.mllp")
    admitted = [open_peer(listener.port) for _ in range(3)]
    assert admitted[0].exchange(adt("0")).code == "AA"  # all three are served before the next ones arrive

    refused = [open_peer(listener.port) for _ in range(5)]

    assert all(peer.is_closed_by_listener() for peer in refused)
    assert [peer.exchange(adt(f"ok-{n}")).code for n, peer in enumerate(admitted)] == ["AA"] * 3
    assert listener.server.refused_connections == 5
    refusals = [record.getMessage() for record in caplog.records if "refused and closed" in record.getMessage()]
    assert len(refusals) == 5
    assert "3 connections open, MLLP_MAX_CONNECTIONS=3" in refusals[0]


def test_a_place_freed_by_a_closed_connection_is_given_to_the_next(
    start_listener, open_peer, adt, adt_handler, eventually
):
    listener = start_listener(max_connections=2)
    first, second = open_peer(listener.port), open_peer(listener.port)
    assert second.exchange(adt("1")).code == "AA"

    first.close()
    eventually(lambda: len(listener.server._connections) == 1)

    assert open_peer(listener.port).exchange(adt("2")).code == "AA"
    assert listener.server.refused_connections == 0


def test_many_idle_connections_cannot_starve_the_listener_of_memory_or_sockets(
    start_listener, open_peer, adt, adt_handler
):
    listener = start_listener(max_connections=10)
    idle = [open_peer(listener.port) for _ in range(10)]
    assert idle[-1].exchange(adt("last")).code == "AA"  # the tenth was admitted

    flood = [open_peer(listener.port) for _ in range(100)]

    assert all(peer.is_closed_by_listener() for peer in flood)
    assert listener.server.refused_connections == 100
    assert idle[0].exchange(adt("first")).code == "AA"  # the idle ones admitted before still work
    assert listener.thread.is_alive()


def test_large_frames_at_once_stay_within_the_in_flight_budget(start_listener, open_peer, adt, eventually):
    """Eight 1 MiB frames against a 2.5 MiB budget: at most two are held (their handler waits);
    the others keep their head only and are answered AR, journaled, and processed when resent."""
    listener = start_listener(max_bytes=2 * MIB, max_bytes_in_flight=int(2.5 * MIB), workers=8)
    messages = [padded(adt, f"big-{n}", MIB) for n in range(8)]
    peers = [open_peer(listener.port) for _ in messages]
    entered, release = [], threading.Event()

    def held_admit(msg: InboundMessage) -> None:
        entered.append(msg.control_id)
        release.wait(timeout=30)
        Group.objects.create(name=msg.control_id)

    def refused() -> int:
        return Message.objects.filter(ack_code="AR").count()

    with registry.registered(held_admit, "ADT^A01"), ThreadPoolExecutor(len(peers)) as senders:
        acks = [senders.submit(peer.exchange, message) for peer, message in zip(peers, messages, strict=True)]
        eventually(lambda: len(entered) + refused() == len(messages))
        held = len(entered)
        release.set()
        codes = [ack.result().code for ack in acks]

    server = listener.server
    assert 1 <= held <= 2  # 2.5 MiB hold two frames of 1 MiB, not three
    assert codes.count("AA") == held
    assert codes.count("AR") == server.refused_frames == len(messages) - held
    assert server.budget.peak <= server.budget.limit + len(peers) * HEAD_BYTES
    eventually(lambda: server.budget.used == 0)  # all given back once answered (just after the ACK is sent)
    rows = Message.objects.filter(ack_code="AR")
    assert all(row.truncated and len(row.raw) <= HEAD_BYTES and row.size == len(messages[0]) for row in rows)
    assert all("Récepteur saturé" in row.error for row in rows)

    def admit(msg: InboundMessage) -> None:
        Group.objects.create(name=msg.control_id)

    with registry.registered(admit, "ADT^A01"):
        resent = [
            peer.exchange(message) for peer, message, code in zip(peers, messages, codes, strict=True) if code == "AR"
        ]

    assert [ack.code for ack in resent] == ["AA"] * (len(messages) - held)
    assert Group.objects.count() == len(messages)  # each message had its effect once
    originals = Message.objects.exclude(status=Message.Status.DUPLICATE)
    assert sorted(bytes(row.raw) for row in originals) == sorted(messages)  # the resends completed the rows


def test_a_frame_larger_than_the_budget_is_refused_and_the_connection_goes_on(
    start_listener, open_peer, adt, adt_handler
):
    listener = start_listener(max_bytes=4 * MIB, max_bytes_in_flight=MIB)
    peer = open_peer(listener.port)

    ack = peer.exchange(padded(adt, "huge", 3 * MIB))

    assert (ack.code, ack.control_id, ack.errors[0].code) == ("AR", "huge", "207")
    assert peer.exchange(adt("small")).code == "AA"
    assert listener.server.budget.peak <= MIB + HEAD_BYTES


def test_ordinary_messages_go_through_while_an_unfinished_frame_holds_the_budget(
    start_listener, open_peer, adt, adt_handler, eventually
):
    listener = start_listener(max_bytes=4 * MIB, max_bytes_in_flight=MIB)
    hog = open_peer(listener.port)
    hog.send(START_BLOCK + padded(adt, "hog", MIB - 1000))  # never ended
    eventually(lambda: listener.server.budget.used >= MIB - 1000)
    peer = open_peer(listener.port)

    refused = peer.exchange(padded(adt, "medium", 200 * 1024))
    accepted = peer.exchange(adt("small"))

    assert (refused.code, refused.errors[0].code, accepted.code) == ("AR", "207", "AA")
    hog.close()
    eventually(lambda: listener.server.budget.used == 0)  # given back when the connection goes


def test_frame_reader_always_keeps_a_frames_head_and_sheds_what_the_budget_cannot_hold():
    budget = InFlightBudget(limit=100)
    reader = FrameReader(max_bytes=10 * HEAD_BYTES, budget=budget)

    (small,) = reader.feed(frame(b"a" * 1000))  # within its head: kept, though over the budget
    reader.feed(START_BLOCK + b"b" * HEAD_BYTES)
    (large,) = reader.feed(b"b" * 50 + END_BLOCK)

    assert (small.overloaded, small.reserved, small.payload) == (False, 1000, b"a" * 1000)
    assert (large.overloaded, large.size, large.reserved) == (True, HEAD_BYTES + 50, HEAD_BYTES)
    assert large.payload == b"b" * HEAD_BYTES
    assert budget.used == 1000 + HEAD_BYTES
    budget.release(small.reserved)
    budget.release(large.reserved)
    reader.feed(START_BLOCK + b"c" * 50)
    reader.release()  # the connection closed in the middle of a frame
    assert budget.used == 0
