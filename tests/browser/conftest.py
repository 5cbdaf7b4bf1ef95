"""Playwright driving Debian's chromium (never a downloaded browser) against pytest-django's live server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.browser import Screenshots


@pytest.fixture
def page(browser, live_server, request) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(30_000)  # a safety net on a loaded 2-core machine, never an assertion
    yield page
    context.close()


@pytest.fixture
def shots(request) -> Screenshots:
    return Screenshots(request.node.name)
