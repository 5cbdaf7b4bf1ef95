"""Every benchmark in one process, on one bench database, printed as one table (``make bench``).

    .venv/bin/python -m tests.bench [--messages 1000] [--only mllp|pam|mss|feeding|dmp|documents|search|stats|annuaire]

First the MLLP round trip of a minimal ADT (tests/bench/mllp.py), then the PAM.fr mix
(tests/bench/pam.py), then MSSanté documents integrated over MLLP (tests/bench/mss.py), then feeding
orders drained through the sandbox PFI by a real worker (tests/bench/feeding.py), then the patient's
DMP consulted from the file against the sandbox DMP over mutual TLS (tests/bench/dmp.py), then the
documents list of a patient among a million documents (tests/bench/documents.py), then the patient
search among a million identities (tests/bench/search.py), then the Annuaire Santé extract of a
million lines (tests/bench/annuaire.py). Each figure stands
beside a baseline measured in the same run, named in brackets and explained under the table; see
docs/benchmarks.md for how to read them.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from tests.bench import annuaire, dmp, documents, feeding, mllp, mss, pam, search, stats
from tests.bench.common import Row, bench_database, listeners, print_table, setup_django

DEFAULT_MESSAGES = 1000
BASELINES = {
    "[echo]": "bare asyncio MLLP server answering a fixed ACK, same messages, same client",
    **{
        f"[durable commits/s, {connections} connection{'s' if connections > 1 else ''}]": (
            f"the durable-commit ceiling of the same database, measured just after: {connections} "
            "connection(s) at once, each committing one-row INSERTs in its own transaction for 2 s"
        )
        for connections in (1, 2, 4)
    },
    "[ER7 reading alone]": "read_envelope and the PAM field readers (identity, visit, movement, ZFA) on the same "
    "mix, one thread, nothing else",
    "[1 process in the bench]": "the same mix through the listener in a thread of the bench process (rows above)",
    "[minimal ADT]": "the MLLP figure's 4-segment ADT through the engine, its handler doing one insert",
    "[echo 1 conn.]": "the same MDM messages to the bare MLLP echo server, one connection, one after the other",
    "[echo 4 conn.]": "the same MDM messages to the bare MLLP echo server over four connections",
    "[no documents]": "the same request for a patient of the same unit without documents, alternating with it",
    "[DMP disabled]": "the same page with DMP_CONSULTATION_ENABLED = False (no DMP placeholders), alternating with it",
    "[bare HTTPS round trip]": "an httpx POST without body, same client certificate, to the sandbox DMP on a "
    "kept-alive connection, answered at once (404), 0.1 s apart, measured before each run",
    "[empty Django page]": "a signed-in GET of a URL with no route (Django's 404 through the same session and "
    "middleware, no view of ours), alternating with the file page",
    "[none integrated]": "the same list for a patient with a DMP of as many documents, none integrated from it, "
    "alternating with it",
    "[exact name, indexed]": "the birth name as stored, exact and accent-sensitive, through its plain index, "
    "same order and limit, alternating with it",
    "[COUNT(*)]": "a bare SELECT count(*) of each table the indicators read (stays, documents, versions, orders, "
    "acks, consent, document outcomes), best of three",
    "[bare FHIR round trip]": "one GET of a Practitioner by identifier to the sandbox Annuaire Santé on a kept-alive "
    "connection, alternating with the search",
    "[bare COPY]": "COPY of the same extract file, as text, into an unindexed 57-column table, nothing parsed or "
    "checked, in the same run",
}
BENCHMARKS = ("mllp", "pam", "mss", "feeding", "dmp", "documents", "search", "stats", "annuaire")


def run(only: str | None, messages: int) -> list[Row]:
    rows: list[Row] = []
    with bench_database():
        if only in (None, "mllp", "pam", "mss", "feeding"):
            with listeners() as ports:
                if only in (None, "mllp"):
                    for figure, value, base in mllp.compare(ports, messages):
                        rows.append((f"MLLP minimal ADT, {figure} [echo]", value, base))
                if only in (None, "pam"):
                    rows += pam.compare(ports, messages)
                if only in (None, "mss"):
                    rows += mss.compare(ports, messages)
                if only in (None, "feeding"):
                    rows += feeding.compare(ports, messages)
        if only in (None, "dmp"):  # before the million documents: the file page is measured on a small database
            rows += dmp.compare()
        if only in (None, "documents"):  # last: its million rows leave the MLLP figures alone
            rows += documents.compare()
        if only in (None, "search"):  # after the documents: its million identities leave the other figures alone
            rows += search.compare()
        if only in (None, "stats"):  # last: its 200,000 stays and 2,000,000 documents are its own
            rows += stats.compare()
        if only in (None, "annuaire"):  # its own tables: the directory's million lines
            rows += annuaire.compare()
            rows += annuaire.compare_search()
    return rows


def print_legend(rows: Sequence[Row]) -> None:
    used = [name for name in BASELINES if any(figure.endswith(name) for figure, _value, _base in rows)]
    width = max(map(len, used))
    print()
    for name in used:
        print(f"{name.ljust(width)}  {BASELINES[name]}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--messages", type=int, default=DEFAULT_MESSAGES, help=f"messages per measurement (default {DEFAULT_MESSAGES})"
    )
    parser.add_argument("--only", choices=BENCHMARKS, help="run one benchmark only")
    args = parser.parse_args()
    setup_django()
    rows = run(args.only, args.messages)
    print_table(rows)
    print_legend(rows)


if __name__ == "__main__":
    main()
