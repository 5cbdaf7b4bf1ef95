"""Deterministic people of the sandbox Annuaire Santé: person ``index`` under ``seed`` is always the same.

Each person has one or two practice situations (activities) in a structure of a small pool of towns;
the open-data extract writes one line per person × activity. Values are drawn by multiplicative hashing
of the index, not by a random generator per person, so a million lines are written in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

FAMILY_NAMES = (
    "MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "DUBOIS", "MOREAU", "LAURENT",
    "SIMON", "MICHEL", "LEFEBVRE", "LEROY", "ROUX", "DAVID", "BERTRAND", "MOREL", "FOURNIER", "GIRARD",
    "BONNET", "DUPONT", "LAMBERT", "FONTAINE", "ROUSSEAU", "VINCENT", "MULLER", "LEFEVRE", "FAURE", "ANDRE",
    "MERCIER", "BLANC", "GUERIN", "BOYER", "GARNIER", "CHEVALIER", "FRANCOIS", "LEGRAND", "GAUTHIER", "GARCIA",
    "PERRIN", "ROBIN", "CLEMENT", "MORIN", "NICOLAS", "HENRY", "ROUSSEL", "MATHIEU", "GAUTIER", "MASSON",
)  # fmt: skip
GIVEN_NAMES = (
    ("Claire", "MME"), ("Jean", "M"), ("Marie", "MME"), ("Pierre", "M"), ("Sophie", "MME"), ("Luc", "M"),
    ("Camille", "MME"), ("Nicolas", "M"), ("Julie", "MME"), ("Thomas", "M"), ("Anne", "MME"), ("Hélène", "MME"),
    ("François", "M"), ("Élodie", "MME"), ("Mathieu", "M"), ("Inès", "MME"), ("Paul", "M"), ("Léa", "MME"),
)  # fmt: skip
# (code INSEE, postal code, town, department code, department)
TOWNS = (
    ("75111", "75011", "PARIS", "75", "Paris"), ("69383", "69003", "LYON", "69", "Rhône"),
    ("13205", "13005", "MARSEILLE", "13", "Bouches-du-Rhône"), ("31555", "31000", "TOULOUSE", "31", "Haute-Garonne"),
    ("33063", "33000", "BORDEAUX", "33", "Gironde"), ("59350", "59000", "LILLE", "59", "Nord"),
    ("44109", "44000", "NANTES", "44", "Loire-Atlantique"), ("67482", "67000", "STRASBOURG", "67", "Bas-Rhin"),
    ("35238", "35000", "RENNES", "35", "Ille-et-Vilaine"), ("21231", "21000", "DIJON", "21", "Côte-d'Or"),
    ("63113", "63000", "CLERMONT-FERRAND", "63", "Puy-de-Dôme"), ("87085", "87000", "LIMOGES", "87", "Haute-Vienne"),
)  # fmt: skip
STREETS = (("R", "Rue", "DE LA REPUBLIQUE"), ("AV", "Avenue", "JEAN JAURES"), ("BD", "Boulevard", "PASTEUR"),
           ("PL", "Place", "DU MARCHE"), ("R", "Rue", "VICTOR HUGO"), ("ALL", "Allée", "DES TILLEULS"))  # fmt: skip
# (profession code TRE_G15, label, category code TRE_R09, specialty (code TRE_R38, label) or None)
PROFESSIONS = (
    ("10", "Médecin", "C", ("SM54", "Médecine générale")), ("10", "Médecin", "C", ("SM54", "Médecine générale")),
    ("10", "Médecin", "C", ("SM04", "Cardiologie et maladies vasculaires")),
    ("10", "Médecin", "C", ("SM24", "Gastro-entérologie et hépatologie")),
    ("10", "Médecin", "C", ("SM18", "Gériatrie")), ("60", "Infirmier", "C", None), ("60", "Infirmier", "C", None),
    ("21", "Pharmacien", "C", None), ("40", "Chirurgien-Dentiste", "C", ("SCD01", "Orthopédie dento-faciale")),
    ("50", "Sage-Femme", "C", None), ("70", "Masseur-Kinésithérapeute", "C", None),
)  # fmt: skip
STRUCTURES_PER_TOWN = 40


@dataclass(frozen=True)
class Structure:
    index: int
    finess_site: str  # empty for a private practice (identified by its SIRET)
    finess_ej: str
    siret: str
    name: str
    town: tuple[str, str, str, str, str]
    street_number: str
    street: tuple[str, str, str]

    @property
    def technical_id(self) -> str:
        """``Identifiant technique de la structure``: 1 + FINESS, or 3 + SIRET, as in the Annuaire Santé."""
        return f"1{self.finess_site}" if self.finess_site else f"3{self.siret}"

    @property
    def mss_domain(self) -> str:
        return f"{self.town[2].lower()}-{self.index}.mssante.fr"


@dataclass(frozen=True)
class Activity:
    structure: Structure
    mode: tuple[str, str]  # mode d'exercice (TRE_R23)
    role: tuple[str, str]  # rôle / fonction (TRE_R21)


@dataclass(frozen=True)
class Person:
    index: int
    rpps: str
    civility: str  # M, MME
    title: str  # DR, or empty
    family_name: str
    given_name: str
    profession: tuple[str, str, str, tuple[str, str] | None]
    activities: tuple[Activity, ...]

    @property
    def national_id(self) -> str:
        return f"8{self.rpps}"

    @property
    def mss_address(self) -> str:
        """The personal MSSanté mailbox (PER) of the person, in the first structure's domain."""
        domain = self.activities[0].structure.mss_domain
        return f"{self.given_name.lower()}.{self.family_name.lower()}.{self.index}@{domain}"


def mix(number: int, salt: int = 0) -> int:
    """A well-spread deterministic hash of ``number`` (Knuth's multiplicative hashing)."""
    return ((number + 1) * 2654435761 + salt * 40503) % 4294967296


def luhn_key(digits: str) -> str:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def structure(index: int) -> Structure:
    town = TOWNS[index % len(TOWNS)]
    hospital = index % 5 == 0
    finess = f"{town[3]}{(index * 7919) % 10**6:06d}{index % 10}" if hospital else ""
    siret = f"{(index * 104729) % 10**13 + 10**13:014d}"
    name = f"CENTRE HOSPITALIER DE {town[2]} {index}" if hospital else f"CABINET MEDICAL {town[2]} {index}"
    return Structure(
        index=index,
        finess_site=finess,
        finess_ej=f"{town[3]}{(index * 6007) % 10**7:07d}" if hospital else "",
        siret=siret,
        name=name,
        town=town,
        street_number=str(1 + mix(index, 3) % 120),
        street=STREETS[mix(index, 4) % len(STREETS)],
    )


def person(index: int, seed: int = 0) -> Person:
    """Person ``index`` of the sandbox directory under ``seed``."""
    spread = mix(index, seed)
    given, civility = GIVEN_NAMES[spread % len(GIVEN_NAMES)]
    profession = PROFESSIONS[(spread >> 8) % len(PROFESSIONS)]
    structures = len(TOWNS) * STRUCTURES_PER_TOWN
    first = structure((spread >> 12) % structures)
    activities = [_activity(first, profession[0])]
    if spread % 4 == 0:
        second = (first.index + 1 + (spread >> 16) % (structures - 1)) % structures
        activities.append(_activity(structure(second), profession[0]))
    number = f"1{(20_000_000 + index + seed * 7_000_000) % 10**9:09d}"  # away from the test factories' RPPS
    return Person(
        index=index,
        rpps=number + luhn_key(number),
        civility=civility,
        title="DR" if profession[0] in ("10", "40") else "",
        family_name=FAMILY_NAMES[(spread >> 4) % len(FAMILY_NAMES)],
        given_name=given,
        profession=profession,
        activities=tuple(activities),
    )


def _activity(place: Structure, profession_code: str) -> Activity:
    if place.finess_site:
        return Activity(place, ("S", "Salarié"), ("FON-05", "Salarié"))
    if profession_code == "21":
        return Activity(place, ("L", "Libéral, indépendant, artisan, commerçant"), ("FON-02", "Titulaire d'officine"))
    return Activity(place, ("L", "Libéral, indépendant, artisan, commerçant"), ("FON-01", "Titulaire de cabinet"))
