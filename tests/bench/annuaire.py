"""Benchmark: the Annuaire Santé's open-data extract at the real file's size (a million lines), and the
correspondent search through the FHIR API.

The sandbox writes a 1,000,000-line ``PS_LibreAcces_Personne_activite`` and the next day's file (1 % of
the lines changed, 0.5 % removed). Measured in this process: a full load of the first file into an
empty directory, then the load of the second (parse and check every line, COPY into the staging table,
set-based merge, users and correspondents), in lines per second, beside a bare ``COPY`` of the same
first file into an unindexed 57-column text table in the same run. The second load must apply exactly
the changes and removals the generator made, else the run fails.

The search: ``AnnuaireClient.search`` by name and city (two calls: Practitioner with its roles, then their
organizations, filtered on the city) against the sandbox FHIR server of 2,000 people on loopback, beside
a bare FHIR round trip (one GET of a Practitioner by identifier on a kept-alive connection), alternating,
0.25 s apart to stay under the API's 17 requests per second.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from tests.bench.common import Row

LINES = 1_000_000
BARE_TABLE = "bench_bare_extract"
SEARCHES = 40
SPACING_SECONDS = 0.25


def compare(lines: int = LINES) -> list[Row]:
    from sandbox.annuaire.extract import write_extract

    with tempfile.TemporaryDirectory() as folder:
        first, second = Path(folder) / "day1.txt", Path(folder) / "day2.txt"
        write_extract(first, lines)
        stats = write_extract(second, lines, change_percent=1, remove_percent=0.5)
        bare = bare_copy(first)
        full, full_seconds = timed_load(first)
        if (full.added, full.refused) != (lines, 0):
            raise SystemExit(f"annuaire: the full load added {full.added:,} and refused {full.refused:,}")
        update, update_seconds = timed_load(second)
        applied = (update.added, update.changed, update.deactivated)
        if applied != (0, stats.changed, stats.removed):
            raise SystemExit(f"annuaire: second load {applied}, the generator changed {stats.changed:,} "
                             f"and removed {stats.removed:,}")  # fmt: skip
    print(f"annuaire: full load {full_seconds:.1f} s, second load {update_seconds:.1f} s", flush=True)
    return [
        (f"Annuaire extract full load, {lines:,} lines: lines/s [bare COPY]", lines / full_seconds, bare),
        (
            "Annuaire extract next day (1 % changed, 0.5 % removed): lines/s [bare COPY]",
            stats.lines / update_seconds,
            bare,
        ),
    ]


def timed_load(path: Path) -> tuple[object, float]:
    from directory.models import DirectoryLoad
    from directory.services.directory_load import run_load

    started = time.perf_counter()
    load = run_load(DirectoryLoad.objects.create(path=str(path)))
    seconds = time.perf_counter() - started
    if load.status != DirectoryLoad.Status.DONE:
        raise SystemExit(f"annuaire: load of {path.name} {load.status}: {load.error}")
    return load, seconds


def bare_copy(path: Path) -> float:
    """Lines per second of a bare COPY of the file (as text columns, header skipped) into a table
    without index or constraint."""
    from django.db import connection

    from directory.extract import COLUMNS

    columns = ", ".join(f"c{n} text" for n in range(len(COLUMNS) + 1))  # the trailing | makes one more
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {BARE_TABLE}; CREATE UNLOGGED TABLE {BARE_TABLE} ({columns})")
        started = time.perf_counter()
        options = "FORMAT csv, DELIMITER '|', HEADER true, QUOTE e'\\x01'"
        with path.open("rb") as extract, cursor.cursor.copy(f"COPY {BARE_TABLE} FROM STDIN ({options})") as copy:
            while chunk := extract.read(1 << 20):
                copy.write(chunk)
        seconds = time.perf_counter() - started
        cursor.execute(f"SELECT count(*) FROM {BARE_TABLE}")  # noqa: S608 (our table)
        copied = cursor.fetchone()[0]
        cursor.execute(f"DROP TABLE {BARE_TABLE}")
    return copied / seconds


def compare_search() -> list[Row]:
    import logging

    import httpx

    from directory.clients.annuaire import AnnuaireClient, AnnuaireClientConfig, Criteria
    from sandbox.annuaire.people import person
    from sandbox.annuaire.server import AnnuaireServer

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    someone = person(4)
    server = AnnuaireServer("127.0.0.1", 0, api_key="bench", people=2000)
    server.start()
    try:
        client = AnnuaireClient(AnnuaireClientConfig(server.base_url, "bench", 10, 17))
        criteria = Criteria(family_name=someone.family_name, place=someone.activities[0].structure.town[2])
        with httpx.Client(headers={"ESANTE-API-KEY": "bench"}) as bare:
            url = f"{server.base_url}/Practitioner"
            samples: tuple[list[float], list[float]] = ([], [])
            for _ in range(SEARCHES):
                started = time.perf_counter()
                found = client.search(criteria)
                samples[0].append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                bare.get(url, params={"identifier": someone.rpps}).raise_for_status()
                samples[1].append((time.perf_counter() - started) * 1000)
                time.sleep(SPACING_SECONDS)
    finally:
        server.shutdown()
        server.server_close()
    if not any(professional.rpps == someone.rpps for professional in found):
        raise SystemExit("annuaire search: the professional searched by name and city was not found")
    ours, base = (statistics.quantiles(taken, n=100) for taken in samples)
    figure = f"Annuaire search by name and city ({len(found)} found, {client.calls} calls)"
    return [
        (f"{figure}: p50 (ms) [bare FHIR round trip]", ours[49], base[49]),
        (f"{figure}: p95 (ms) [bare FHIR round trip]", ours[94], base[94]),
    ]
