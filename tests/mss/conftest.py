"""Fixtures of the MSSanté inbound tests: a structure, a routed mailbox, a qualified patient, and a way to
send a message through the engine (the MLLP socket itself is exercised in test_mllp.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings

from dpi.hl7.engine import process_inbound
from dpi.hl7.models import Message
from mss.models import MailboxRoute
from sandbox.mss_push import Mdm, mdm_for, patient_document, patient_identity
from tests.factories import CareUnitFactory, EpisodeFactory, LegalEntityFactory, PatientFactory, SiteFactory

MAILBOX = "dpi@hopital.mssante.fr"
NIR = "279035121518989"
NIR_OID = "1.2.250.1.213.1.4.8"
TEST_OID = "1.2.250.1.213.1.4.10"


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

    @property
    def application_code(self) -> str:
        """ERR-5.1 of the first ERR, or an empty string."""
        fields = self.err[0].split("|") if self.err else []
        return fields[5].split("^")[0] if len(fields) > 5 else ""


def send(message: Mdm | str | bytes) -> Ack:
    raw = message.encode() if isinstance(message, Mdm | str) else message
    ack = process_inbound(raw if isinstance(raw, bytes) else raw.encode(), peer="127.0.0.1:test")
    return Ack(ack.decode("utf-8", errors="replace"), Message.objects.order_by("-pk").first())


@pytest.fixture
def unit(db):
    entity = LegalEntityFactory(finess_ej="010000016", accepts_test_ins=True)
    site = SiteFactory(legal_entity=entity, finess_eg="020000001", name="Site MSS")
    return CareUnitFactory(site=site, code="CARDIO", name="Cardiologie")


@pytest.fixture
def route(unit):
    return MailboxRoute.objects.create(address=MAILBOX, care_unit=unit)


@pytest.fixture
def patient(unit):
    patient = PatientFactory(
        ipp="000100", ipp_authority="010000016", birth_name="MARTIN", first_names="JEANNE MARIE",
        birth_date=date(1980, 5, 4), sex="F", birth_place_insee="75056", ins=NIR, ins_oid=NIR_OID,
        identity_status="qualifiee",
    )  # fmt: skip
    EpisodeFactory(patient=patient, care_unit=unit)
    return patient


@pytest.fixture
def document_for():
    """``document_for(patient, alter="", **cda_options) -> Mdm``: a CDA about the patient in its MDM."""

    def build(patient, alter: str = "", mdm_options: dict | None = None, **cda_options) -> Mdm:
        identity = patient_identity(patient, alter)
        id_root, cda = patient_document(identity, **cda_options)
        return mdm_for(identity, cda, id_root, **(mdm_options or {}))

    return build


@pytest.fixture
def samples_dir() -> Path:
    directory = Path(settings.SAMPLES_DIR) / "hl7v2"
    if not list(directory.glob("lpsmss_MDM_*")):
        pytest.skip(f"national samples of the LPS MSSanté volet not found in {directory} (set DPI_SAMPLES_DIR)")
    return directory
