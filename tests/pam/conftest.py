"""Structures matching the team's PAM builder, and a way to send a message through the engine."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dpi.hl7.engine import process_inbound
from dpi.hl7.models import Message
from tests.factories import CareUnitFactory, LegalEntityFactory, SiteFactory
from tests.pam.builder import FINESS_EG, FINESS_EJ, Adt


@dataclass
class Ack:
    text: str
    message: Message

    @property
    def code(self) -> str:
        msa = next(line for line in self.text.split("\r") if line.startswith("MSA|"))
        return msa.split("|")[1]

    @property
    def err(self) -> list[str]:
        return [line for line in self.text.split("\r") if line.startswith("ERR|")]


def send_raw(raw: bytes) -> Ack:
    ack = process_inbound(raw, peer="127.0.0.1:test")
    return Ack(ack.decode("utf-8", errors="replace"), Message.objects.order_by("-pk").first())


def send(adt: Adt) -> Ack:
    return send_raw(adt.encode())


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
