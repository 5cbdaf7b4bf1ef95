"""Benchmark: PAM.fr ADT messages per second through the MLLP listener, end to end.

A realistic mix per patient, built with :class:`tests.pam.builder.Adt` and sent in order on one
connection: A28 identity, A01 admission with ZFA, an A31 identity update (every other patient),
A02 transfer, Z99 correction of the transfer, A03 discharge. Every patient of the run has its own
IPP, INS, NDA, visit number and control ids, so no message is answered as a duplicate.

Beside the rate through the listener (socket, journal, reading, handlers on PostgreSQL, ACK after
commit), on 1 and 4 connections: the bare MLLP echo with the same messages, the rate of the path's
own reading of the fields alone, the durable-commit ceiling; then the same through
``manage.py run_mllp --processes N`` (one process per core) beside the listener in a thread; and
the SQL statements and commits of each message of the mix next to those of the minimal ADT (engine
plus a one-insert handler). Every ACK must be AA and every patient's visit,
transfer correction and discharge must be in the database, else the run fails.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

from dpi.validators import nir_key
from tests.bench.common import (
    CONNECTIONS,
    Row,
    Run,
    Servers,
    ack_code,
    adt,
    bench_handler,
    ceiling_row,
    listener_processes,
    measure,
    plural,
)
from tests.pam.builder import FINESS_EG, FINESS_EJ, Adt

UNITS = ("UF01", "UF02", "UF03")
MEAN_MESSAGES = 5.5  # per patient: five, and an A31 every other patient
WARM_UP_PATIENTS = 4
SAMPLE_PATIENTS = 4  # for the query counts: two of them with an A31
IPP_PREFIX = "BENCH"
LISTENER_PROCESSES = os.cpu_count() or 2  # run_mllp --processes: one per core
A31 = "A31 identity update"  # sent for every other patient only
NO_VISIT: dict[str, object] = {"visit": None, "nda": "", "movement_id": None}
# What each message of a patient changes in the patient's A01 admission (without ZFA), in order.
STEPS: tuple[tuple[str, dict[str, object]], ...] = (
    ("A28 identity", dict(trigger="A28", **NO_VISIT)),
    ("A01 admission + ZFA", dict(zfa=("ACTIF", "INO", "IC"))),
    (A31, dict(trigger="A31", used_name="DURAND", used_first_name="JEANNE", **NO_VISIT)),
    ("A02 transfer", dict(trigger="A02", movement_id="M2", movement_at="20260111100000", unit="UF02")),
    ("Z99 correction", dict(trigger="Z99", movement_id="M2", action="UPDATE", original_trigger="A02",
                            movement_at="20260111093000", unit="UF03")),
    ("A03 discharge", dict(trigger="A03", movement_id="M3", movement_at="20260115120000",
                           discharged_at="20260115120000", unit="UF03")),
)  # fmt: skip


@dataclass(frozen=True)
class Labelled:
    label: str
    raw: bytes


def nir(number: int) -> str:
    """A well-formed INS (NIR with its key), different for every patient number below a million."""
    base = f"2800375{number:06d}"
    return base + nir_key(base)


def patient_messages(number: int) -> list[Labelled]:
    """The messages of one patient, in the order the patient administration system sends them."""
    base = Adt(ipp=f"{IPP_PREFIX}{number:06d}", ins=nir(number), nda=f"N{number:06d}", visit=f"V{number:06d}", zfa=None)
    steps = [(label, changes) for label, changes in STEPS if number % 2 == 0 or label != A31]
    return [
        Labelled(label, base.but(control_id=f"PAM-{number}-{index}", **changes).encode())
        for index, (label, changes) in enumerate(steps)
    ]


class Patients:
    """Hands out patients never used before in the run."""

    def __init__(self) -> None:
        self.issued = 0

    def take(self, count: int) -> list[list[Labelled]]:
        numbers = range(self.issued + 1, self.issued + count + 1)
        self.issued += count
        return [patient_messages(number) for number in numbers]


def patients_for(messages: int, connections: int) -> int:
    """About ``messages`` messages' worth of patients, the same number on each connection."""
    return max(1, round(messages / MEAN_MESSAGES / connections)) * connections


def deal(patients: list[list[Labelled]], connections: int) -> list[list[Labelled]]:
    """Consecutive patients on each connection, a patient's messages in order on one connection."""
    per_connection = len(patients) // connections
    blocks = [patients[index * per_connection : (index + 1) * per_connection] for index in range(connections)]
    return [[message for patient in block for message in patient] for block in blocks]


def raws(conversations: list[list[Labelled]]) -> list[list[bytes]]:
    return [[message.raw for message in conversation] for conversation in conversations]


def answer(ack: bytes) -> str:
    """The MSA and ERR segments of an ACK, on one line."""
    lines = ack.decode("utf-8", errors="replace").split("\r")
    return " / ".join(line for line in lines if line.startswith(("MSA|", "ERR|")))


def check_acks(sent: Sequence[Labelled], acks: Sequence[bytes]) -> None:
    refused = [(message, ack) for message, ack in zip(sent, acks, strict=True) if ack_code(ack) != "AA"]
    if refused:
        shown = "\n".join(f"  {message.label}: {answer(ack)}" for message, ack in refused[:5])
        raise SystemExit(f"{len(refused)} of {len(sent)} PAM messages not accepted (AA):\n{shown}")


def send(port: int, conversations: list[list[Labelled]]) -> Run:
    """Send through the listener and require an AA for every message."""
    run = measure(port, raws(conversations))
    check_acks([message for conversation in conversations for message in conversation], run.acks)
    return run


def reading_rate(messages: Sequence[Labelled]) -> float:
    """Messages per second of what the path reads of each message, alone, in this thread: the envelope
    (charset, MSH, PID-3) and the fields the PAM handlers read (identity, visit, movement, ZFA). Pure CPU."""
    from dpi.hl7.parsing import read_envelope
    from dpi.hl7.registry import InboundMessage
    from patients.pam import read_dmp_consent, read_identity, read_movement, read_visit

    started = time.perf_counter()
    for message in messages:
        envelope = read_envelope(message.raw)
        inbound = InboundMessage(text=envelope.text, journal=None, header=envelope.header)
        read_identity(inbound), read_visit(inbound), read_movement(inbound), read_dmp_consent(inbound)
    return len(messages) / (time.perf_counter() - started)


def throughput(ports: Servers, patients: Patients, messages: int) -> list[Row]:
    """Through the listener in a thread of this process (as the MLLP figure), then through
    ``run_mllp --processes N`` (``LISTENER_PROCESSES``), each on 1 and 4 connections."""
    runs = [(connections, 0) for connections in CONNECTIONS] + [(c, LISTENER_PROCESSES) for c in CONNECTIONS]
    mixes = {run: patients.take(patients_for(messages, run[0])) for run in runs}
    reading = reading_rate(deal(mixes[runs[0]], 1)[0])
    rows, in_thread, echoes = [], {}, {}
    for connections in CONNECTIONS:
        label = f"PAM mix, {plural(connections)}"
        sent = deal(mixes[(connections, 0)], connections)
        ours, echo = send(ports.listener, sent), measure(ports.bare, raws(sent))
        in_thread[connections], echoes[connections] = ours.rate, echo.p50
        rows += [
            (f"{label}: messages/s [echo]", ours.rate, echo.rate),
            (f"{label}: messages/s [ER7 reading alone]", ours.rate, reading),
            ceiling_row(f"{label}: messages/s", ours.rate, connections),
            (f"{label}: p50 latency (ms) [echo]", ours.p50, echo.p50),
            (f"{label}: p95 latency (ms) [echo]", ours.p95, echo.p95),
        ]
    with listener_processes(LISTENER_PROCESSES) as port:
        for connections in CONNECTIONS:
            label = f"PAM mix, {plural(connections)}, run_mllp --processes {LISTENER_PROCESSES}"
            ours = send(port, deal(mixes[(connections, LISTENER_PROCESSES)], connections))
            rows += [
                (f"{label}: messages/s [1 process in the bench]", ours.rate, in_thread[connections]),
                ceiling_row(f"{label}: messages/s", ours.rate, connections),
                (f"{label}: p50 latency (ms) [echo]", ours.p50, echoes[connections]),
            ]
    return rows


def count_queries(raw: bytes) -> tuple[int, int, bytes]:
    """The SQL statements and the commits of one message through the engine, called directly in this
    thread, and its ACK."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from dpi.hl7.engine import process_inbound

    with CaptureQueriesContext(connection) as queries:
        ack = process_inbound(raw, peer="bench")
    return len(queries), sum(query["sql"] == "COMMIT" for query in queries), ack


def query_rows(patients: Patients) -> list[Row]:
    from dpi.hl7.registry import registered

    with registered(bench_handler(), "ADT^A01"):
        minimal = [count_queries(adt(f"sql-{n}")) for n in range(SAMPLE_PATIENTS)]
    sample = [message for patient in patients.take(SAMPLE_PATIENTS) for message in patient]
    counted = [count_queries(message.raw) for message in sample]
    check_acks(sample, [ack for _count, _commits, ack in counted])
    by_label: dict[str, list[int]] = {label: [] for label, _changes in STEPS}  # SAMPLE_PATIENTS has all steps
    for message, (count, _commits, _ack) in zip(sample, counted, strict=True):
        by_label[message.label].append(count)
    base = statistics.mean(count for count, _commits, _ack in minimal)
    rows = [
        (f"SQL queries/message, {label} [minimal ADT]", statistics.mean(counts), base)
        for label, counts in by_label.items()
    ]
    mix = statistics.mean(count for count, _commits, _ack in counted)
    commits = statistics.mean(commits for _count, commits, _ack in counted)
    minimal_commits = statistics.mean(commits for _count, commits, _ack in minimal)
    return [
        *rows,
        ("SQL queries/message, PAM mix mean [minimal ADT]", mix, base),
        ("COMMITs/message, PAM mix mean [minimal ADT]", commits, minimal_commits),
    ]


def create_structure() -> None:
    """The legal entity, site and care units the messages name."""
    from dpi.models import CareUnit, LegalEntity, Site

    entity = LegalEntity.objects.create(finess_ej=FINESS_EJ, name="CH bench")
    site = Site.objects.create(legal_entity=entity, finess_eg=FINESS_EG, name="Site bench")
    CareUnit.objects.bulk_create(CareUnit(site=site, code=code, name=f"Unité {code}") for code in UNITS)


def verify(expected: int) -> None:
    """Every patient sent is in the database with its visit, corrected transfer and discharge."""
    from patients.models import Episode, Movement, Patient

    episodes = Episode.objects.filter(patient__ipp__startswith=IPP_PREFIX)
    found = {
        "patients": Patient.objects.filter(ipp__startswith=IPP_PREFIX).count(),
        "visits": episodes.count(),
        "discharged visits": episodes.filter(discharged_at__isnull=False).count(),
        "transfers corrected by Z99": Movement.objects.filter(
            episode__in=episodes, trigger="A02", medical_unit__code="UF03", updated_by__isnull=False
        ).count(),
    }
    wrong = [f"{name}: {count}" for name, count in found.items() if count != expected]
    if wrong:
        raise SystemExit(f"PAM messages not applied, expected {expected} of each; " + ", ".join(wrong))


def compare(ports: Servers, messages: int) -> list[Row]:
    create_structure()
    patients = Patients()
    send(ports.listener, deal(patients.take(WARM_UP_PATIENTS), 1))
    rows = throughput(ports, patients, messages) + query_rows(patients)
    verify(patients.issued)
    return rows
