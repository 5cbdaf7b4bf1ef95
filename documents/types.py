"""The Ségur documents the DPI writes, with their structured fields (each field is a CDA/PDF section)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldSpec:
    """One structured field: a titled section, text or a table (one row per line, cells separated by ";")."""

    name: str
    label: str
    section_code: str  # LOINC code of the section
    columns: tuple[str, ...] = ()  # a table when set
    required: bool = False

    @property
    def is_table(self) -> bool:
        return bool(self.columns)


@dataclass(frozen=True)
class SegurType:
    code: str  # LOINC code (JDV_J07-XdsTypeCode-CISIS)
    label: str
    short_label: str
    fields: tuple[FieldSpec, ...]


MEDICATION_COLUMNS = ("Médicament", "Posologie", "Durée")

SEGUR_TYPES: dict[str, SegurType] = {
    t.code: t
    for t in (
        SegurType(
            "11490-0",
            "Lettre de liaison à la sortie d'un établissement de soins",
            "Lettre de liaison",
            (
                FieldSpec("motif", "Motif d'hospitalisation", "29299-5", required=True),
                FieldSpec("synthese", "Synthèse du séjour", "8648-8", required=True),
                FieldSpec("traitements", "Traitements à la sortie", "10183-2", columns=MEDICATION_COLUMNS),
                FieldSpec("suites", "Suites à donner", "18776-5"),
            ),
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
