"""Search keys of identity names: what identity vigilance says a search must ignore (REM INS/va1.25).

A key is the name without accents or other diacritics, apostrophes, hyphens, spaces or any other
separator, in capitals: ``D'ARC`` → ``DARC``, ``Lefèbvre`` → ``LEFEBVRE``, ``JEAN-PIERRE`` and
``jean pierre`` → ``JEANPIERRE``, ``Œillet`` → ``OEILLET``. The patient row keeps a key beside each
name it is searched on (``Patient.birth_name_key``...), so a search is a prefix comparison of keys
that an index serves; the same function turns what the user typed into keys.
"""

from __future__ import annotations

import unicodedata

# Letters Unicode does not decompose into a base letter and a mark.
_LIGATURES = str.maketrans(
    {
        "Œ": "OE",
        "œ": "oe",
        "Æ": "AE",
        "æ": "ae",
        "ß": "ss",
        "ẞ": "SS",
        "Ø": "O",
        "ø": "o",
        "Ł": "L",
        "ł": "l",
        "Đ": "D",
        "đ": "d",
        "Ð": "D",
        "ð": "d",
        "Þ": "TH",
        "þ": "th",
        "ı": "i",
        "Ħ": "H",
        "ħ": "h",
    }
)


def name_key(text: str, max_length: int | None = None) -> str:
    """The search key of a name: letters and digits only, without their marks, in capitals."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    letters = "".join(char for char in decomposed if not unicodedata.combining(char)).upper()
    key = "".join(char for char in letters if char.isalnum())
    return key[:max_length] if max_length else key
