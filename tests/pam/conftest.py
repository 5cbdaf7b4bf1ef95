"""Structures matching the team's PAM builder (messages go through ``tests.support.engine.send``)."""

from __future__ import annotations

import pytest

from tests.factories import CareUnitFactory, LegalEntityFactory, SiteFactory
from tests.pam.builder import FINESS_EG, FINESS_EJ, Adt


@pytest.fixture
def structure(db):
    entity = LegalEntityFactory(finess_ej=FINESS_EJ)
    site = SiteFactory(legal_entity=entity, finess_eg=FINESS_EG, name="Site PAM")
    units = {code: CareUnitFactory(site=site, code=code, name=f"Unité {code}") for code in ("UF01", "UF02", "UF03")}
    return units


@pytest.fixture
def test_structure(structure):
    """A structure configured for tests: INS test OIDs accepted (the national samples use them)."""
    entity = next(iter(structure.values())).site.legal_entity
    entity.accepts_test_ins = True
    entity.save()
    return structure


@pytest.fixture
def adt(structure) -> Adt:
    return Adt()
