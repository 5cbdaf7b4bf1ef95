"""Statements sent to PostgreSQL per feeding order run (issue 16 §5): counts, not times.

Every statement is a round trip; the figures below are what one run costs when nothing goes wrong, so a
change that adds a query per order (a relation read lazily, a line read before it is written) shows here.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dmp.models import FeedingOrder, OrderState
from dmp.services.feeding import run_order
from documents.services import Recipients
from tests.support.feeding import PRO_ADDRESS

pytestmark = pytest.mark.django_db(transaction=True)

# Claim (update, one read of the order with its document, patient, visit, structure and people, the export
# line), checks and trigger in one transaction (consent, the last order sent, the trigger, the statistics'
# mark), the outbound journal row and its outcome, the conclusion in one transaction (order locked, journal
# row, order, statistics' mark, export line, ZAMs already there).
DMP_RUN_STATEMENTS = 20
# The same for MSSanté: no consent to read, one read of the DPI users behind the recipients' addresses.
MSS_RUN_STATEMENTS = 20


def _statements(order: FeedingOrder) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert run_order(order.pk).state == OrderState.SENT
    return len(queries)


def test_a_dmp_order_is_run_in_a_fixed_number_of_statements(qualified_episode, letter, no_delay, pfi):
    document = letter(qualified_episode)
    assert _statements(FeedingOrder.objects.get(document=document, channel="dmp")) == DMP_RUN_STATEMENTS


def test_an_mssante_order_is_run_in_a_fixed_number_of_statements(qualified_episode, letter, no_delay, pfi):
    document = letter(qualified_episode, recipients=Recipients(professionals=(PRO_ADDRESS,)))
    FeedingOrder.objects.filter(document=document, channel="dmp").update(state=OrderState.CANCELLED)
    assert _statements(FeedingOrder.objects.get(document=document, channel="mss")) == MSS_RUN_STATEMENTS
