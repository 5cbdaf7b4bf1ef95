"""The Ségur documents the DPI writes, with their structured fields (each field is a CDA/PDF section)."""

from __future__ import annotations

from dataclasses import dataclass

from documents import codes


@dataclass(frozen=True)
class FieldSpec:
    """One structured field: a titled section, text or a table (one row per line, cells separated by ";")."""

    name: str
    label: str
    section_code: str  # LOINC code of the section
    columns: tuple[str, ...] = ()  # a table when set
    required: bool = False
    choices: tuple[tuple[str, str], ...] = ()  # (value, label): one of them, when set

    @property
    def is_table(self) -> bool:
        return bool(self.columns)

    @property
    def is_choice(self) -> bool:
        return bool(self.choices)

    def choice_label(self, value: str) -> str:
        return dict(self.choices).get(value, "")


@dataclass(frozen=True)
class SegurType:
    code: str  # LOINC code (JDV_J07-XdsTypeCode-CISIS)
    label: str
    short_label: str
    fields: tuple[FieldSpec, ...]
    volet: str = ""  # the CI-SIS volet of its structured (N3) rendering; none: produced as N1 only


MEDICATION_COLUMNS = ("Médicament", "Posologie", "Durée")
YES_NO = (("oui", "Oui"), ("non", "Non"))
STAY = "42545-4"  # the LDL-SES section "Synthèse médicale du séjour" (coded event outcomes)
STAY_TITLE = "Synthèse médicale du séjour"


def _choices(concepts: dict[str, codes.Concept]) -> tuple[tuple[str, str], ...]:
    """Form choices from a national value set: the key stored in the draft, the value set's label."""
    return tuple((key, concept.label[:1].upper() + concept.label[1:]) for key, concept in concepts.items())


SEGUR_TYPES: dict[str, SegurType] = {
    t.code: t
    for t in (
        SegurType(
            "11490-0",
            "Lettre de liaison à la sortie d'un établissement de soins",
            "Lettre de liaison",
            (
                FieldSpec("motif", "Motif d'hospitalisation", "42349-1", required=True),
                FieldSpec(
                    "modalite_entree", "Modalité d'entrée", STAY, required=True, choices=_choices(codes.ENTRY_MODES)
                ),
                FieldSpec("synthese", "Synthèse du séjour", STAY, required=True),
                FieldSpec(
                    "modalite_sortie", "Modalité de sortie", STAY, required=True, choices=_choices(codes.EXIT_MODES)
                ),
                FieldSpec("evenements_indesirables", "Événements indésirables pendant l'hospitalisation", STAY),
                FieldSpec(
                    "recherche_bmr",
                    "Recherche de micro-organismes multirésistants ou émergents effectuée",
                    STAY,
                    required=True,
                    choices=YES_NO,
                ),
                FieldSpec("bmr", "Micro-organismes multirésistants identifiés", STAY),
                FieldSpec("transfusion", "Transfusion de produits sanguins", STAY, required=True, choices=YES_NO),
                FieldSpec("accidents_transfusionnels", "Accidents transfusionnels", STAY),
                FieldSpec("derives_sang", "Administration de dérivés du sang", STAY, required=True, choices=YES_NO),
                FieldSpec("ei_derives_sang", "Événements indésirables des dérivés du sang", STAY),
                FieldSpec("traitements", "Traitements à la sortie", "10183-2", columns=MEDICATION_COLUMNS),
                FieldSpec("suites", "Suites à donner", "18776-5"),
            ),
            volet="LDL-SES",
        ),
        SegurType(
            "34874-8",
            "Compte rendu opératoire",
            "CR opératoire",
            (
                FieldSpec("indication", "Indication opératoire", "59768-2", required=True),
                FieldSpec("intervention", "Intervention réalisée", "29554-3", required=True),
                FieldSpec("description", "Description de l'intervention", "8724-7", required=True),
                FieldSpec("suites", "Suites opératoires et consignes", "18776-5"),
            ),
        ),
        SegurType(
            "57833-6",
            "Prescription de sortie (produits de santé)",
            "Ordonnance de sortie",
            (
                FieldSpec("lignes", "Prescriptions", "10183-2", columns=MEDICATION_COLUMNS, required=True),
                FieldSpec("remarques", "Remarques", "48767-8"),
            ),
        ),
        SegurType(
            "11488-4",
            "Compte rendu de consultation",
            "CR de consultation",
            (
                FieldSpec("motif", "Motif de consultation", "29299-5", required=True),
                FieldSpec("examen", "Examen clinique", "29545-1"),
                FieldSpec("conclusion", "Conclusion", "51848-0", required=True),
                FieldSpec("suites", "Conduite à tenir", "18776-5"),
            ),
        ),
    )
}
SEGUR_TYPE_CHOICES = [(code, segur.label) for code, segur in SEGUR_TYPES.items()]


def parse_table(text: str, width: int) -> tuple[tuple[str, ...], ...]:
    """Lines of ``a ; b ; c`` as rows of exactly ``width`` cells (missing cells empty, extra ones joined)."""
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        cells = [cell.strip() for cell in line.split(";")]
        cells = [*cells[: width - 1], " ; ".join(cells[width - 1 :])] if len(cells) > width else cells
        rows.append(tuple(cells + [""] * (width - len(cells))))
    return tuple(rows)
