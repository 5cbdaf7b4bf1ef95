"""``manage.py run_mllp`` as operators run it: a process that answers, then exits 0 on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest
from django.conf import settings
from django.db import connection

from dpi.hl7.models import Message


@pytest.fixture
def start_run_mllp(transactional_db) -> Iterator[Callable[..., tuple[subprocess.Popen, int]]]:
    """The command on a free port, writing to the test database, once its ``processes`` listen."""
    if connection.vendor != "postgresql":
        pytest.skip("the listener process needs a database server shared with the test process")
    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    started: list[subprocess.Popen] = []

    def start(processes: int = 1) -> tuple[subprocess.Popen, int]:
        command = [sys.executable, str(settings.BASE_DIR / "manage.py"), "run_mllp", "--host", "127.0.0.1"]
        process = subprocess.Popen(
            [*command, "--port", "0", "--processes", str(processes)],
            env={**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "INFO"},
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(process)
        ports = []
        for line in process.stderr:
            if match := re.search(r"MLLP listener on 127\.0\.0\.1:(\d+)", line):
                ports.append(int(match.group(1)))
                if len(ports) == processes:
                    break
        assert len(ports) == processes, "run_mllp did not start"
        assert len(set(ports)) == 1, f"the processes listen on different ports: {ports}"
        return process, ports[0]

    yield start
    for process in started:
        process.kill()
        process.wait()
        process.stderr.close()


@pytest.fixture
def run_mllp(start_run_mllp: Callable[..., tuple[subprocess.Popen, int]]) -> tuple[subprocess.Popen, int]:
    return start_run_mllp()


def test_run_mllp_answers_then_exits_zero_on_sigterm(run_mllp, open_peer, adt):
    process, port = run_mllp

    ack = open_peer(port).exchange(adt("cmd-1", message_type="ZZZ^Z01"))
    process.send_signal(signal.SIGTERM)

    assert (ack.code, ack.control_id) == ("AR", "cmd-1")
    assert process.wait(timeout=30) == 0
    assert Message.objects.get().control_id == "cmd-1"


def test_run_mllp_processes_share_one_port_each_connection_answered_in_order(start_run_mllp, open_peer, adt):
    process, port = start_run_mllp(processes=2)
    peers = [open_peer(port) for _ in range(6)]

    for number, peer in enumerate(peers):  # three frames at once on each connection
        for index in range(3):
            peer.send_message(adt(f"p{number}-{index}", message_type="ZZZ^Z01"))
    answered = [[peer.receive_ack().control_id for _ in range(3)] for peer in peers]
    process.send_signal(signal.SIGTERM)

    assert answered == [[f"p{number}-{index}" for index in range(3)] for number in range(len(peers))]
    assert process.wait(timeout=30) == 0
    assert Message.objects.count() == 18
