"""Fuzzing the listener (issue 17 §2): a seeded, bounded campaign of hostile frames over real sockets.

Random bytes, mutations of the national samples (DPI_SAMPLES_DIR), framing errors (noise around
frames, frames split byte by byte or packed together, stray block characters, frames left
unterminated). The listener must stay alive, and every well-framed frame be answered and journaled
exactly once, with the bytes sent. The seed is fixed so that a failure replays; HL7_FUZZ_SEED
changes it.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from pathlib import Path

from dpi.hl7.mllp import END_BLOCK, START_BLOCK, frame
from dpi.hl7.models import Message

SEED = int(os.environ.get("HL7_FUZZ_SEED", "20261202"))
CASES = 300
CONNECTIONS = 4
DELIMITERS = b"|^~\\&\r\n\x00\x0b\x1c\xff"
SMALL_SAMPLE_BYTES = 20_000  # the full-b64 MDM (330 kB) are mutated less often: each costs a CDA import


@dataclass
class Case:
    """Bytes to send on one connection, in packets, and the payloads of the well-framed frames in them."""

    packets: list[bytes] = field(default_factory=list)
    payloads: list[bytes] = field(default_factory=list)


def clean(payload: bytes) -> bytes:
    """A payload that cannot end its frame early (no end block inside, no 0x1C last)."""
    while END_BLOCK in payload:
        payload = payload.replace(END_BLOCK, b"\x1c")
    return payload.rstrip(b"\x1c")


def mutate(rng: random.Random, sample: bytes) -> bytes:
    data = bytearray(sample)
    for _ in range(rng.randint(1, 8)):
        position = rng.randrange(len(data) + 1)
        operation = rng.choice(("flip", "delete", "insert", "delimiter", "truncate", "repeat", "charset"))
        if operation == "flip" and data:
            data[min(position, len(data) - 1)] = rng.randrange(256)
        elif operation == "delete":
            del data[position : position + rng.randint(1, 40)]
        elif operation == "insert":
            data[position:position] = rng.randbytes(rng.randint(1, 40))
        elif operation == "delimiter":
            data[position:position] = bytes([rng.choice(DELIMITERS)]) * rng.randint(1, 5)
        elif operation == "truncate":
            del data[position:]
        elif operation == "repeat":
            end = min(position + rng.randint(1, 400), len(data))
            data[position:position] = data[position:end] * rng.randint(1, 4)
        else:
            charset = rng.choice((b"8859/1", b"8859/15", b"ASCII", b"UNICODE UTF-8", b"KOI8-R", b""))
            data = bytearray(data.replace(b"UNICODE UTF-8", charset, 1))
    return clean(bytes(data))


def make_case(rng: random.Random, samples: list[bytes]) -> Case:
    small = [sample for sample in samples if len(sample) < SMALL_SAMPLE_BYTES]
    kind = rng.choice(("random", "mutation", "mutation", "mutation", "sample", "packed", "split", "noise"))
    pick = rng.choice(samples if rng.random() < 0.1 else small)
    if kind == "random":
        payload = clean(rng.randbytes(rng.randint(0, 3000)))
    elif kind == "sample":
        payload = clean(pick)
    else:
        payload = mutate(rng, pick)
    case = Case(payloads=[payload])
    if kind == "packed":  # several frames in one packet, the second one a mutation too
        second = mutate(rng, rng.choice(small))
        case.payloads.append(second)
        case.packets = [frame(payload) + frame(second)]
    elif kind == "split":  # one frame in tiny packets, the end block cut in two
        stream = frame(payload)
        cuts = sorted({0, len(stream) - 1, len(stream), *rng.sample(range(len(stream)), min(20, len(stream)))})
        case.packets = [stream[begin:end] for begin, end in zip(cuts, cuts[1:], strict=False) if end > begin]
    elif kind == "noise":  # bytes outside frames (no start block among them), a stray end block
        noise = rng.randbytes(rng.randint(1, 200)).replace(START_BLOCK, b"")
        case.packets = [noise + END_BLOCK + noise + frame(payload) + noise.replace(b"\x1c", b"")]
    else:
        case.packets = [frame(payload)]
    return case


def test_fuzzed_frames_are_all_answered_and_journaled_and_the_listener_survives(
    listener, open_peer, sample_files: list[Path]
):
    rng = random.Random(SEED)
    samples = [path.read_bytes() for path in sample_files]
    peers = [open_peer(listener.port) for _ in range(CONNECTIONS)]
    sent: list[bytes] = []

    for number in range(CASES):
        case = make_case(rng, samples)
        peer = peers[number % CONNECTIONS]
        for packet in case.packets:
            peer.send(packet)
        for payload in case.payloads:
            ack = peer.receive_ack()
            assert ack.code in ("AA", "AE", "AR"), f"seed {SEED}, case {number}: {payload[:200]!r}"
        sent += case.payloads
        if number % 50 == 0:  # a frame left open on a connection that closes: no ACK, no row, no harm
            unfinished = open_peer(listener.port)
            unfinished.send(START_BLOCK + mutate(rng, rng.choice(samples))[:500])
            unfinished.close()

    assert listener.thread.is_alive()
    last = samples[0]
    assert open_peer(listener.port).exchange(last).code in ("AA", "AE", "AR")
    sent.append(last)
    journal = Message.objects.filter(direction=Message.Direction.INBOUND)
    assert journal.count() == len(sent)
    assert not journal.filter(status=Message.Status.RECEIVED).exists()  # every row concluded with its ACK
    assert sorted(bytes(raw) for raw in journal.values_list("raw", flat=True)) == sorted(sent)
