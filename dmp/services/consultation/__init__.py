"""Consultation of the patient's DMP from the file (AIR simplifié), DSR 3.2.2 b) steps 1-9.

Every use case takes a :class:`dmp.access.Context` (built only when the patient, informed, did not
oppose consultation, the INS is qualified and the user has a national id) and makes its
transactions with the user's own VIHF; each transaction is traced (:mod:`dmp.services.tracing`).

What the DMP answered is kept in the shared cache for the user's session and this patient, so that
the initial transactions run once when the user arrives on the file and not again automatically
while they stay there (ANS Q&A, Dec 2025); "Actualiser" asks again:

* :func:`check_access` — TD0.2 once per session, then TD0.3 with no user action when the user has
  no valid authorisation (SC.DMP/CONF.16, UX.12);
* :func:`load_panel` — the list of the last two years (TD3.1 FindDocuments, UX.14), the count of
  documents third parties submitted since the configured event (FindSubmissionSets +
  GetAssociations, UX.15/17/14.TER), and what became of the documents integrated from the DMP
  (GetDocuments + GetAssociations, CDA/DD.05);
* :func:`search` — a multicriteria TD3.1 (UX.27, UX.14.BIS);
* :func:`retrieve_document` (TD3.2) and :func:`integrate_documents` (UX.31, steps 6-9).

One module per use: ``session`` (what the session remembers, TD0.2/TD0.3), ``panel`` (the panel of the file),
``documents`` (search, view, integrate). Callers import from this package.
"""

from dmp.services.consultation.documents import (
    entries_by_uuid,
    integrate_documents,
    known_entries,
    retrieve_document,
    search,
)
from dmp.services.consultation.panel import acknowledge_new_documents, load_panel
from dmp.services.consultation.session import cache_key, check_access, forget

__all__ = [
    "acknowledge_new_documents",
    "cache_key",
    "check_access",
    "entries_by_uuid",
    "forget",
    "integrate_documents",
    "known_entries",
    "load_panel",
    "retrieve_document",
    "search",
]
