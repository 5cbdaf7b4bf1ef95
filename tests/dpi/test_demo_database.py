"""`make demo` runs on an embedded SQLite database: every migration must apply there and the demo data load,
twice (the second run refreshes). The suite itself runs on PostgreSQL, so this is the one place that proves
the demo's database (a PostgreSQL-only statement in a migration once broke it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


def test_the_demo_database_migrates_and_loads_on_sqlite(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "DPI_VAR_DIR": str(tmp_path),
        "CELERY_BROKER_URL": "filesystem://",
        "CACHE_URL": "locmem://",
    }
    migrated = _manage("migrate", "--no-input", env=env)
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    for _run in range(2):
        loaded = _manage("load_demo", env=env)
        assert loaded.returncode == 0, loaded.stderr[-2000:]
        assert "Données de démonstration chargées." in loaded.stdout
