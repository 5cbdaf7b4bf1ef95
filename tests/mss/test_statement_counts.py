"""Statements sent to PostgreSQL per MSSanté document received (issue 16 §5): counts, not times.

Through the whole engine (journal, duplicate check, handler, ACK), as the listener runs it. A change that
adds a query per document (a trace written on its own, a visit read twice) shows here.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from documents.models import Document
from dpi.hl7.engine import process_inbound
from mss.models import Trace
from sandbox.mss_push import mdm_for, patient_document, patient_identity

pytestmark = pytest.mark.django_db(transaction=True)

# The engine's own 4 (BEGIN, the journal row inserted, its outcome and ACK, COMMIT: one commit per message), the
# mailbox route, the identity match, the CDA id already held?, the visit in the receiving unit, the
# savepoint of integrate_cda with the version chain, document, version, current version and audit row,
# the unit and visibility, and the traces in one insert.
NEW_DOCUMENT_STATEMENTS = 19


def test_a_new_document_is_integrated_in_a_fixed_number_of_statements(route, patient):
    identity = patient_identity(patient)
    root, cda = patient_document(identity)
    with CaptureQueriesContext(connection) as queries:
        ack = process_inbound(mdm_for(identity, cda, root).encode(), peer="test")
    assert b"MSA|AA" in ack and Document.objects.count() == 1
    assert list(Trace.objects.order_by("pk").values_list("event", flat=True)) == ["received", "matched", "integrated"]
    assert len(queries) == NEW_DOCUMENT_STATEMENTS
