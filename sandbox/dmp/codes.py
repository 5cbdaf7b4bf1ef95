"""The nomenclatures the sandbox DMP uses: document types and their XDS class, format and other codes.

A small catalogue, enough for a varied DMP: each LOINC type with the class of ASS_X04 and the format
of its level (N1: PDF in a CDA, N3: structured).
"""

from __future__ import annotations

from dataclasses import dataclass

FORMAT_SYSTEM = "1.3.6.1.4.1.19376.1.2.3"
N1_FORMAT = "urn:ihe:iti:xds-sd:pdf:2008"
N3_FORMAT = "urn:ihe:iti:xds:2017:mimeTypeSufficient"

CLASS_LABELS = {
    "10": "Compte rendu",
    "11": "Synthèse",
    "42": "Prescription",
    "43": "Dispensation",
    "45": "Traitement administré",
    "90": "Autre document",
}
PRACTICE_SETTING_LABELS = {
    "ETABLISSEMENT": "Établissement de santé",
    "AMBULATOIRE": "Ambulatoire",
    "LABORATOIRE": "Laboratoire",
}
FACILITY_TYPE_LABELS = {
    "SA01": "Établissement public de santé",
    "SA04": "Établissement privé non PSPH",
    "SA29": "Laboratoire d'analyses médicales",
    "SA07": "Cabinet individuel",
    "SA33": "Officine",
}
CONTENT_TYPE_LABELS = {"04": "Hospitalisation de jour", "07": "Consultation", "19": "Hospitalisation complète"}


@dataclass(frozen=True)
class DocumentKind:
    """A document type of the DMP: LOINC type, XDS class, and what the seeded ones look like."""

    code: str
    label: str
    class_code: str
    sections: tuple[tuple[str, str], ...]  # N3 sections: (LOINC code, title)
    level: str = "N3"

    @property
    def class_label(self) -> str:
        return CLASS_LABELS[self.class_code]


KINDS = {
    kind.code: kind
    for kind in (
        DocumentKind(
            "11490-0",
            "Lettre de liaison à la sortie d'un établissement de soins",
            "10",
            (("10164-2", "Histoire de la maladie"), ("18776-5", "Plan de soins")),
        ),
        DocumentKind(
            "34112-3",
            "Compte rendu d'hospitalisation",
            "10",
            (("46241-6", "Motif d'hospitalisation"), ("8648-8", "Évolution")),
        ),
        DocumentKind(
            "34874-8",
            "Compte rendu opératoire",
            "10",
            (("29554-3", "Intervention"), ("10219-4", "Suites opératoires")),
            "N1",
        ),
        DocumentKind(
            "11488-4",
            "Compte rendu de consultation",
            "10",
            (("29299-5", "Motif de consultation"), ("51848-0", "Conclusion")),
        ),
        DocumentKind(
            "60591-5",
            "Synthèse médicale",
            "11",
            (("11450-4", "Problèmes actifs"), ("10160-0", "Traitements au long cours")),
        ),
        DocumentKind(
            "11502-2",
            "Compte rendu d'examens biologiques",
            "10",
            (("18719-5", "Biochimie"), ("18723-7", "Hématologie")),
            "N1",
        ),
        DocumentKind(
            "18748-4",
            "Compte rendu d'imagerie médicale",
            "10",
            (("55111-9", "Technique"), ("18782-3", "Résultats")),
            "N1",
        ),
        DocumentKind("57833-6", "Prescription de produits de santé", "42", (("57828-6", "Prescriptions"),), "N1"),
        DocumentKind("60593-1", "Dispensation médicamenteuse", "43", (("60590-7", "Médicaments dispensés"),)),
        DocumentKind("11369-6", "Historique des vaccinations", "11", (("11369-6", "Vaccinations"),)),
        DocumentKind("87273-9", "Note de vaccination", "45", (("11369-6", "Vaccination"),)),
        DocumentKind(
            "34794-8",
            "Compte rendu de réunion de concertation pluridisciplinaire",
            "10",
            (("51848-0", "Proposition thérapeutique"),),
        ),
        DocumentKind("11506-3", "Note d'évolution", "10", (("8648-8", "Évolution"),)),
        DocumentKind("34133-9", "Synthèse d'épisode de soins", "11", (("10164-2", "Résumé"),), "N1"),
    )
}
IMAGING = "18748-4"
VACCINATION_NOTE = "87273-9"


def format_code(level: str) -> str:
    """The XDS formatCode of a CDA level: N1 is a PDF in a CDA (XDS-SD), N3 a structured document."""
    return N1_FORMAT if level == "N1" else N3_FORMAT


def kind_of(code: str) -> DocumentKind:
    """The kind of a LOINC type; an unknown type is an "other" document with one section."""
    return KINDS.get(code) or DocumentKind(code, f"Document {code}", "90", (("55112-7", "Document"),))
