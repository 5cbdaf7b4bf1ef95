"""The published layout of the open-data extract ``PS_LibreAcces_Personne_activite`` and its parsing.

One line per person × activity, ``|``-separated with a trailing ``|``, UTF-8, a header line naming the
56 columns below in this order. :func:`parse_line` turns a line into the values the DPI keeps, or says
in French why it refuses it; the hashes let the load tell an unchanged line from a changed one without
comparing every column in SQL.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from dpi.validators import luhn_valid

COLUMNS = (
    "Type d'identifiant PP", "Identifiant PP", "Identification nationale PP",
    "Code civilité d'exercice", "Libellé civilité d'exercice", "Code civilité", "Libellé civilité",
    "Nom d'exercice", "Prénom d'exercice", "Code profession", "Libellé profession",
    "Code catégorie professionnelle", "Libellé catégorie professionnelle",
    "Code type savoir-faire", "Libellé type savoir-faire", "Code savoir-faire", "Libellé savoir-faire",
    "Code mode exercice", "Libellé mode exercice",
    "Numéro SIRET site", "Numéro SIREN site", "Numéro FINESS site", "Numéro FINESS établissement juridique",
    "Identifiant technique de la structure", "Raison sociale site", "Enseigne commerciale site",
    "Complément destinataire (coord. structure)", "Complément point géographique (coord. structure)",
    "Numéro Voie (coord. structure)", "Indice répétition voie (coord. structure)",
    "Code type de voie (coord. structure)", "Libellé type de voie (coord. structure)",
    "Libellé Voie (coord. structure)", "Mention distribution (coord. structure)",
    "Bureau cedex (coord. structure)", "Code postal (coord. structure)", "Code commune (coord. structure)",
    "Libellé commune (coord. structure)", "Code pays (coord. structure)", "Libellé pays (coord. structure)",
    "Téléphone (coord. structure)", "Téléphone 2 (coord. structure)", "Télécopie (coord. structure)",
    "Adresse e-mail (coord. structure)", "Code Département (structure)", "Libellé Département (structure)",
    "Ancien identifiant de la structure", "Autorité d'enregistrement",
    "Code secteur d'activité", "Libellé secteur d'activité",
    "Code section tableau pharmaciens", "Libellé section tableau pharmaciens",
    "Code rôle", "Libellé rôle", "Code genre activité", "Libellé genre activité",
)  # fmt: skip
HEADER = "|".join(COLUMNS) + "|\n"
COLUMN = {name: position for position, name in enumerate(COLUMNS)}
RPPS_TYPE = "8"
ADELI_TYPE = "0"
# Where each kept value comes from, and its longest length (the DPI's column).
PERSON_FIELDS = {
    "rpps": ("Identifiant PP", 11),
    "national_id": ("Identification nationale PP", 12),
    "civility": ("Code civilité", 3),
    "title": ("Code civilité d'exercice", 3),
    "family_name": ("Nom d'exercice", 100),
    "given_name": ("Prénom d'exercice", 100),
    "profession_code": ("Code profession", 4),
    "profession": ("Libellé profession", 100),
    "specialty_code": ("Code savoir-faire", 10),
    "specialty": ("Libellé savoir-faire", 150),
}
SITUATION_FIELDS = {
    "mode": ("Libellé mode exercice", 60),
    "role": ("Libellé rôle", 100),
    "structure_id": ("Identifiant technique de la structure", 20),
    "finess_site": ("Numéro FINESS site", 9),
    "finess_ej": ("Numéro FINESS établissement juridique", 9),
    "siret": ("Numéro SIRET site", 14),
    "organization": ("Raison sociale site", 200),
    "postal_code": ("Code postal (coord. structure)", 5),
    "city": ("Libellé commune (coord. structure)", 100),
    "phone": ("Téléphone (coord. structure)", 20),
    "email": ("Adresse e-mail (coord. structure)", 254),
}
ADDRESS_COLUMNS = (
    "Numéro Voie (coord. structure)", "Indice répétition voie (coord. structure)",
    "Libellé type de voie (coord. structure)", "Libellé Voie (coord. structure)",
)  # fmt: skip
KEY_COLUMNS = (
    "Identification nationale PP", "Identifiant technique de la structure", "Code savoir-faire",
    "Code mode exercice", "Code rôle", "Code genre activité",
)  # fmt: skip
# The columns of a staged line, in the order of :attr:`Line.row`.
STAGED_COLUMNS = ("line_no", "key", "person_hash", "row_hash", *PERSON_FIELDS, *SITUATION_FIELDS, "address")


class LineRefused(ValueError):
    """A line the load cannot take, with the reason shown in the load's report."""


class LineIgnored(ValueError):
    """A line of a professional without RPPS (ADELI only): counted, not loaded."""


@dataclass(frozen=True)
class Line:
    number: int
    values: dict[str, str]
    key: str
    person_hash: str
    row_hash: str

    @property
    def row(self) -> tuple:
        """The staged line's values in :data:`STAGED_COLUMNS` order."""
        return (self.number, self.key, self.person_hash, self.row_hash, *self.values.values())


def header_problem(header: str) -> str | None:
    """Why the first line is not the published header, or None."""
    found = header.lstrip("\ufeff").rstrip("\r\n").rstrip("|").split("|")
    for position, expected in enumerate(COLUMNS):
        if position >= len(found) or found[position] != expected:
            seen = found[position] if position < len(found) else "(absente)"
            return f"En-tête inattendu : colonne {position + 1} « {expected} » attendue, « {seen} » trouvée."
    if len(found) > len(COLUMNS):
        return f"En-tête inattendu : {len(found)} colonnes au lieu de {len(COLUMNS)}."
    return None


def parse_line(number: int, raw: bytes) -> Line:
    """The values of extract line ``number``; :class:`LineRefused` says why it cannot be loaded."""
    try:
        text = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as error:
        raise LineRefused(f"Encodage invalide (UTF-8 attendu) à l'octet {error.start}.") from None
    if "\x00" in text:
        raise LineRefused("Caractère nul dans la ligne.")
    fields = text.split("|")
    if fields[-1] == "":
        fields.pop()
    if len(fields) != len(COLUMNS):
        raise LineRefused(f"{len(fields)} champs au lieu de {len(COLUMNS)}.")
    if fields[0] != RPPS_TYPE:
        if fields[0] == ADELI_TYPE:
            raise LineIgnored
        raise LineRefused(f"Type d'identifiant PP « {fields[0][:10]} » inconnu (8 : RPPS, 0 : ADELI).")
    values = {name: _field(fields, column, limit) for name, (column, limit) in PERSON_FIELDS.items()}
    values |= {name: _field(fields, column, limit) for name, (column, limit) in SITUATION_FIELDS.items()}
    values["address"] = " ".join(fields[COLUMN[c]] for c in ADDRESS_COLUMNS if fields[COLUMN[c]])[:200]
    _check_identity(values)
    person = "|".join(values[name] for name in PERSON_FIELDS)
    return Line(
        number=number,
        values=values,
        key=_md5("|".join(fields[COLUMN[c]] for c in KEY_COLUMNS)),
        person_hash=_md5(person),
        row_hash=_md5("|".join(values.values())),
    )


def _field(fields: list[str], column: str, limit: int) -> str:
    value = fields[COLUMN[column]].strip()
    if len(value) > limit:
        raise LineRefused(f"« {column} » dépasse {limit} caractères.")
    return value


def _check_identity(values: dict[str, str]) -> None:
    rpps = values["rpps"]
    if len(rpps) != 11 or not rpps.isdigit() or not luhn_valid(rpps):
        raise LineRefused(f"Identifiant PP « {rpps[:20]} » : RPPS invalide (11 chiffres, clé de Luhn).")
    if values["national_id"] != RPPS_TYPE + rpps:
        raise LineRefused("L'identification nationale PP n'est pas 8 suivi de l'identifiant PP.")
    if not values["family_name"]:
        raise LineRefused("Nom d'exercice vide.")


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()
