"""Reading ITI-18 stored query parameters (ITI TF-2a §3.18.4.1.2.3): the slots and their value syntax.

Strings are quoted (``'…'``, a quote doubled inside), lists are ``('a','b')`` in one ``rim:Value`` or
several (OR-ed), codes are ``code^^^scheme``, times are unquoted ``YYYY[MM[DD[hh[mm[ss]]]]]`` in UTC.
A parameter given in several slots is an AND of ORs (event codes, confidentiality codes only).
Anything else is a :class:`~sandbox.dmp.ebrim.RegistryFailure` the registry answers as a RegistryError.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from sandbox.dmp.constants import NS
from sandbox.dmp.ebrim import RegistryFailure

AND_PARAMETERS = ("$XDSDocumentEntryEventCodeList", "$XDSDocumentEntryConfidentialityCode")
_TIME = re.compile(r"^\d{4}(\d{2}){0,5}$")


def unreadable(name: str, detail: str) -> RegistryFailure:
    return RegistryFailure("XDSRegistryError", f"Paramètre {name} illisible : {detail}")


@dataclass(frozen=True)
class Code:
    code: str
    scheme: str


class Parameters:
    """The slots of a ``rim:AdhocQuery``: raw values per slot, read on demand by their expected type."""

    def __init__(self, query: etree._Element) -> None:
        self.slots: dict[str, list[list[str]]] = {}
        for element in query.findall("rim:Slot", NS):
            values = [(value.text or "").strip() for value in element.findall("rim:ValueList/rim:Value", NS)]
            self.slots.setdefault(element.get("name") or "", []).append(values)

    def as_record(self) -> dict[str, list[list[str]]]:
        """What was asked, as sent (for the call record)."""
        return self.slots

    def names(self) -> set[str]:
        return set(self.slots)

    def _values(self, name: str) -> list[str] | None:
        slots = self.slots.get(name)
        if slots is None:
            return None
        if len(slots) > 1 and name not in AND_PARAMETERS:
            raise unreadable(name, "paramètre répété")
        return slots[0]

    def string(self, name: str) -> str | None:
        """A single quoted string."""
        values = self._values(name)
        if values is None:
            return None
        if len(values) != 1 or values[0].startswith("("):
            raise unreadable(name, "une seule chaîne entre apostrophes attendue")
        return _quoted(name, values[0])

    def strings(self, name: str) -> list[str] | None:
        """A list: every ``('a','b')`` value of the slot, OR-ed."""
        values = self._values(name)
        return None if values is None else _list_items(name, values)

    def code_groups(self, name: str) -> list[list[Code]] | None:
        """Codes: one OR-group per slot, the groups AND-ed."""
        slots = self.slots.get(name)
        if slots is None:
            return None
        if len(slots) > 1 and name not in AND_PARAMETERS:
            raise unreadable(name, "paramètre répété")
        return [[_code(name, item) for item in _list_items(name, values)] for values in slots]

    def time(self, name: str) -> datetime | None:
        values = self._values(name)
        if values is None:
            return None
        if len(values) != 1:
            raise unreadable(name, "une seule date attendue")
        return parse_time(name, values[0])


def parse_time(name: str, value: str) -> datetime:
    """An XDS DTM (``YYYY[MM[DD[hh[mm[ss]]]]]``, UTC), the missing parts at their start."""
    if not _TIME.match(value):
        raise unreadable(name, "date AAAA[MM[JJ[hh[mm[ss]]]]] sans apostrophes attendue")
    digits = value + "0101000000"[len(value) - 4 :] if len(value) < 14 else value
    try:
        return datetime.strptime(digits, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError as exc:
        raise unreadable(name, f"date impossible « {value} »") from exc


def _list_items(name: str, values: list[str]) -> list[str]:
    items: list[str] = []
    for value in values:
        if not (value.startswith("(") and value.endswith(")")):
            raise unreadable(name, "liste ('…', '…') attendue")
        items += _split_list(name, value[1:-1])
    if not items:
        raise unreadable(name, "liste vide")
    return items


def _split_list(name: str, text: str) -> list[str]:
    """The quoted items of ``'a', 'b'`` (a quote doubled inside an item stands for itself)."""
    items: list[str] = []
    position = 0
    while position < len(text):
        rest = text[position:].lstrip()
        if not rest:
            break
        match = re.match(r"'((?:[^']|'')*)'\s*(,|$)", rest)
        if match is None:
            raise unreadable(name, "élément de liste non entre apostrophes")
        items.append(match.group(1).replace("''", "'"))
        position = len(text) - len(rest) + match.end()
    return items


def _quoted(name: str, value: str) -> str:
    if len(value) < 2 or not (value.startswith("'") and value.endswith("'")) or "'" in value[1:-1].replace("''", ""):
        raise unreadable(name, "chaîne entre apostrophes attendue")
    return value[1:-1].replace("''", "'")


def _code(name: str, value: str) -> Code:
    code, separator, scheme = value.partition("^^^")
    if not separator or not code or not scheme:
        raise unreadable(name, f"code « {value} » : code^^^système attendu")
    return Code(code, scheme)
