"""Placing an incoming document in the version chain of the documents already stored for its patient."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from documents.cda.common import InstanceId, KnownVersion
from documents.cda.header import CdaHeader


class VersionStatus(StrEnum):
    DUPLICATE = "duplicate"  # this very document (same id) is already stored
    NEW_VERSION = "new_version"  # it replaces the latest stored version of its document
    STALE = "stale"  # a version that is not newer than the one stored
    NEW_DOCUMENT = "new_document"


@dataclass(frozen=True)
class VersionVerdict:
    """``known`` is the stored duplicate, the version replaced, or the newer version that makes it stale.

    ``set_id`` is the set the incoming document belongs to (to store with it): its setId, else the set of
    the version it replaces, else its own id.
    """

    status: VersionStatus
    set_id: str
    known: KnownVersion | None = None


def detect_version(header: CdaHeader, known: Iterable[KnownVersion]) -> VersionVerdict:
    """Classify ``header`` against the versions stored for the same patient (gotcha 5, DSR Q&A).

    Same id: duplicate. Same setId as stored versions, or (setId absent or unknown) relatedDocument RPLC
    pointing at a stored id: a new version when its versionNumber is greater than the latest stored one
    of that document, otherwise stale. Anything else: a new document. A missing versionNumber counts as 1.
    """
    versions = tuple(known)
    own_set = (header.set_id or header.id).key
    duplicate = _stored(versions, header.id)
    if duplicate:
        return VersionVerdict(VersionStatus.DUPLICATE, set_id=duplicate.set_id or own_set, known=duplicate)
    family = _family(header, versions)
    if not family:
        return VersionVerdict(VersionStatus.NEW_DOCUMENT, set_id=own_set)
    latest = max(family, key=lambda version: version.version_number or 1)
    if (header.version_number or 1) > (latest.version_number or 1):
        # the stored document's setId: a new version naming an unknown setId still joins its parent's document
        return VersionVerdict(VersionStatus.NEW_VERSION, set_id=latest.set_id or latest.id_key, known=latest)
    return VersionVerdict(VersionStatus.STALE, set_id=latest.set_id or own_set, known=latest)


def _family(header: CdaHeader, versions: tuple[KnownVersion, ...]) -> list[KnownVersion]:
    """The stored versions of the same document: by setId, else through the replaced document."""
    if header.set_id:
        same_set = [version for version in versions if version.set_id == header.set_id.key]
        if same_set:
            return same_set
    parent = _stored(versions, header.replaced_id) if header.replaced_id else None
    if parent is None:
        return []
    if parent.set_id:
        return [version for version in versions if version.set_id == parent.set_id]
    return [parent]


def _stored(versions: tuple[KnownVersion, ...], document_id: InstanceId) -> KnownVersion | None:
    return next((version for version in versions if version.id_key == document_id.key), None)
