"""The SQL statements each PAM message type costs through the engine, pinned (issue 16 §2): counts, not
times. Every statement is a round trip to PostgreSQL, ``BEGIN`` and ``COMMIT`` included; a message is
journaled and applied in one transaction, so it commits once.

The messages are those of the benchmark's mix (``tests/bench/pam.py``), for a second patient: the care
units are then in the process's cache, as they are for a listener that has been running.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dpi.hl7.engine import process_inbound
from tests.bench.pam import patient_messages

# label in the benchmark's mix -> statements: BEGIN, journal INSERT, the handler's, journal UPDATE, COMMIT
EXPECTED = {
    "A28 identity": 8,  # patient looked up, inserted, its identity event and audit row
    "A01 admission + ZFA": 14,  # patient, DMP status, visit, episode of care, movement, consent (3)
    "A31 identity update": 8,  # patient looked up, updated, its identity event and audit row
    "A02 transfer": 9,  # patient, visit, its movements (one query), movement inserted, visit updated
    "Z99 correction": 9,  # patient, visit, its movements, movement corrected, visit updated
    "A03 discharge": 9,  # patient, visit, its movements, movement inserted, visit updated
}


@pytest.fixture
def counted(transactional_db, structure) -> dict[str, tuple[int, int, str]]:
    """Statements, commits and ACK code of each message of the mix for patient 2, after patient 1."""
    for message in patient_messages(1):
        process_inbound(message.raw, peer="test")
    counts = {}
    for message in patient_messages(2):  # an even number: the A31 is in its mix
        with CaptureQueriesContext(connection) as queries:
            ack = process_inbound(message.raw, peer="test")
        commits = sum(query["sql"] == "COMMIT" for query in queries)
        counts[message.label] = (len(queries), commits, ack.split(b"\r")[1].split(b"|")[1].decode())
    return counts


@pytest.mark.parametrize(("label", "statements"), EXPECTED.items())
def test_each_pam_message_type_costs_its_pinned_statements_and_one_commit(counted, label, statements):
    assert counted[label] == (statements, 1, "AA")


def test_the_pam_mix_costs_under_ten_statements_a_message_on_average(counted):
    weights = {label: 1.0 for label in EXPECTED} | {"A31 identity update": 0.5}  # an A31 every other patient

    mean = sum(counted[label][0] * weight for label, weight in weights.items()) / sum(weights.values())

    assert mean < 10
