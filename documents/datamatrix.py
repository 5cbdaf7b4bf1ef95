"""The INS DataMatrix (ECC200) printed on the DPI's documents when the identity is qualified (SC.CDA/VISU.04).

Payload layout and the decisions the national texts leave open (birth date format, trait normalisation):
see ``docs/pdf.md``.
"""

from __future__ import annotations

import re
import unicodedata
from itertools import groupby

from ppf.datamatrix import DataMatrix

from documents.content import PatientIdentity

GS = "\x1d"  # ASCII 29, ends each variable-length field
HEADER = "IS" + "01" + "0" * 24
BIRTH_DATE_FORMAT = "%d%m%Y"  # S6: DDMMYYYY, decided in docs/pdf.md (format not confirmed by a national text)
INS_PATTERN = re.compile(r"[0-9]{5}(?:[0-9]{2}|2A|2B)[0-9]{8}")  # NIR or NIA with its key (C.2)
MODULE_MM = 0.5  # printed size of one module: readable by office scanners and hand-held readers
QUIET_ZONE = 2  # modules of white around the symbol (ISO/IEC 16022 asks for at least one)

_LIGATURES = str.maketrans({"Œ": "OE", "Æ": "AE"})
_TRAIT_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ '-")


def ins_payload(patient: PatientIdentity) -> str:
    """The datamatrix content: header, S1 matricule, S2 OID, S3 first names, S4 birth name, S5 sex, S6, S7."""
    _check_printable(patient)
    fields = [
        HEADER,
        f"S1{patient.ins}",
        f"S2{patient.ins_oid}{GS}",
        f"S3{normalise_trait(patient.first_names)}{GS}",
        f"S4{normalise_trait(patient.birth_name)}{GS}",
        f"S5{patient.sex}",
        f"S6{patient.birth_date.strftime(BIRTH_DATE_FORMAT)}",
    ]
    if patient.birth_place_insee:
        fields.append(f"S7{patient.birth_place_insee}")
    return "".join(fields)


def ins_datamatrix_svg(patient: PatientIdentity) -> str:
    """The INS datamatrix of ``patient`` as a standalone SVG document, sized for print."""
    return _symbol_svg(ins_payload(patient))


def _symbol_svg(data: str) -> str:
    """A square ECC200 symbol of ``data`` (ASCII) drawn as one black path on a white square."""
    modules = DataMatrix(data).matrix
    side = len(modules) + 2 * QUIET_ZONE
    path = "".join(
        f"M{start + QUIET_ZONE},{y + QUIET_ZONE}h{length}v1h-{length}z"
        for y, row in enumerate(modules)
        for start, length in _dark_runs(row)
    )
    size = f"{side * MODULE_MM:g}mm"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 {side} {side}" shape-rendering="crispEdges">'
        f'<rect width="{side}" height="{side}" fill="#fff"/><path d="{path}" fill="#000"/></svg>'
    )


def normalise_trait(value: str) -> str:
    """Uppercase ASCII: accents removed, ligatures spelled out, spaces collapsed, other characters dropped."""
    decomposed = unicodedata.normalize("NFKD", value.upper().translate(_LIGATURES))
    kept = "".join(character for character in decomposed if character in _TRAIT_CHARACTERS)
    return " ".join(kept.split())


def _check_printable(patient: PatientIdentity) -> None:
    if not patient.qualified:
        raise ValueError("the INS may only be printed for a qualified identity")
    if not INS_PATTERN.fullmatch(patient.ins):
        raise ValueError(f"the INS matricule must be 15 characters of a NIR or NIA, not {patient.ins!r}")
    if patient.sex not in {"M", "F"} or patient.birth_date is None:
        raise ValueError("a qualified identity carries its sex (M or F) and birth date")


def _dark_runs(row: list[int]) -> list[tuple[int, int]]:
    """(start, length) of each run of dark modules in one row."""
    runs = []
    start = 0
    for dark, group in groupby(row):
        length = len(list(group))
        if dark:
            runs.append((start, length))
        start += length
    return runs
