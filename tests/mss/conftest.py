"""Fixtures of the MSSanté inbound tests: a structure, a routed mailbox, a qualified patient, and the CDA
of a patient in its MDM (sent with ``tests.support.engine.send``)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from django.conf import settings

from mss.models import MailboxRoute
from sandbox.mss_push import Mdm, mdm_for, patient_document, patient_identity
from tests.factories import CareUnitFactory, EpisodeFactory, LegalEntityFactory, PatientFactory, SiteFactory
from tests.mss.data import MAILBOX, NIR, NIR_OID


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
