"""The set-based merge of the staged extract into the directory's tables, in portable SQL (PostgreSQL and
SQLite both take ``INSERT … ON CONFLICT DO UPDATE … WHERE``): a handful of statements whatever the size.

Each table is merged the same way: count what is new and what changed (its row hash differs, or it comes
back), update the changed, insert the new, then deactivate the active rows the extract no longer has.
Persons are merged first (situations refer to them by RPPS), from the first staged line of each RPPS.
Only joins and anti-joins on whole tables: no grouping subquery, whose plan PostgreSQL got badly wrong once
the staging table was analysed (ten minutes for a count of 200,000 lines).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from directory.extract import PERSON_FIELDS, SITUATION_FIELDS
from directory.models import DirectoryPerson, PracticeSituation, StagedLine


@dataclass(frozen=True)
class Table:
    name: str
    key: str  # column of the target and of the staging table that identifies a row
    hash: str  # staging column holding the target's row_hash
    columns: tuple[str, ...]  # copied from the staging table
    source: str  # which staged lines feed it


STAGING = StagedLine._meta.db_table
PERSONS = Table(
    DirectoryPerson._meta.db_table,
    "rpps",
    "person_hash",
    tuple(PERSON_FIELDS),
    "s.first_line",
)
SITUATIONS = Table(
    PracticeSituation._meta.db_table,
    "key",
    "row_hash",
    ("key", "rpps", *SITUATION_FIELDS, "address"),
    "TRUE",
)


class TooManyDeactivations(Exception):
    pass


@dataclass(frozen=True)
class Counts:
    added: int
    changed: int
    deactivated: int
    persons: dict[str, int]


def merge_staged_lines(*, now: datetime, max_deactivated: float) -> Counts:
    """Merge the staged lines; raise :class:`TooManyDeactivations` (rolling back with the caller's
    transaction) when more than ``max_deactivated`` % of the active situations would disappear."""
    persons = _merge(PERSONS, now)
    situations = _merge(SITUATIONS, now)
    active = _scalar(f"SELECT COUNT(*) FROM {SITUATIONS.name} WHERE active") + situations[2]  # noqa: S608
    if active and situations[2] * 100 > max_deactivated * active:
        raise TooManyDeactivations(
            f"L'extrait retirerait {situations[2]} situations d'exercice sur {active} "
            f"(plus de {max_deactivated} %) : fichier tronqué ? Rien n'a été modifié."
        )
    return Counts(*situations, persons=dict(zip(("added", "changed", "deactivated"), persons, strict=True)))


def _merge(table: Table, now: datetime) -> tuple[int, int, int]:
    added, changed, update, insert, deactivate = _statements(table)
    counts = _scalar(added), _scalar(changed)
    with connection.cursor() as cursor:
        cursor.execute(update, [now])
        cursor.execute(insert, [now])
        cursor.execute(deactivate, [now])
        return (*counts, cursor.rowcount)


def _statements(table: Table) -> tuple[str, str, str, str, str]:
    """Count new rows, count changed rows, update the changed, insert the new, deactivate what the extract
    no longer has (a plain INSERT of the new rows: no speculative insertion per row as ON CONFLICT does).
    Table and column names come from our models; values are parameters."""
    name, key, source = table.name, table.key, table.source
    columns = ", ".join(table.columns)
    updates = ", ".join(f"{column} = s.{column}" for column in table.columns if column != key)
    return (
        f"SELECT COUNT(*) FROM {STAGING} s WHERE {source} "  # noqa: S608
        f"AND NOT EXISTS (SELECT 1 FROM {name} t WHERE t.{key} = s.{key})",
        f"SELECT COUNT(*) FROM {STAGING} s JOIN {name} t ON t.{key} = s.{key} "  # noqa: S608
        f"WHERE {source} AND (t.row_hash <> s.{table.hash} OR NOT t.active)",
        f"UPDATE {name} SET {updates}, row_hash = s.{table.hash}, active = TRUE, updated_at = %s "  # noqa: S608
        f"FROM {STAGING} s WHERE s.{key} = {name}.{key} AND {source} "
        f"AND ({name}.row_hash <> s.{table.hash} OR NOT {name}.active)",
        f"INSERT INTO {name} ({columns}, row_hash, active, updated_at) "  # noqa: S608
        f"SELECT {columns}, {table.hash}, TRUE, %s FROM {STAGING} s WHERE {source} "
        f"AND NOT EXISTS (SELECT 1 FROM {name} t WHERE t.{key} = s.{key})",
        f"UPDATE {name} SET active = FALSE, updated_at = %s WHERE active AND NOT EXISTS "  # noqa: S608
        f"(SELECT 1 FROM {STAGING} s WHERE s.{key} = {name}.{key})",
    )


def _scalar(sql: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]
