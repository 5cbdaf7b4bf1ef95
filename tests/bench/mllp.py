"""Benchmark: MLLP round trip of a minimal ADT through the listener, against a bare MLLP server.

    DJANGO_SETTINGS_MODULE=dpi.settings DATABASE_URL=postgres://postgres@127.0.0.1:5432/dpi \\
        .venv/bin/python -m tests.bench.mllp [--messages 2000]

The listener runs the real path (journal, duplicate check, hl7apy parsing, a handler doing one
database write, ACK after commit) on a database of its own, created and migrated like a test
database (``<NAME>_bench``) and dropped at the end. The baseline is a bare asyncio server that
answers a fixed ACK to every frame; both are driven by the same client code
(:class:`dpi.hl7.client.MLLPConnection`), on 1 and then 4 connections.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import django

CONNECTIONS = (1, 4)
WARM_UP = 20
FIXED_ACK = b"MSH|^~\\&|DPI|DPI|BENCH|BENCH|20240101000000||ACK^A01^ACK|1|P|2.5\rMSA|AA|1\r"


def adt(control_id: str) -> bytes:
    return (
        f"MSH|^~\\&|BENCH|BENCH|DPI|DPI|20240101000000||ADT^A01^ADT_A01|{control_id}|P|2.5\r"
        "EVN||20240101000000\r"
        f"PID|1||{control_id}^^^BENCH^PI||DOE^JOHN||19800101|M\r"
        "PV1|1|I\r"
    ).encode()


@dataclass(frozen=True)
class Run:
    rate: float  # messages per second, all connections together
    p50: float  # round-trip latency, milliseconds
    p95: float


def measure(port: int, *, messages: int, connections: int, prefix: str) -> Run:
    """Send ``messages`` ADTs over ``connections`` connections, one at a time on each."""
    from dpi.hl7.client import MLLPConnection

    per_connection = messages // connections

    def converse(index: int) -> list[float]:
        latencies = []
        with MLLPConnection("127.0.0.1", port, timeout=30) as connection:
            for n in range(per_connection):
                payload = adt(f"{prefix}-{index}-{n}")
                started = time.perf_counter()
                connection.exchange(payload)
                latencies.append((time.perf_counter() - started) * 1000)
        return latencies

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=connections) as pool:
        latencies = [latency for batch in pool.map(converse, range(connections)) for latency in batch]
    elapsed = time.perf_counter() - started
    centiles = statistics.quantiles(latencies, n=100)
    return Run(rate=len(latencies) / elapsed, p50=centiles[49], p95=centiles[94])


@contextmanager
def bare_server() -> Iterator[int]:
    """The baseline: asyncio, MLLP framing, a fixed ACK; no thread pool, no database."""
    loop = asyncio.new_event_loop()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await reader.readuntil(b"\x1c\x0d")
                writer.write(b"\x0b" + FIXED_ACK + b"\x1c\x0d")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = loop.run_until_complete(asyncio.start_server(answer, "127.0.0.1", 0))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        server.close()
        loop.close()


@contextmanager
def bench_database() -> Iterator[None]:
    """A fresh database for the run, created and migrated like a test database, then dropped."""
    from django.db import connections
    from django.test.utils import setup_databases, teardown_databases

    settings_dict = connections["default"].settings_dict
    settings_dict["TEST"] = {**settings_dict.get("TEST", {}), "NAME": f"{settings_dict['NAME']}_bench"}
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        yield
    finally:
        connections.close_all()
        teardown_databases(old_config, verbosity=0)


def bench_handler() -> Callable:
    """ADT^A01 handler of the benchmark: one database write."""
    from django.contrib.auth.models import Group

    from dpi.hl7.registry import InboundMessage

    def admit(msg: InboundMessage) -> None:
        Group.objects.create(name=f"bench-{msg.control_id}")

    return admit


def compare(messages: int) -> list[tuple[str, float, float]]:
    from django.contrib.auth.models import Group

    from dpi.hl7.mllp import start_server_in_thread
    from dpi.hl7.registry import registered

    rows = []
    with bench_database(), registered(bench_handler(), "ADT^A01"), bare_server() as bare_port:
        listener = start_server_in_thread("127.0.0.1", 0)
        try:
            measure(listener.port, messages=WARM_UP, connections=1, prefix="warm")
            for connections in CONNECTIONS:
                label = f"{connections} connection{'s' if connections > 1 else ''}"
                ours = measure(listener.port, messages=messages, connections=connections, prefix=label)
                base = measure(bare_port, messages=messages, connections=connections, prefix=label)
                rows += [
                    (f"{label}: messages/s", ours.rate, base.rate),
                    (f"{label}: p50 latency (ms)", ours.p50, base.p50),
                    (f"{label}: p95 latency (ms)", ours.p95, base.p95),
                ]
        finally:
            listener.stop()
        processed = Group.objects.filter(name__startswith="bench-").count()
        expected = WARM_UP + sum(messages // connections * connections for connections in CONNECTIONS)
        if processed != expected:
            raise SystemExit(f"only {processed} of {expected} messages processed")
    return rows


def print_table(rows: list[tuple[str, float, float]]) -> None:
    table = [("figure", "value", "baseline", "ratio")]
    table += [(figure, f"{value:.1f}", f"{base:.1f}", f"{value / base:.3g}") for figure, value, base in rows]
    widths = [max(len(row[column]) for row in table) for column in range(4)]
    for row in table:
        print(" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000, help="messages per run (default 2000)")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dpi.settings")
    django.setup()
    logging.getLogger("dpi.hl7").setLevel(logging.WARNING)
    print_table(compare(args.messages))


if __name__ == "__main__":
    main()
