"""Loading the open-data extract of the Annuaire Santé (ANN/va1.01-04), as a restartable background job.

The file is read line by line; each valid line is copied into the staging table (PostgreSQL ``COPY``
through psycopg 3, or batched inserts on SQLite for the demo), a batch and the load's progress committed
together, so a load that stops resumes after the last committed line. Then one transaction merges the
staging table into the directory's tables with set-based statements (insert, update what changed,
deactivate what disappeared) and brings the DPI's users and correspondents up to date, auditing each
difference. A refused line is counted and kept in the report with its number, its reason and its text.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from directory.extract import STAGED_COLUMNS, Line, LineIgnored, LineRefused, header_problem, parse_line
from directory.models import DirectoryLoad, StagedLine
from directory.services.directory_merge import TooManyDeactivations, merge_staged_lines
from directory.services.directory_sync import sync_users_and_correspondents
from dpi.models import User

BATCH_LINES = 50_000
REFUSED_KEPT = 1000  # refused lines kept with their text in the report; all are counted
RAW_KEPT = 1000  # characters of a refused line's text kept
DUPLICATE = (
    "Situation en double : même personne, structure, savoir-faire, mode, rôle et genre d'activité "
    "qu'une ligne précédente."
)


class LoadAborted(Exception):
    """The load cannot go on (bad header, another load running, too many deactivations): nothing merged."""


@dataclass
class Seen:
    """The situation keys and RPPS already read: a repeated key is refused, the first line of an RPPS is
    flagged. Rebuilt from the staging table when a load resumes."""

    keys: set[bytes] = field(default_factory=set)
    rpps: set[int] = field(default_factory=set)

    @classmethod
    def staged(cls) -> Seen:
        seen = cls()
        for key, rpps in StagedLine.objects.values_list("key", "rpps").iterator(chunk_size=10_000):
            seen.keys.add(bytes.fromhex(key))
            seen.rpps.add(int(rpps))
        return seen


@dataclass
class Batch:
    lines: list[tuple[Line, bool]] = field(default_factory=list)  # a line, and whether it is its RPPS's first
    last_number: int = 0
    ignored: int = 0
    refused: list[dict[str, Any]] = field(default_factory=list)


def request_load(*, path: str, acting_user: User | None, trigger: str = DirectoryLoad.Trigger.MANUAL) -> DirectoryLoad:
    """Record a load of the extract at ``path`` and queue it once committed."""
    from directory.tasks import load_directory_extract

    load = DirectoryLoad.objects.create(path=path, requested_by=acting_user, trigger=trigger)
    transaction.on_commit(lambda: load_directory_extract.delay(load.pk))
    return load


def run_load(load: DirectoryLoad) -> DirectoryLoad:
    """Run (or resume) ``load`` to its end; a failure is recorded on the load, never raised."""
    if load.status in (DirectoryLoad.Status.DONE, DirectoryLoad.Status.FAILED):
        return load
    try:
        _start(load)
        _stage(load)
        _merge(load)
    except (LoadAborted, TooManyDeactivations, OSError) as error:
        _finish(load, DirectoryLoad.Status.FAILED, error=str(error))
    return load


def _start(load: DirectoryLoad) -> None:
    if load.status == DirectoryLoad.Status.RUNNING and StagedLine.objects.exists():
        return  # resumed after a stop: keep the staged lines up to load.lines_read
    if load.status == DirectoryLoad.Status.RUNNING:  # the (unlogged) staging table was lost: start over
        load.lines_read, load.refused, load.ignored, load.refused_lines = 0, 0, 0, []
        load.save(update_fields=["lines_read", "refused", "ignored", "refused_lines"])
        return
    StagedLine.objects.all().delete()
    load.status, load.started_at = DirectoryLoad.Status.RUNNING, timezone.now()
    try:
        with transaction.atomic():
            load.save(update_fields=["status", "started_at"])
    except IntegrityError:
        raise LoadAborted("Un autre chargement de l'Annuaire Santé est en cours.") from None


def _stage(load: DirectoryLoad) -> None:
    StagedLine.objects.filter(line_no__gt=load.lines_read).delete()
    for batch in _batches(load):
        with transaction.atomic():
            _copy(batch.lines)
            load.lines_read = batch.last_number
            load.ignored += batch.ignored
            load.refused += len(batch.refused)
            load.refused_lines += batch.refused[: max(REFUSED_KEPT - len(load.refused_lines), 0)]
            load.save(update_fields=["lines_read", "ignored", "refused", "refused_lines"])


def _batches(load: DirectoryLoad) -> Iterator[Batch]:
    with open(load.path, "rb") as extract:
        problem = header_problem(extract.readline().decode("utf-8", errors="replace"))
        if problem:
            raise LoadAborted(problem)
        seen = Seen.staged() if load.lines_read else Seen()
        batch = Batch()
        for number, raw in enumerate(extract, start=2):
            if number <= load.lines_read:
                continue
            _take(batch, number, raw, seen)
            if len(batch.lines) + len(batch.refused) + batch.ignored >= BATCH_LINES:
                yield batch
                batch = Batch()
        if batch.last_number:
            yield batch


def _take(batch: Batch, number: int, raw: bytes, seen: Seen) -> None:
    batch.last_number = number
    try:
        line = parse_line(number, raw)
        key, rpps = bytes.fromhex(line.key), int(line.values["rpps"])
        if key in seen.keys:
            raise LineRefused(DUPLICATE)
    except LineIgnored:
        batch.ignored += 1
    except LineRefused as reason:
        text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        batch.refused.append({"line": number, "reason": str(reason), "text": text[:RAW_KEPT]})
    else:
        seen.keys.add(key)
        batch.lines.append((line, rpps not in seen.rpps))
        seen.rpps.add(rpps)


def _copy(lines: list[tuple[Line, bool]]) -> None:
    table, columns = StagedLine._meta.db_table, (*STAGED_COLUMNS, "first_line")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for line, first in lines:
                    copy.write_row((*line.row, first))
    else:  # SQLite (the demo): batched inserts, see docs/annuaire.md
        StagedLine.objects.bulk_create(
            (StagedLine(**dict(zip(columns, (*line.row, first), strict=True))) for line, first in lines),
            batch_size=500,
        )


def _merge(load: DirectoryLoad) -> None:
    with transaction.atomic():
        counts = merge_staged_lines(now=timezone.now(), max_deactivated=settings.DIRECTORY_MAX_DEACTIVATED_PERCENT)
        load.added, load.changed, load.deactivated = counts.added, counts.changed, counts.deactivated
        load.persons = counts.persons
        load.updates = sync_users_and_correspondents(load)
        _finish(load, DirectoryLoad.Status.DONE)
    StagedLine.objects.all().delete()


def _finish(load: DirectoryLoad, status: str, *, error: str = "") -> None:
    load.status, load.error, load.finished_at = status, error, timezone.now()
    load.save()
