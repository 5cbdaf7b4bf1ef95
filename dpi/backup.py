"""Backup and restore of the PostgreSQL database (REM SC.SSI/GEN.21), with the documents' bytes (they live in
the database: CDA, PDF, producer stylesheets, raw HL7 messages), see docs/operations.md.

A backup is ``pg_dump --format=custom`` taken on the snapshot in which the rows of every table are counted and
the bytes of every binary column hashed; the manifest beside the dump keeps those figures and the dump's
SHA-256. It counts as done only once the dump has been read back (``pg_restore --list``), copied to the offline
folder (read-only), and the copy's hash checked. A restore goes into an empty database only, then counts and
hashes again and compares with the manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from django.db import connection
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

CHUNK = 1024 * 1024


class BackupError(Exception):
    """A step of the backup or the restore failed: the message says which and why."""


@dataclass(frozen=True)
class Target:
    """Where to connect: a libpq connection string and the password passed in the environment only."""

    conninfo: str
    password: str

    @classmethod
    def default(cls) -> Target:
        if connection.vendor != "postgresql":
            raise BackupError(f"la base configurée est {connection.vendor} : ces commandes sauvegardent PostgreSQL")
        db = connection.settings_dict
        parts = {"dbname": db["NAME"], "user": db.get("USER"), "host": db.get("HOST"), "port": db.get("PORT")}
        return cls(make_conninfo(**{k: str(v) for k, v in parts.items() if v}), db.get("PASSWORD") or "")

    @classmethod
    def from_url(cls, url: str) -> Target:
        info = conninfo_to_dict(url)
        password = str(info.pop("password", "") or "")
        return cls(make_conninfo(**{k: str(v) for k, v in info.items()}), password)

    def connect(self, **kwargs: Any) -> psycopg.Connection:
        return psycopg.connect(self.conninfo, password=self.password or None, **kwargs)

    def env(self) -> dict[str, str]:
        return {**os.environ, "PGPASSWORD": self.password} if self.password else dict(os.environ)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _tables(cursor: psycopg.Cursor) -> list[str]:
    cursor.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
        "AND table_type = 'BASE TABLE' ORDER BY table_name"
    )
    return [row[0] for row in cursor.fetchall()]


def figures(cursor: psycopg.Cursor) -> dict[str, Any]:
    """Rows of every table and a SHA-256 of the bytes of every binary column (order-independent)."""
    counts: dict[str, int] = {}
    for table in _tables(cursor):
        cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        counts[table] = cursor.fetchone()[0]
    cursor.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' "
        "AND data_type = 'bytea' ORDER BY table_name, column_name"
    )
    hashes: dict[str, str] = {}
    for table, column in cursor.fetchall():
        query = sql.SQL(
            "SELECT encode(sha256(coalesce(string_agg(h, '' ORDER BY h), '')::bytea), 'hex') "
            "FROM (SELECT encode(sha256({column}), 'hex') AS h FROM {table} WHERE {column} IS NOT NULL) AS rows"
        ).format(column=sql.Identifier(column), table=sql.Identifier(table))
        cursor.execute(query)
        hashes[f"{table}.{column}"] = cursor.fetchone()[0]
    return {"rows": counts, "bytes_sha256": hashes}


def _run(command: list[str], target: Target, step: str) -> str:
    result = subprocess.run(command, env=target.env(), capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{step} : {result.stderr.strip()[-2000:] or result.returncode}")
    return result.stdout


def backup(*, folder: Path, offline_folder: Path | None, target: Target | None = None) -> Path:
    """Dump the database into ``folder`` (and a read-only copy into ``offline_folder``); returns the manifest."""
    target = target or Target.default()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"dpi-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}"
    dump, part = folder / f"{name}.dump", folder / f"{name}.dump.part"
    try:
        counted = _dump(target, part)
        _run(["pg_restore", "--list", str(part)], target, "relecture du fichier (pg_restore --list)")
    except (BackupError, psycopg.Error) as error:
        part.unlink(missing_ok=True)
        raise BackupError(str(error)) from error
    part.rename(dump)
    manifest = {"file": dump.name, "sha256": sha256_file(dump), "bytes": dump.stat().st_size,
                "created_at": datetime.now(UTC).isoformat(), **counted}  # fmt: skip
    if offline_folder is not None:
        manifest["offline_copy"] = str(_offline_copy(dump, manifest["sha256"], offline_folder))
    manifest_path = folder / f"{name}.json"
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True))
    if offline_folder is not None:
        _read_only_copy(manifest_path, offline_folder / manifest_path.name)
    return manifest_path


def _dump(target: Target, part: Path) -> dict[str, Any]:
    """``pg_dump`` into ``part`` on the snapshot in which the figures are taken; returns the figures."""
    with target.connect() as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            counted = figures(cursor)
            _run(["pg_dump", "--format=custom", "--no-owner", f"--snapshot={snapshot}", f"--file={part}",
                  target.conninfo], target, "pg_dump")  # fmt: skip
    return counted


def _read_only_copy(source: Path, destination: Path) -> None:
    shutil.copyfile(source, destination)
    destination.chmod(0o444)


def _offline_copy(dump: Path, sha256: str, offline_folder: Path) -> Path:
    """Copy to the offline folder (a mounted removable or write-once medium), read-only, and check the copy."""
    offline_folder.mkdir(parents=True, exist_ok=True)
    copy = offline_folder / dump.name
    _read_only_copy(dump, copy)
    if sha256_file(copy) != sha256:
        raise BackupError(f"copie hors ligne {copy} : empreinte différente de l'original")
    return copy


def check(manifest_path: Path) -> list[str]:
    """What is wrong with a backup (empty: it is sound): the dump and its offline copy present and intact."""
    manifest = json.loads(manifest_path.read_text())
    problems = []
    for path in filter(None, [manifest_path.parent / manifest["file"], manifest.get("offline_copy")]):
        path = Path(path)
        if not path.exists():
            problems.append(f"{path} : absent")
        elif sha256_file(path) != manifest["sha256"]:
            problems.append(f"{path} : empreinte différente de celle du manifeste")
    return problems


def latest_manifest(folder: Path) -> Path | None:
    manifests = sorted(folder.glob("dpi-*.json"))
    return manifests[-1] if manifests else None


def restore(*, manifest_path: Path, target: Target) -> dict[str, Any]:
    """Restore a checked backup into ``target``, an empty database; returns the differences with the manifest
    (empty: every table has its rows and every binary column its bytes)."""
    problems = check(manifest_path)
    if problems:
        raise BackupError("sauvegarde altérée : " + " ; ".join(problems))
    manifest = json.loads(manifest_path.read_text())
    with target.connect() as conn, conn.cursor() as cursor:
        if _tables(cursor):
            raise BackupError("la base cible n'est pas vide : la restauration se fait dans une base vide")
    dump = manifest_path.parent / manifest["file"]
    _run(["pg_restore", "--no-owner", "--exit-on-error", "--single-transaction", f"--dbname={target.conninfo}",
          str(dump)], target, "pg_restore")  # fmt: skip
    with target.connect() as conn, conn.cursor() as cursor:
        restored = figures(cursor)
    return {
        f"{key}:{name}": {"expected": manifest[key].get(name), "restored": restored[key].get(name)}
        for key in ("rows", "bytes_sha256")
        for name in sorted(set(manifest[key]) | set(restored[key]))
        if manifest[key].get(name) != restored[key].get(name)
    }
