"""Benchmark: MLLP round trip of a minimal ADT through the listener, against a bare MLLP server.

    DJANGO_SETTINGS_MODULE=dpi.settings DATABASE_URL=postgres://postgres@127.0.0.1:5432/dpi \\
        .venv/bin/python -m tests.bench.mllp [--messages 2000]

The listener runs the real path (journal, duplicate check, parsing, a handler doing one
database write, ACK after commit) on a database of its own, created and migrated like a test
database (``<NAME>_bench``) and dropped at the end. The baseline is a bare asyncio server that
answers a fixed ACK to every frame; both are driven by the same client code
(:class:`dpi.hl7.client.MLLPConnection`), on 1 and then 4 connections.
"""

from __future__ import annotations

import argparse

from tests.bench.common import (
    CONNECTIONS,
    Row,
    Servers,
    adt,
    bench_handler,
    measure,
    plural,
    print_table,
    servers,
    setup_django,
)

WARM_UP = 20


def conversations(*, messages: int, connections: int, prefix: str) -> list[list[bytes]]:
    """``messages`` minimal ADTs dealt over ``connections`` connections."""
    per_connection = messages // connections
    return [[adt(f"{prefix}-{index}-{n}") for n in range(per_connection)] for index in range(connections)]


def compare(ports: Servers, messages: int) -> list[Row]:
    from django.contrib.auth.models import Group

    from dpi.hl7.registry import registered

    rows = []
    with registered(bench_handler(), "ADT^A01"):
        measure(ports.listener, conversations(messages=WARM_UP, connections=1, prefix="warm"))
        for connections in CONNECTIONS:
            label = plural(connections)
            sent = conversations(messages=messages, connections=connections, prefix=label)
            ours, base = measure(ports.listener, sent), measure(ports.bare, sent)
            rows += [
                (f"{label}: messages/s", ours.rate, base.rate),
                (f"{label}: p50 latency (ms)", ours.p50, base.p50),
                (f"{label}: p95 latency (ms)", ours.p95, base.p95),
            ]
    processed = Group.objects.filter(name__startswith="bench-").count()
    expected = WARM_UP + sum(messages // connections * connections for connections in CONNECTIONS)
    if processed != expected:
        raise SystemExit(f"only {processed} of {expected} messages processed")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000, help="messages per run (default 2000)")
    args = parser.parse_args()
    setup_django()
    with servers() as ports:
        print_table(compare(ports, args.messages))


if __name__ == "__main__":
    main()
