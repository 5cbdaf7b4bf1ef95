"""National identifiers as the DMP checks them: professionals' national ids, the INS and its CX form."""

from __future__ import annotations

import re
from dataclasses import dataclass

from dpi.validators import luhn_check_digit, luhn_valid, nir_key

INS_OIDS = ("1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.9", "1.2.250.1.213.1.4.10", "1.2.250.1.213.1.4.11")

# A syntactically valid national id the sandbox knows as a generic (shared) account: refused like any
# non-personal id, so that a test can check the DPI never signs with such an account.
GENERIC_NATIONAL_IDS = frozenset({"8" + "9999999999" + luhn_check_digit("9999999999")})

_INS = re.compile(r"^[12378](\d{2})(\d{2})(\d{2}|2A|2B)(\d{3})(\d{3})(\d{2})$")
_CX = re.compile(r"^(?P<ins>[^^&]+)\^\^\^&(?P<oid>[0-9.]+)&ISO(?:\^(?P<type>[A-Z]+))?$")


@dataclass(frozen=True)
class Ins:
    """A patient's INS: the 15-character matricule and its OID."""

    value: str
    oid: str

    @property
    def cx(self) -> str:
        """XDS patientId form (CX without the type)."""
        return f"{self.value}^^^&{self.oid}&ISO"


def personal_national_id(value: str) -> bool:
    """``8`` + an 11-digit Luhn-valid RPPS, or ``0`` + a 9-digit ADELI; never a known generic account."""
    if value in GENERIC_NATIONAL_IDS:
        return False
    if len(value) == 12 and value.startswith("8"):
        return luhn_valid(value[1:])
    return len(value) == 10 and value.startswith("0") and value.isdigit()


def parse_cx(value: str) -> Ins | None:
    """``ins^^^&oid&ISO`` (optionally ``^NH``) as an :class:`Ins`, or ``None`` when not of that shape."""
    match = _CX.match(value.strip())
    if match is None or match["type"] not in (None, "NH"):
        return None
    return Ins(match["ins"], match["oid"])


def ins_problem(ins: Ins) -> str:
    """Why this INS is not well-formed (French), or an empty string."""
    if ins.oid not in INS_OIDS:
        return f"OID d'INS inconnu : {ins.oid}"
    if not _INS.match(ins.value.upper()):
        return f"INS mal formé : {ins.value} (15 caractères attendus)"
    if nir_key(ins.value[:13]) != ins.value[13:]:
        return f"Clé de l'INS incorrecte : {ins.value}"
    return ""
