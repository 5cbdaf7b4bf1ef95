"""The registry of one DMP as one professional sees it (the DMP rules of ``docs/dmp-protocol.md`` §6).

A deleted document is never shown. A document masked to professionals (``MASQUE_PS`` on its current
metadata version) is shown only to its author, with all its versions: an older, unmasked version of a
masked document must not leak it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sandbox.models import DmpAssociation, DmpDocument, DmpSubmissionSet, PatientDmp
from sandbox.models.dmp import DELETED


class Scope:
    def __init__(self, dmp: PatientDmp, national_id: str) -> None:
        self.dmp = dmp
        rows = list(dmp.documents.exclude(status=DELETED).defer("content").order_by("lid", "version"))
        current = {row.lid: row for row in rows}  # the highest version of each logical document
        hidden = {lid for lid, row in current.items() if not row.visible_to(national_id)}
        self.entries = [row for row in rows if row.lid not in hidden]
        self.current = [row for lid, row in current.items() if lid not in hidden]
        self._hidden_uuids = {row.entry_uuid for row in rows if row.lid in hidden}
        self._deleted_uuids = set(dmp.documents.filter(status=DELETED).values_list("entry_uuid", flat=True))

    def by_unique_ids(self, unique_ids: Iterable[str]) -> list[DmpDocument]:
        """The current metadata version of each document named by its uniqueId."""
        wanted = set(unique_ids)
        return [row for row in self.current if row.unique_id in wanted]

    def by_entry_uuids(self, uuids: Iterable[str]) -> list[DmpDocument]:
        wanted = set(uuids)
        return [row for row in self.entries if row.entry_uuid in wanted]

    def submission_sets(self) -> list[DmpSubmissionSet]:
        return list(self.dmp.submission_sets.all())

    def associations(self, uuids: Iterable[str]) -> list[DmpAssociation]:
        """The associations touching one of ``uuids``, none of whose ends the professional may not see."""
        wanted = set(uuids)
        unseen = self._hidden_uuids | self._deleted_uuids
        links = self.dmp.associations.all().order_by("pk")
        return [
            link
            for link in links
            if (link.source in wanted or link.target in wanted) and not {link.source, link.target} & unseen
        ]
