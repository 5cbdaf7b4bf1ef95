"""Backup then restore of the real PostgreSQL into a fresh database (REM SC.SSI/GEN.21)."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import uuid

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone
from psycopg import sql

from documents.models import Document, DocumentVersion, Provenance, Status
from dpi.backup import BackupError, Target, backup
from tests.factories import EpisodeFactory

pytestmark = pytest.mark.django_db(transaction=True)  # pg_dump sees only committed rows


def _document(episode, pdf: bytes, cda: bytes) -> DocumentVersion:
    document = Document.objects.create(
        patient=episode.patient, episode=episode, set_id=f"2.25.{uuid.uuid4().int}", type_code="11490-0",
        type_label="Lettre de liaison", title="Lettre", act_date=timezone.now(), provenance=Provenance.PRODUCED,
        status=Status.VALIDATED,
    )  # fmt: skip
    return DocumentVersion.objects.create(
        document=document, version_number=1, cda_id_root=f"2.25.{uuid.uuid4().int}", cda=cda, pdf=pdf
    )


def _admin_target() -> Target:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/postgres"
    return Target.from_url(url)


@pytest.fixture
def empty_database():
    """A fresh, empty PostgreSQL database, dropped afterwards."""
    name = f"{connection.settings_dict['NAME']}_restore"
    admin = _admin_target()
    with admin.connect(autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = admin.conninfo.replace("dbname=postgres", f"dbname={name}")
    yield url
    with admin.connect(autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_backup_then_restore_into_an_empty_database_gives_every_row_and_every_document_byte(
    settings, tmp_path, empty_database
):
    episode = EpisodeFactory()
    pdf, cda = b"%PDF-1.7 " + os.urandom(4096), b"<ClinicalDocument/>" + os.urandom(512)
    _document(episode, pdf, cda)
    backups, offline = tmp_path / "backups", tmp_path / "offline"

    call_command("backup_database", to=backups, offline_copy=offline)

    [manifest_path] = backups.glob("dpi-*.json")
    manifest = json.loads(manifest_path.read_text())
    assert manifest["rows"]["documents_documentversion"] == 1
    assert manifest["rows"]["patients_patient"] >= 1
    copy = offline / manifest["file"]
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == manifest["sha256"]
    assert not copy.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)  # the offline copy is read-only
    call_command("check_backup", folder=backups)

    call_command("restore_database", manifest_path, database_url=empty_database)

    with psycopg.connect(empty_database) as conn:
        restored = conn.execute("SELECT pdf, cda FROM documents_documentversion").fetchone()
        patients = conn.execute("SELECT count(*) FROM patients_patient").fetchone()[0]
    assert (bytes(restored[0]), bytes(restored[1])) == (pdf, cda)
    assert patients == manifest["rows"]["patients_patient"]


def test_a_restore_refuses_a_database_that_is_not_empty(tmp_path):
    EpisodeFactory()
    call_command("backup_database", to=tmp_path, offline_copy=None)
    [manifest_path] = tmp_path.glob("dpi-*.json")
    db = connection.settings_dict
    own = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    with pytest.raises(CommandError, match="la base cible n'est pas vide"):
        call_command("restore_database", manifest_path, database_url=own)


def test_a_damaged_backup_fails_the_check_and_is_not_restored(tmp_path, empty_database):
    call_command("backup_database", to=tmp_path, offline_copy=None)
    [manifest_path] = tmp_path.glob("dpi-*.json")
    dump = tmp_path / json.loads(manifest_path.read_text())["file"]
    dump.write_bytes(dump.read_bytes()[:-10])
    with pytest.raises(CommandError, match="empreinte différente"):
        call_command("check_backup", folder=tmp_path)
    with pytest.raises(CommandError, match="sauvegarde altérée"):
        call_command("restore_database", manifest_path, database_url=empty_database)


def test_no_recent_backup_fails_the_check(tmp_path):
    with pytest.raises(CommandError, match="Aucune sauvegarde"):
        call_command("check_backup", folder=tmp_path)


def test_a_failed_dump_says_why_and_leaves_no_partial_file(tmp_path):
    unreachable = Target.from_url("postgres://postgres@127.0.0.1:9/dpi")
    with pytest.raises(BackupError):
        backup(folder=tmp_path, offline_folder=None, target=unreachable)
    assert list(tmp_path.iterdir()) == []
