"""Every CDA the DPI produces passes the national validation chain with zero errors (SC.CDA/DD.02, DOC/va1.04,
va1.07, va1.08): the CDA schema, the five profiles of the ANS TestContenuCDA 3.0 kit and, for a structured
document of a volet, the volet's schematron. The documents are made by the real workflow (draft, then
validation), for each Ségur type at the level the DPI produces it.

The kit is run in this process through its ``validate(path, volet)`` (``DPI_CDA_VALIDATORS_DIR``, by default
``../shared/validators/cda-ans``); the compiled schematrons are loaded once per process (about 10 s), each
later document takes a fraction of a second. National examples are run too, as a control that the chain
accepts what it should and refuses a broken document.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest
from django.conf import settings
from django.utils import timezone
from lxml import etree

from documents.cda import parse_cda_header
from documents.services import Recipients, create_draft, start_correction, update_draft, validate_document
from documents.types import SEGUR_TYPES
from tests.factories import CorrespondentFactory, EpisodeFactory, MembershipFactory, PatientFactory

LDL_SES = "CI-SIS_LDL-SES_2022.01"
H = {"h": "urn:hl7-org:v3"}

# One complete draft per produced type; each field is a section of the PDF and of the CDA.
FIELDS = {
    "11490-0": {
        "motif": "Pneumopathie communautaire hypoxémiante.",
        "synthese": "Évolution favorable sous antibiothérapie.\n\nApyrexie depuis 48 h, sevrage de l'oxygène.",
        "modalite_entree": "urgence",
        "modalite_sortie": "domicile",
        "recherche_bmr": "oui",
        "bmr": "Pas de BMR retrouvée.",
        "transfusion": "non",
        "derives_sang": "non",
        "evenements_indesirables": "Aucun.",
        "traitements": "Amoxicilline 1 g ; 1 cp 3 fois par jour ; 7 jours\nParacétamol 1 g ; si douleur",
        "suites": "Consultation de contrôle à 10 jours.",
    },
    "34874-8": {
        "indication": "Cholécystite aiguë lithiasique.",
        "intervention": "Cholécystectomie par cœlioscopie.",
        "description": "Open coelioscopie, 4 trocarts. Dissection du triangle de Calot, clips, ablation.",
        "suites": "Lever J0, sortie J1.",
    },
    "57833-6": {
        "lignes": "Amoxicilline 1 g ; 1 cp 3 fois par jour ; 7 jours\nParacétamol 1 g ; si douleur ; 5 jours",
        "remarques": "Pas de renouvellement.",
    },
    "11488-4": {
        "motif": "Suivi d'insuffisance cardiaque.",
        "examen": "Pas d'œdème, auscultation normale.",
        "conclusion": "Insuffisance cardiaque stable.",
        "suites": "Revoir dans 6 mois.",
    },
}


def produced_levels(type_code: str) -> list[str]:
    """The levels the workflow gives a type: N3 of its volet when it has one, else N1 (docs/cda.md)."""
    return ["N3"] if SEGUR_TYPES[type_code].volet else ["N1"]


MATRIX = [(code, level) for code in SEGUR_TYPES for level in produced_levels(code)]


@pytest.fixture(scope="session")
def chain() -> ModuleType:
    """The kit's validate_cda module, loaded once per test process; skipped, with the reason, where absent."""
    script = Path(settings.CDA_VALIDATORS_DIR) / "validate_cda.py"
    if not script.is_file():
        pytest.skip(f"Chaîne de validation CDA nationale absente ({script}) : conformité non testée")
    if importlib.util.find_spec("saxonche") is None:
        pytest.skip("saxonche absent (dépendance de développement) : conformité CDA non testée")
    spec = importlib.util.spec_from_file_location("validate_cda", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_chain(chain: ModuleType, path: Path, volet: str | None) -> tuple[dict[str, list[str]], dict[str, int]]:
    report = chain.validate(path, volet)
    fired = {name: int(count) for name, count in (line.split("=") for line in report.pop("_fired"))}
    return report, fired


def errors_of(report: dict[str, list[str]]) -> dict[str, list[str]]:
    return {validator: errors for validator, errors in report.items() if errors}


def produce(episode, author, type_code: str, tmp_path: Path, **changes) -> tuple[Path, bytes]:
    """Draft, then validate, as a user does: the version's CDA written to a file for the kit."""
    values = {"title": SEGUR_TYPES[type_code].short_label, "fields": FIELDS[type_code], "act_date": timezone.now()}
    values.update(changes)
    document = create_draft(patient=episode.patient, episode=episode, type_code=type_code, acting_user=author, **values)
    version = validate_document(document=document, acting_user=author)
    return _written(tmp_path, f"{type_code}-v{version.version_number}.xml", bytes(version.cda)), bytes(version.cda)


def _written(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def volet_of(cda: bytes) -> str | None:
    """The volet schematron a document declares (LDL-SES template), none for an N1."""
    templates = etree.fromstring(cda).xpath("/h:ClinicalDocument/h:templateId/@root", namespaces=H)
    return LDL_SES if "1.2.250.1.213.1.1.1.29" in templates else None


# --- What the DPI produces --------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("type_code", "level"), MATRIX, ids=[f"{code}-{level}" for code, level in MATRIX])
def test_every_produced_document_passes_the_chain(chain, qualified_episode, doctor, tmp_path, type_code, level):
    path, cda = produce(qualified_episode, doctor, type_code, tmp_path)
    assert parse_cda_header(cda).level == level
    volet = volet_of(cda)
    assert (volet is not None) == (level == "N3")

    report, fired = run_chain(chain, path, volet)

    assert errors_of(report) == {}
    # the rules really ran: the header profiles always, the body's templates in an N3, the volet's own rules
    assert fired["StructurationMinimale"] > 50 and fired["terminologies"] > 0 and fired["ModelesDeContenusCDA"] > 0
    if level == "N3":
        assert fired["IHE"] > 0 and fired["Modeles_ANS"] > 0 and fired[volet] > 0


@pytest.mark.django_db
@pytest.mark.parametrize(("type_code", "level"), MATRIX, ids=[f"{code}-{level}" for code, level in MATRIX])
def test_documents_naming_their_recipients_pass_the_chain(chain, qualified_episode, doctor, tmp_path, type_code, level):
    """informationRecipient (HOP/va1.05): a GP with RPPS, civility, title and practice; an organisation without
    a person; the patient (listed in the PDF only)."""
    gp = CorrespondentFactory()
    centre = CorrespondentFactory(rpps="", family_name="", civility="", title="", organization="Centre de rééducation")
    recipients = Recipients(("tiers@hopital.mssante.fr",), patient=True, correspondents=(gp, centre))
    path, cda = produce(qualified_episode, doctor, type_code, tmp_path, recipients=recipients)
    assert len(etree.fromstring(cda).xpath("/h:ClinicalDocument/h:informationRecipient", namespaces=H)) == 2

    report, fired = run_chain(chain, path, volet_of(cda))

    assert errors_of(report) == {}
    assert fired["StructurationMinimale"] > 50


@pytest.mark.django_db
def test_a_replacement_without_ins_passes_the_chain_too(chain, care_unit, doctor, tmp_path):
    """Version 2 (relatedDocument RPLC) of a letter for a patient whose identity is not qualified."""
    episode = EpisodeFactory(care_unit=care_unit, patient=PatientFactory(ins="", identity_status="provisoire"))
    path, cda = produce(episode, doctor, "11490-0", tmp_path)
    document = start_correction(document=_document_of(cda, episode), acting_user=doctor)
    fields = {**FIELDS["11490-0"], "suites": "Consultation de contrôle à 15 jours."}
    update_draft(document=document, title="Lettre corrigée", fields=fields, act_date=timezone.now(), acting_user=doctor)
    version = validate_document(document=document, acting_user=doctor)
    header = parse_cda_header(bytes(version.cda))
    assert header.replaced_id is not None and header.patient.ins is None

    report, _fired = run_chain(chain, _written(tmp_path, "v2.xml", bytes(version.cda)), volet_of(bytes(version.cda)))

    assert errors_of(report) == {}


@pytest.mark.django_db
def test_a_letter_a_nurse_wrote_and_a_physician_validated_passes_the_chain(chain, care_unit, doctor, tmp_path):
    """Two people (HOP/va1.04): the nurse is the CDA's author, the physician its legalAuthenticator."""
    nurse = MembershipFactory(care_unit=care_unit, user__profession="60").user
    episode = EpisodeFactory(care_unit=care_unit)
    draft = create_draft(patient=episode.patient, episode=episode, type_code="11490-0", acting_user=nurse,
                         title="Lettre", fields=FIELDS["11490-0"], act_date=timezone.now())  # fmt: skip
    cda = bytes(validate_document(document=draft, acting_user=doctor).cda)

    report, _fired = run_chain(chain, _written(tmp_path, "two.xml", cda), volet_of(cda))

    assert errors_of(report) == {}


def _document_of(cda: bytes, episode):
    """The document a produced CDA belongs to (its set id)."""
    return episode.patient.documents.get(set_id=parse_cda_header(cda).set_id.root)


# --- Control: the national examples -----------------------------------------------------------------


def national_example(name: str) -> Path:
    path = Path(settings.SAMPLES_DIR) / "cda" / "ExemplesCDA" / name
    if not path.is_file():
        pytest.skip(f"Exemple CDA national absent : {path}")
    return path


@pytest.mark.parametrize(
    ("name", "volet"),
    [("DOC_NON_STRUCTURE_CDA-R2-N1.xml", None), ("LDL-SES_2022.01.xml", LDL_SES)],
    ids=["N1", "LDL-SES"],
)
def test_national_examples_pass_the_chain(chain, name, volet):
    report, fired = run_chain(chain, national_example(name), volet)

    assert errors_of(report) == {}
    assert fired["StructurationMinimale"] > 50


def test_a_broken_national_example_is_refused(chain, tmp_path):
    """Without its discharge treatments section, the LDL-SES example fails the volet (the chain does refuse)."""
    tree = etree.parse(str(national_example("LDL-SES_2022.01.xml")))
    for section in tree.xpath("//h:section[h:templateId/@root='1.3.6.1.4.1.19376.1.5.3.1.3.22']", namespaces=H):
        section.getparent().getparent().remove(section.getparent())
    path = tmp_path / "broken.xml"
    tree.write(str(path), xml_declaration=True, encoding="UTF-8")

    report, _fired = run_chain(chain, path, LDL_SES)

    assert any(re.search(r"FR-Traitements-a-la-sortie", error) for error in report[LDL_SES])
