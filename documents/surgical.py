"""A validated operative report marks its stay surgical (``Episode.surgical``): the smallest source of truth
of the DSR's "séjours avec une activité chirurgicale" (3.2.7 NB 3) the DPI has; the PAM.fr feed names no
field for it. Receiver of :data:`documents.signals.version_validated`, inside the validation transaction."""

from __future__ import annotations

from documents.models import DocumentVersion, Provenance
from patients.services import record_surgical_activity

OPERATIVE_REPORT = "34874-8"


def mark_surgical_stay(*, version: DocumentVersion, **signal: object) -> None:
    document = version.document
    if document.type_code == OPERATIVE_REPORT and document.provenance == Provenance.PRODUCED and document.episode_id:
        record_surgical_activity(episode_id=document.episode_id)
