"""Waiting for another thread (a listener, a worker, a simulator) to have done something."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(predicate: Callable[[], bool], timeout: float = 90) -> None:
    """Poll until ``predicate()`` holds: synchronisation with other threads, not a timing assertion. The
    default is generous: two test processes on two cores can keep a worker thread waiting for a while."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout}s")
        time.sleep(0.02)
