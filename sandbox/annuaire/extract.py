"""The open-data extract ``PS_LibreAcces_Personne_activite`` as the Annuaire Santé publishes it.

One line per person × activity in the published layout (``directory.extract.COLUMNS``, see
docs/annuaire.md), the values of each line in that order. ``--change-percent`` and ``--remove-percent``
make the next day's file: the same people, with the street of some activities changed and some gone.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from directory.extract import HEADER
from sandbox.annuaire.people import Activity, Person, mix, person

CIVILITIES = {"M": "Monsieur", "MME": "Madame"}
TITLES = {"DR": "Docteur", "": ""}


@dataclass
class ExtractStats:
    lines: int = 0
    changed: int = 0
    removed: int = 0


def chosen(line: int, percent: float, salt: int) -> bool:
    """Whether line number ``line`` is among the ``percent`` % picked for a change (the same every time)."""
    return mix(line, salt) % 100_000 < percent * 1000


def lines(count: int, *, seed: int = 0, change_percent: float = 0, remove_percent: float = 0) -> Iterator[str]:
    """The ``count`` data lines of the extract (``count`` lines before removals), numbered from 1."""
    number, index = 0, 0
    while number < count:
        someone = person(index, seed)
        for activity in someone.activities:
            number += 1
            if number > count:
                return
            if chosen(number, remove_percent, salt=2):
                continue
            yield line(someone, activity, changed=chosen(number, change_percent, salt=1))
        index += 1


def line(someone: Person, activity: Activity, *, changed: bool = False) -> str:
    place = activity.structure
    town = place.town
    specialty = someone.profession[3]
    street_number = str(int(place.street_number) + 1) if changed else place.street_number
    values = (
        "8", someone.rpps, someone.national_id,
        someone.title, TITLES[someone.title], someone.civility, CIVILITIES[someone.civility],
        someone.family_name, someone.given_name, someone.profession[0], someone.profession[1],
        someone.profession[2], "Civil",
        "S" if specialty else "", "Spécialité ordinale" if specialty else "",
        specialty[0] if specialty else "", specialty[1] if specialty else "",
        activity.mode[0], activity.mode[1],
        place.siret, place.siret[:9], place.finess_site, place.finess_ej,
        place.technical_id, place.name, "", "", "",
        street_number, "", place.street[0], place.street[1], place.street[2], "", "",
        town[1], town[0], town[2], "99000", "France",
        f"01{mix(place.index, 5) % 10**8:08d}", "", "", "",
        town[3], town[4], "", "CNOM" if someone.profession[0] == "10" else "ARS",
        "SA01" if place.finess_site else "SA07",
        "Etablissement public de santé" if place.finess_site else "Cabinet individuel",
        "", "", activity.role[0], activity.role[1], "GENR01", "Activité standard de soin ou de pharmacien",
    )  # fmt: skip
    return "|".join(values) + "|\n"


def write_extract(
    path: Path, count: int, *, seed: int = 0, change_percent: float = 0, remove_percent: float = 0
) -> ExtractStats:
    """Write the extract of ``count`` person × activity lines (before removals) to ``path``."""
    stats = ExtractStats()
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        for text in lines(count, seed=seed, change_percent=change_percent, remove_percent=remove_percent):
            out.write(text)
            stats.lines += 1
    stats.changed = sum(chosen(n, change_percent, 1) and not chosen(n, remove_percent, 2) for n in range(1, count + 1))
    stats.removed = count - stats.lines
    return stats
