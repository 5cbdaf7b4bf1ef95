"""Validators of national identifiers."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def is_ascii_digits(value: str) -> bool:
    """Only the digits 0-9 (``str.isdigit`` also takes ``²`` or ``٣``, which ``int`` or the database refuse)."""
    return value.isascii() and value.isdigit()


def is_database_id(value: object) -> bool:
    """A value usable as a primary key in a query: ASCII digits that fit PostgreSQL's bigint."""
    text = str(value)
    return is_ascii_digits(text) and len(text) <= 18


def luhn_valid(digits: str) -> bool:
    """True when the string of digits passes the Luhn check (its last digit is the key)."""
    if not is_ascii_digits(digits):
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def validate_rpps(value: str) -> None:
    if len(value) != 11 or not luhn_valid(value):
        raise ValidationError(_("Numéro RPPS invalide (11 chiffres, clé de Luhn)."), code="invalid_rpps")


def luhn_check_digit(digits: str) -> str:
    """The Luhn key to append to ``digits``."""
    for key in "0123456789":
        if luhn_valid(digits + key):
            return key
    raise ValueError(digits)


def nir_key(nir13: str) -> str:
    """The two-digit key of a 13-character NIR (Corsica's 2A/2B count as 19/18)."""
    number = int(nir13.upper().replace("2A", "19").replace("2B", "18"))
    return f"{97 - number % 97:02d}"


# An INS matricule: the NIR or NIA, 13 characters (Corsica's department 2A or 2B) and its two-digit key.
INS_MATRICULE = re.compile(r"[0-9]{5}(?:[0-9]{2}|2A|2B)[0-9]{8}")


def clean_ins_matricule(value: str) -> str:
    """The INS matricule as typed (spaces ignored, capitals), once it has its 15 characters and its key
    matches (REM INS/va1.41: no search on an incomplete or mistyped matricule)."""
    matricule = "".join(value.split()).upper()
    if not INS_MATRICULE.fullmatch(matricule):
        raise ValidationError(
            _("Le matricule INS compte 15 caractères (clé comprise) : 13 chiffres (2A ou 2B pour la Corse) et la clé."),
            code="ins_format",
        )
    if nir_key(matricule[:13]) != matricule[13:]:
        raise ValidationError(
            _("La clé du matricule INS ne correspond pas aux 13 premiers caractères : vérifiez la saisie."),
            code="ins_key",
        )
    return matricule
