"""The sandbox Annuaire Santé FHIR server for the directory tests."""

from __future__ import annotations

import pytest

from sandbox.annuaire.server import AnnuaireServer
from tests.directory.data import KEY, PEOPLE


@pytest.fixture(scope="module")
def annuaire_server():
    """The sandbox Annuaire Santé FHIR server on a free loopback port, for the module."""
    running = AnnuaireServer("127.0.0.1", 0, api_key=KEY, people=PEOPLE)
    running.start()
    yield running
    running.shutdown()
    running.server_close()


@pytest.fixture
def sandbox(annuaire_server, settings):
    """The sandbox server in normal mode, and the DPI's settings pointing at it."""
    annuaire_server.mode = "normal"
    annuaire_server.calls.clear()
    settings.ANNUAIRE_FHIR_URL, settings.ANNUAIRE_API_KEY = annuaire_server.base_url, KEY
    settings.ANNUAIRE_RATE_PER_SECOND = 1000
    yield annuaire_server
    annuaire_server.mode = "normal"
