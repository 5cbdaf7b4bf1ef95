"""What the benchmarks share: the bench database, the listener, the bare baseline server, the
client driving both, the minimal ADT with its one-insert handler, and the printed table."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

import django

CONNECTIONS = (1, 4)
FIXED_ACK = b"MSH|^~\\&|DPI|DPI|BENCH|BENCH|20240101000000||ACK^A01^ACK|1|P|2.5\rMSA|AA|1\r"

Row = tuple[str, float, float]  # figure, value, baseline
ECHO_LIMIT_BYTES = 32 * 1024 * 1024


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dpi.settings")
    django.setup()
    logging.getLogger("dpi.hl7").setLevel(logging.WARNING)


def plural(connections: int) -> str:
    return f"{connections} connection{'s' if connections > 1 else ''}"


def adt(control_id: str) -> bytes:
    """The minimal ADT^A01 of the MLLP figure."""
    return (
        f"MSH|^~\\&|BENCH|BENCH|DPI|DPI|20240101000000||ADT^A01^ADT_A01|{control_id}|P|2.5\r"
        "EVN||20240101000000\r"
        f"PID|1||{control_id}^^^BENCH^PI||DOE^JOHN||19800101|M\r"
        "PV1|1|I\r"
    ).encode()


def bench_handler() -> Callable:
    """ADT^A01 handler of the minimal ADT: one database write."""
    from django.contrib.auth.models import Group

    from dpi.hl7.registry import InboundMessage

    def admit(msg: InboundMessage) -> None:
        Group.objects.create(name=f"bench-{msg.control_id}")

    return admit


def ack_code(ack: bytes) -> str:
    """MSA-1 of an acknowledgement, or an empty string."""
    msa = next((line for line in ack.split(b"\r") if line.startswith(b"MSA|")), b"")
    return msa.decode("ascii", errors="replace").split("|")[1] if msa else ""


@dataclass(frozen=True)
class Run:
    rate: float  # messages per second, all connections together
    p50: float  # round-trip latency, milliseconds
    p95: float
    acks: tuple[bytes, ...]


def measure(port: int, conversations: Sequence[Sequence[bytes]]) -> Run:
    """Send each conversation on a connection of its own, one message at a time, all connections at once."""
    from dpi.hl7.client import MLLPConnection

    def converse(payloads: Sequence[bytes]) -> list[tuple[float, bytes]]:
        exchanges = []
        with MLLPConnection("127.0.0.1", port, timeout=30) as connection:
            for payload in payloads:
                started = time.perf_counter()
                ack = connection.exchange(payload)
                exchanges.append(((time.perf_counter() - started) * 1000, ack))
        return exchanges

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(conversations)) as pool:
        exchanges = [exchange for batch in pool.map(converse, conversations) for exchange in batch]
    elapsed = time.perf_counter() - started
    centiles = statistics.quantiles([latency for latency, _ack in exchanges], n=100)
    return Run(
        rate=len(exchanges) / elapsed,
        p50=centiles[49],
        p95=centiles[94],
        acks=tuple(ack for _latency, ack in exchanges),
    )


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

    # the MDM of a document carries its CDA and PDF: far over asyncio's default 64 KiB line limit
    server = loop.run_until_complete(asyncio.start_server(answer, "127.0.0.1", 0, limit=ECHO_LIMIT_BYTES))
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
def listener() -> Iterator[int]:
    """The real MLLP listener, in a thread of this process; yields its port."""
    from dpi.hl7.mllp import start_server_in_thread

    handle = start_server_in_thread("127.0.0.1", 0)
    try:
        yield handle.port
    finally:
        handle.stop()


@contextmanager
def listener_processes(processes: int) -> Iterator[int]:
    """``manage.py run_mllp --processes N`` as operators run it, on the bench database; yields its port
    once every process listens, and stops it with SIGTERM."""
    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    command = [sys.executable, str(settings.BASE_DIR / "manage.py"), "run_mllp", "--host", "127.0.0.1", "--port", "0"]
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            [*command, "--processes", str(processes)],
            env={**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "INFO"},
            stderr=log,
        )
        try:
            yield _listening_port(process, log, processes)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)


def _listening_port(process: subprocess.Popen, log: IO[str], processes: int) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        log.seek(0)
        ports = re.findall(r"MLLP listener on 127\.0\.0\.1:(\d+)", log.read())
        if len(ports) == processes:
            return int(ports[0])
        time.sleep(0.1)
    log.seek(0)
    raise SystemExit(f"run_mllp --processes {processes} did not start:\n{log.read()[-2000:]}")


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


CEILING_SECONDS = 2.0


def commit_ceiling(connections: int, seconds: float = CEILING_SECONDS) -> float:
    """The durable-commit ceiling of the bench database at this concurrency: transactions per second, each
    inserting one row and committed (``synchronous_commit`` as configured), on ``connections`` connections
    at once (issue 16: a throughput is judged against what the database itself can commit, in the same run).
    """
    import psycopg
    from django.db import connection

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    with psycopg.connect(**params, autocommit=True) as setup:
        setup.execute("CREATE TABLE IF NOT EXISTS bench_commit (id bigserial PRIMARY KEY, at timestamptz)")

    def commit_loop(_: int) -> int:
        done, deadline = 0, time.perf_counter() + seconds
        with psycopg.connect(**params, autocommit=True) as own:  # one statement, one durable transaction
            while time.perf_counter() < deadline:
                own.execute("INSERT INTO bench_commit DEFAULT VALUES")
                done += 1
        return done

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=connections) as pool:
        total = sum(pool.map(commit_loop, range(connections)))
    return total / (time.perf_counter() - started)


def ceiling_row(label: str, rate: float, connections: int) -> Row:
    """``rate`` beside the durable-commit ceiling measured now at the same concurrency."""
    return (f"{label} [durable commits/s, {plural(connections)}]", rate, commit_ceiling(connections))


@dataclass(frozen=True)
class Servers:
    """The ports of the listener and of the baseline server, on the bench database."""

    listener: int
    bare: int


@contextmanager
def listeners() -> Iterator[Servers]:
    """The listener and the baseline server, on the database already set up."""
    with bare_server() as bare_port, listener() as listener_port:
        yield Servers(listener=listener_port, bare=bare_port)


@contextmanager
def servers() -> Iterator[Servers]:
    with bench_database(), listeners() as ports:
        yield ports


def print_table(rows: Sequence[Row]) -> None:
    table = [("figure", "value", "baseline", "ratio")]
    table += [(figure, f"{value:.1f}", f"{base:.1f}", f"{value / base:.3g}") for figure, value, base in rows]
    widths = [max(len(row[column]) for row in table) for column in range(4)]
    for row in table:
        print(" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


def signed_in(user: object) -> object:
    """A ``django.test.Client`` in a new session of ``user``, who has a TOTP device (so the second-factor
    middleware lets it by) and has acknowledged the current mandatory notice (so its middleware does too)."""
    from django.conf import settings
    from django.test import Client

    from dpi.models import NoticeAcknowledgement

    NoticeAcknowledgement.objects.get_or_create(user=user, notice=NoticeAcknowledgement.CURRENT)
    hosts = [host for host in settings.ALLOWED_HOSTS if host != "*" and not host.startswith(".")]
    client = Client(HTTP_HOST=hosts[0] if hosts else "localhost")
    client.force_login(user)
    return client
