"""Validators of national identifiers."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def luhn_valid(digits: str) -> bool:
    """True when the string of digits passes the Luhn check (its last digit is the key)."""
    if not digits.isdigit():
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
