"""``manage.py run_mllp`` as operators run it: a process that answers, then exits 0 on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.db import connection

from dpi.hl7.models import Message


@pytest.fixture
def run_mllp(transactional_db) -> Iterator[tuple[subprocess.Popen, int]]:
    """The command on a free port, writing to the test database."""
    if connection.vendor != "postgresql":
        pytest.skip("the listener process needs a database server shared with the test process")
    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    process = subprocess.Popen(
        [
            sys.executable,
            str(settings.BASE_DIR / "manage.py"),
            "run_mllp",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
        ],
        env={**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "INFO"},
        stderr=subprocess.PIPE,
        text=True,
    )
    port = None
    for line in process.stderr:
        if match := re.search(r"MLLP listener on 127\.0\.0\.1:(\d+)", line):
            port = int(match.group(1))
            break
    try:
        assert port, "run_mllp did not start"
        yield process, port
    finally:
        process.kill()
        process.wait()
        process.stderr.close()


def test_run_mllp_answers_then_exits_zero_on_sigterm(run_mllp, open_peer, adt):
    process, port = run_mllp

    ack = open_peer(port).exchange(adt("cmd-1", message_type="ZZZ^Z01"))
    process.send_signal(signal.SIGTERM)

    assert (ack.code, ack.control_id) == ("AR", "cmd-1")
    assert process.wait(timeout=30) == 0
    assert Message.objects.get().control_id == "cmd-1"
