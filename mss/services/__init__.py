"""Write use cases of the MSSanté inbound flow: receive (integrate, replace, delete), manual XDM import,
traces and read marks.

Every path writes :class:`mss.models.Trace` rows. A refused message keeps its ``received`` and
``refused`` traces (they commit with the journal row) while everything the request would have
changed is rolled back to a savepoint: nothing is integrated.

One module per use case: ``reception`` (from the PFI), ``imports`` (XDM archives), ``reading`` (read
marks), and ``common`` (types, routing, traces). Callers import from this package.
"""

from mss.services.common import Action, DocumentId, InboundDocument, MailContext, Outcome, record_refusal
from mss.services.imports import (
    discard_pending,
    import_pending,
    record_import_refusal,
    record_pending_refusal,
    stage_xdm_archive,
)
from mss.services.reading import mark_read, mark_unit_read
from mss.services.reception import receive_document

__all__ = [
    "Action",
    "DocumentId",
    "InboundDocument",
    "MailContext",
    "Outcome",
    "discard_pending",
    "import_pending",
    "mark_read",
    "mark_unit_read",
    "receive_document",
    "record_import_refusal",
    "record_pending_refusal",
    "record_refusal",
    "stage_xdm_archive",
]
