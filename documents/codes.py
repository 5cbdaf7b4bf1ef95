"""Labels of the national value sets for the codes the DPI writes in its CDA documents.

The CI-SIS asks every coded element to carry its ``displayName``, the label the value set gives the
code: it is never made up. These tables copy, for the codes the DPI uses, the labels of the value sets
of the CI-SIS test kit (ANS TestContenuCDA 3.0, ``jeuxDeValeurs/``, commit 7cd489b3 of 2025-02-19;
the same files as ``../shared/samples/cda-valuesets/``). ``tests/documents/test_codes.py`` checks each
entry against those files where they are installed. A code missing here has no label: the CDA is then
refused (author) or written without ``displayName`` and rejected by the national validators, so adding a
code means copying its label from the value set, with its revision.
"""

from __future__ import annotations

from dataclasses import dataclass

LOINC = "2.16.840.1.113883.6.1"
SNOMED_CT = "2.16.840.1.113883.6.96"
AUTHOR_SPECIALTY_SYSTEM = "1.2.250.1.213.1.1.4.5"  # TRE_G15 / TRE_R38 combined (authorSpecialty)
PRACTICE_SETTING_SYSTEM = "1.2.250.1.213.1.1.4.9"  # TRE_A01-CadreExercice
FACILITY_TYPE_SYSTEM = "1.2.250.1.71.4.2.4"  # TRE_R02-SecteurActivite
ACT_CODE_SYSTEM = "2.16.840.1.113883.5.4"  # HL7 ActCode
CISIS_ENCOUNTER_SYSTEM = "1.2.250.1.213.1.1.4.2.291"  # TRE_A00 codes EXTERNE, SEANCE
GENDER_SYSTEM = "2.16.840.1.113883.5.1"
CONFIDENTIALITY_SYSTEM = "2.16.840.1.113883.5.25"
TA_ASIP = "1.2.250.1.213.1.1.4.322"  # terminologie des entrées ANS (ORG-070, MED-142...)
CIM_ENTRY_MODE_SYSTEM = "1.2.250.1.213.1.6.1.8"  # exit destinations of JDV_ModaliteSortie (109, 127, 500)


@dataclass(frozen=True)
class Concept:
    code: str
    code_system: str
    label: str


def _concepts(system: str, labels: dict[str, str]) -> dict[str, Concept]:
    return {code: Concept(code, system, label) for code, label in labels.items()}


# JDV_J07-XdsTypeCode-CISIS (1.2.250.1.213.1.1.5.471), revision 2024-09-27: the Ségur types the DPI writes.
DOCUMENT_TYPES = _concepts(
    LOINC,
    {
        "11490-0": "Lettre de liaison à la sortie d'un établissement de soins",
        "34874-8": "CR opératoire",
        "57833-6": "Prescription de produits de santé",
        "11488-4": "CR ou fiche de consultation ou de visite",
    },
)

# JDV_J01-XdsAuthorSpecialty-CISIS (1.2.250.1.213.1.1.5.461), revision 2024-12-13: the professions of
# dpi.codes.Profession alone, and a physician with each specialty of dpi.codes.Specialty.
AUTHOR_SPECIALTIES = _concepts(
    AUTHOR_SPECIALTY_SYSTEM,
    {
        "G15_10": "Médecin",
        "G15_21": "Pharmacien",
        "G15_40": "Chirurgien-Dentiste",
        "G15_50": "Sage-Femme",
        "G15_60": "Infirmier",
        "G15_70": "Masseur-Kinésithérapeute",
        "G15_98": "Manipulateur ERM",
        "G15_10/SM02": "Médecin - Anesthésie-réanimation (SM)",
        "G15_10/SM04": "Médecin - Cardiologie et maladies vasculaires (SM)",
        "G15_10/SM05": "Médecin - Chirurgie générale (SM)",
        "G15_10/SM08": "Médecin - Chirurgie orthopédique et Traumatologie (SM)",
        "G15_10/SM14": "Médecin - Chirurgie viscérale et digestive (SM)",
        "G15_10/SM18": "Médecin - Gériatrie (SM)",
        "G15_10/SM20": "Médecin - Gynécologie-obstétrique (SM)",
        "G15_10/SM24": "Médecin - Gastro-entérologie et hépatologie (SM)",
        "G15_10/SM26": "Médecin - Qualifié en Médecine Générale (SM)",
        "G15_10/SM27": "Médecin - Médecine interne (SM)",
        "G15_10/SM32": "Médecin - Neurologie (SM)",
        "G15_10/SM40": "Médecin - Pédiatrie (SM)",
        "G15_10/SM41": "Médecin - Pneumologie (SM)",
        "G15_10/SM42": "Médecin - Psychiatrie (SM)",
        "G15_10/SM44": "Médecin - Radio-diagnostic (SM)",
        "G15_10/SM59": "Médecin - Médecine d'urgence (SM)",
    },
)

# JDV_J04-XdsPracticeSettingCode-CISIS (1.2.250.1.213.1.1.5.467), revision 2024-09-27 (TRE_A01 codes).
PRACTICE_SETTINGS = _concepts(
    PRACTICE_SETTING_SYSTEM,
    {
        "AMBULATOIRE": "Ambulatoire",
        "AMO": "Organisme d'assurance maladie obligatoire",
        "DEPISTAGE": "Dépistage",
        "ESSMS": "Etablissement ou Service Social ou Médico-Social",
        "ETABLISSEMENT": "Etablissement de santé",
        "HAD": "Hospitalisation à domicile",
        "MAD": "Maintien à domicile",
        "PALLIATIF": "Soins palliatifs",
        "SAD": "Soins à domicile",
        "SAMU_SMUR": "SAMU/SMUR",
    },
)

# JDV_J02-XdsHealthcareFacilityTypeCode-CISIS (1.2.250.1.213.1.1.5.466), revision 2024-12-13: the
# activity sectors (TRE_R02) of a health establishment (settings.DMP_SECTEUR_ACTIVITE).
FACILITY_TYPES = _concepts(
    FACILITY_TYPE_SYSTEM,
    {
        "SA01": "Etablissement public de santé",
        "SA02": "Hôpital militaire du Service de santé des armées",
        "SA03": "Etablissement privé PSPH",
        "SA04": "Etablissement privé non PSPH",
        "SA05": "Centre de santé",
        "SA30": "Autre établissement sanitaire",
        "SA34": "Centre de dialyse",
        "SA36": "Centre anti-cancer",
    },
)

# JDV_EncompassingEncounterCode-CISIS (1.2.250.1.213.1.1.5.18), revision 2024-07-19: the whole set.
ENCOUNTER_KINDS = {
    **_concepts(
        ACT_CODE_SYSTEM,
        {
            "AMB": "Ambulatoire (hors établissement)",
            "EMER": "Passage aux urgences (établissement)",
            "FLD": "Terrain (voie publique, hélicoptère, ambulance, etc.)",
            "HH": "Soins à domicile (hors établissement)",
            "IMP": "Hospitalisation (établissement, y compris HAD)",
            "SS": "Consultation en hôpital de jour ou court séjour",
            "VR": "Virtuelle (exemple : RCP en l'absence du patient)",
        },
    ),
    **_concepts(
        CISIS_ENCOUNTER_SYSTEM,
        {"EXTERNE": "Acte et consultation externe (établissement)", "SEANCE": "Séance (établissement ou libéral)"},
    ),
}

# JDV_HL7_AdministrativeGender-CISIS (2.16.840.1.113883.1.11.1): the DPI's sex U is the HL7 code UN.
GENDERS = _concepts(GENDER_SYSTEM, {"F": "Féminin", "M": "Masculin", "UN": "Inconnu"})
GENDER_CODES = {"F": "F", "M": "M", "U": "UN"}

# JDV_HL7_Confidentiality-CISIS (2.16.840.1.113883.1.11.10228), revision 2022-09-28: the codes a
# produced document may carry (DMP visibility goes in the transmission metadata, never here).
CONFIDENTIALITIES = _concepts(CONFIDENTIALITY_SYSTEM, {"N": "Normal", "R": "Restreint", "V": "Très restreint"})

# --- LDL-SES (CI-SIS volet "Lettre de liaison à la sortie d'un établissement de santé" 2022.01) ------

# JDV_StatutDoc-CISIS (1.2.250.1.213.1.1.5.93), revision 2023-01-31. The section's three statuses are
# "en cours", "complété", "validé" (S_statutDoc_ANS): a letter the DPI produces is validated, "approuvé".
DOCUMENT_STATUS_VALIDATED = Concept("9571008", SNOMED_CT, "approuvé")

# TA_ASIP (1.2.250.1.213.1.1.4.322): the codes of the volet's entries, with the labels of the volet's
# national example (ExemplesCDA/LDL-SES_2022.01.xml; the kit ships no TA_ASIP file).
DOCUMENT_STATUS = Concept("GEN-065", TA_ASIP, "Statut du document")
ENTRY_MODE = Concept("ORG-070", TA_ASIP, "Modalité d'entrée")
EXIT_MODE = Concept("ORG-074", TA_ASIP, "Modalité de sortie")
STAY_SYNTHESIS = Concept("MED-142", TA_ASIP, "Synthèse médicale")
ADVERSE_EVENTS = Concept("MED-143", TA_ASIP, "Evènements indésirables survenus pendant l'hospitalisation")
MDRO_SEARCH = Concept("MED-309", TA_ASIP, "Recherche de microorganismes multi-résistants ou émergents effectuée")
MDRO_FOUND = Concept("MED-144", TA_ASIP, "Identification de micro-organismes multirésistants")
TRANSFUSION = Concept("MED-145", TA_ASIP, "Transfusion de produits sanguins")
TRANSFUSION_INCIDENTS = Concept("MED-146", TA_ASIP, "Accidents transfusionnels")
BLOOD_DERIVATIVES = Concept("MED-147", TA_ASIP, "Administration de dérivés du sang")
DERIVATIVE_INCIDENTS = Concept(
    "MED-148", TA_ASIP, "Evènements indésirables suite à l'administration de dérivés du sang"
)

# HL7 ActCode of a FR-Traitement entry, as in the volet's national example.
DRUG = Concept("DRUG", ACT_CODE_SYSTEM, "Médicament")
# JDV_AbsentOrUnknownMedication-CISIS (1.2.250.1.213.1.1.5.664), revision 2021-12-22: what a letter
# says when its author listed no discharge treatment (the entry's product is then nullFlavor NI: a
# health product is coded in CIS or not at all).
NO_MEDICATION_INFO = Concept(
    "no-medication-info", "2.16.840.1.113883.5.1150.1", "Pas d'information sur les traitements médicamenteux"
)

# LOINC codes of the volet's sections, with the labels of the volet's national example.
SECTION_DOCUMENT_STATUS = Concept("33557-0", LOINC, "Etat d'achèvement")
SECTION_REASON_FOR_REFERRAL = Concept("42349-1", LOINC, "Raison de la recommandation")
SECTION_EVENT_OUTCOMES = Concept("42545-4", LOINC, "Evènements observés")
SECTION_DISCHARGE_MEDICATIONS = Concept("10183-2", LOINC, "Traitements à la sortie")
SECTION_CARE_PLAN = Concept("18776-5", LOINC, "Plan de soins")

# JDV_ModaliteEntree-CISIS (1.2.250.1.213.1.1.5.73), revision 2024-09-10.
ENTRY_MODES = {
    "urgence": Concept("183452005", SNOMED_CT, "hospitalisation en urgence"),
    "programmee": Concept("8715000", SNOMED_CT, "hospitalisation programmée"),
    "transfert": Concept("107724000", SNOMED_CT, "transfert du patient"),
    "autre": Concept("GEN-092.06.07", TA_ASIP, "Autre modalité d'entrée"),
}

# JDV_ModaliteSortie-CISIS (1.2.250.1.213.1.1.5.74), revision 2023-11-14.
EXIT_MODES = {
    "domicile": Concept("160849004", SNOMED_CT, "retour au domicile"),
    "ssr": Concept("109", CIM_ENTRY_MODE_SYSTEM, "Etablissement de santé privé autorisé en SSR"),
    "had": Concept("127", CIM_ENTRY_MODE_SYSTEM, "Hospitalisation à Domicile"),
    "ehpad": Concept("500", CIM_ENTRY_MODE_SYSTEM, "Etablissement d'hébergement pour personnes âgées dépendantes"),
    "etablissement": Concept("GEN-092.06.01", TA_ASIP, "Autre établissement de santé"),
    "autre": Concept("GEN-092.06.03", TA_ASIP, "Autre destination"),
}


def author_specialty(profession: str, specialty: str = "") -> Concept | None:
    """The authorSpecialty of a professional: profession and specialty when the value set has the pair,
    else the profession alone (a pair J01 does not list, e.g. a specialty of another profession)."""
    if specialty and (concept := AUTHOR_SPECIALTIES.get(f"G15_{profession}/{specialty}")):
        return concept
    return AUTHOR_SPECIALTIES.get(f"G15_{profession}") if profession else None
