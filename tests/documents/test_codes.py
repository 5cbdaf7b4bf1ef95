"""The labels the DPI writes as displayName are those of the national value sets (documents/codes.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from documents import codes
from documents.codes import Concept
from dpi.codes import Profession, Specialty
from dpi.xmlsafe import parse_xml

SVS = {"svs": "urn:ihe:iti:svs:2008"}

# table of documents/codes.py -> the value set file it copies
TABLES = [
    ("DOCUMENT_TYPES", "JDV_J07_XdsTypeCode_CISIS.xml"),
    ("AUTHOR_SPECIALTIES", "JDV_J01_XdsAuthorSpecialty_CISIS.xml"),
    ("PRACTICE_SETTINGS", "JDV_J04_XdsPracticeSettingCode_CISIS.xml"),
    ("FACILITY_TYPES", "JDV_J02_XdsHealthcareFacilityTypeCode_CISIS.xml"),
    ("ENCOUNTER_KINDS", "JDV_EncompassingEncounterCode_CISIS.xml"),
    ("CONFIDENTIALITIES", "JDV_HL7_Confidentiality_CISIS.xml"),
    ("GENDERS", "JDV_HL7_AdministrativeGender_CISIS.xml"),
    ("ENTRY_MODES", "JDV_ModaliteEntree_CISIS.xml"),
    ("EXIT_MODES", "JDV_ModaliteSortie_CISIS.xml"),
]
SINGLE = [
    ("DOCUMENT_STATUS_VALIDATED", "JDV_StatutDoc_CISIS.xml"),
    ("NO_MEDICATION_INFO", "JDV_AbsentOrUnknownMedication_CISIS.xml"),
]


def value_set(name: str) -> dict[tuple[str, str], str]:
    """``(code, codeSystem) -> displayName`` of a national value set: the samples' copy, else the kit's."""
    for folder in (Path(settings.SAMPLES_DIR) / "cda-valuesets", Path(settings.CDA_VALIDATORS_DIR) / "jeuxDeValeurs"):
        path = folder / name
        if path.is_file():
            concepts = parse_xml(path.read_bytes()).xpath("//svs:Concept", namespaces=SVS)
            return {(c.get("code"), c.get("codeSystem")): c.get("displayName") for c in concepts}
    pytest.skip(f"Jeu de valeurs national absent : {name} (DPI_SAMPLES_DIR, DPI_CDA_VALIDATORS_DIR)")


def _ids(items: list[tuple[str, str]]) -> list[str]:
    return [table for table, _file in items]


@pytest.mark.parametrize(("table", "file"), TABLES, ids=_ids(TABLES))
def test_every_label_is_the_one_of_its_value_set(table, file):
    national = value_set(file)
    concepts: dict[str, Concept] = getattr(codes, table)

    assert {key: (c.code, c.code_system, c.label) for key, c in concepts.items()} == {
        key: (c.code, c.code_system, national.get((c.code, c.code_system))) for key, c in concepts.items()
    }


@pytest.mark.parametrize(("name", "file"), SINGLE, ids=_ids(SINGLE))
def test_single_concepts_come_from_their_value_set(name, file):
    concept: Concept = getattr(codes, name)
    assert value_set(file).get((concept.code, concept.code_system)) == concept.label


def test_every_profession_and_physician_specialty_of_a_user_has_an_author_code():
    for profession in Profession.values:
        assert codes.author_specialty(profession) is not None, profession
    for specialty in Specialty.values:
        assert codes.author_specialty(Profession.MEDECIN, specialty).code == f"G15_10/{specialty}"


def test_a_pair_the_value_set_lacks_falls_back_on_the_profession_and_no_profession_has_no_code():
    assert codes.author_specialty(Profession.INFIRMIER, Specialty.CARDIOLOGIE).code == "G15_60"
    assert codes.author_specialty("") is None


def test_the_hospital_activity_sector_of_the_settings_has_a_label():
    assert settings.DMP_SECTEUR_ACTIVITE in codes.FACILITY_TYPES
