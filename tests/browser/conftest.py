"""Playwright driving Debian's chromium (never a downloaded browser) against pytest-django's live server."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.conftest import ARTEFACTS


@pytest.fixture
def page(browser, live_server, request) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(30_000)  # a safety net on a loaded 2-core machine, never an assertion
    yield page
    context.close()


class Screenshots:
    """Saves numbered screenshots of a scenario under var/artefacts/<scenario>/."""

    def __init__(self, name: str) -> None:
        self.folder = ARTEFACTS / name
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.count = 0

    def __call__(self, page: object, step: str) -> None:
        self.count += 1
        page.screenshot(path=str(self.folder / f"{self.count:02d}-{step}.png"), full_page=True)


@pytest.fixture
def shots(request) -> Screenshots:
    return Screenshots(request.node.name)
