"""FHIR search over the sandbox directory, with the API v2's parameters and its strictness: an unknown
parameter, modifier or include is refused with an ``OperationOutcome`` (HTTP 400), as the real server does.

String parameters match the start of a word-insensitive, accent-insensitive value by default, anywhere
with ``:contains``, as is with ``:exact``; a comma means OR, a repeated parameter means AND.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sandbox.annuaire.resources import MAILBOX_EXTENSION, Directory

DEFAULT_COUNT = 50
MAX_COUNT = 200
Resource = dict[str, Any]


class SearchError(ValueError):
    """A refused search: HTTP 400 and an OperationOutcome with this text."""


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()


def _identifiers(resource: Resource) -> list[str]:
    found = []
    for identifier in resource.get("identifier", []):
        found += [identifier["value"], f"{identifier['system']}|{identifier['value']}"]
    return found


def _codes(resource: Resource) -> list[str]:
    found = []
    for qualification in resource.get("qualification", []):
        for coding in qualification["code"]["coding"]:
            found += [coding["code"], f"{coding['system']}|{coding['code']}"]
    return found


def _mailboxes(resource: Resource) -> list[str]:
    return [
        telecom["value"]
        for telecom in resource.get("telecom", [])
        if any(extension["url"] == MAILBOX_EXTENSION for extension in telecom.get("extension", []))
    ]


def _names(part: str) -> Callable[[Resource], list[str]]:
    def values(resource: Resource) -> list[str]:
        found: list[str] = []
        for name in resource.get("name", []):
            if part in ("family", "name"):
                found.append(name.get("family", ""))
            if part in ("given", "name"):
                found += name.get("given", [])
        return found

    return values


def _reference(field: str) -> Callable[[Resource], list[str]]:
    def values(resource: Resource) -> list[str]:
        reference = resource.get(field, {}).get("reference", "")
        return [reference, reference.rpartition("/")[2]]

    return values


def _address(part: str) -> Callable[[Resource], list[str]]:
    return lambda resource: [address.get(part, "") for address in resource.get("address", [])]


@dataclass(frozen=True)
class Parameter:
    values: Callable[[Resource], list[str]]
    string: bool = False  # takes :contains and :exact


COMMON = {"_id": Parameter(lambda r: [r["id"]]), "active": Parameter(lambda r: [str(r.get("active", True)).lower()])}
PARAMETERS: dict[str, dict[str, Parameter]] = {
    "Practitioner": COMMON | {
        "identifier": Parameter(_identifiers),
        "family": Parameter(_names("family"), string=True),
        "given": Parameter(_names("given"), string=True),
        "name": Parameter(_names("name"), string=True),
        "qualification-code": Parameter(_codes),
        "mailbox-mss": Parameter(_mailboxes, string=True),
    },
    "PractitionerRole": COMMON | {
        "practitioner": Parameter(_reference("practitioner")),
        "organization": Parameter(_reference("organization")),
        "mailbox-mss": Parameter(_mailboxes, string=True),
    },
    "Organization": COMMON | {
        "identifier": Parameter(_identifiers),
        "name": Parameter(lambda r: [r.get("name", "")], string=True),
        "address-city": Parameter(_address("city"), string=True),
        "address-postalcode": Parameter(_address("postalCode"), string=True),
        "mailbox-mss": Parameter(_mailboxes, string=True),
    },
}  # fmt: skip
INCLUDES = {
    "PractitionerRole": {"PractitionerRole:organization", "PractitionerRole:practitioner", "*"},
}
REVINCLUDES = {
    "Practitioner": {"PractitionerRole:practitioner"},
    "Organization": {"PractitionerRole:organization"},
}
CONTROL = {"_count", "_getpagesoffset", "_include", "_revinclude", "_format"}


def search(directory: Directory, resource_type: str, query: list[tuple[str, str]], base: str) -> Resource:
    """The searchset Bundle of one page of ``resource_type`` matching ``query``."""
    if resource_type not in PARAMETERS:
        raise SearchError(f"Type de ressource non pris en charge : {resource_type}.")
    filters = [_filter(resource_type, name, value) for name, value in query if name not in CONTROL]
    control = {name: value for name, value in query if name in CONTROL}
    count = _integer(control.get("_count", str(DEFAULT_COUNT)), "_count", 1, MAX_COUNT)
    offset = _integer(control.get("_getpagesoffset", "0"), "_getpagesoffset", 0, 10**9)
    matches = [resource for resource in directory.by_type(resource_type) if all(test(resource) for test in filters)]
    page = matches[offset : offset + count]
    included = _included(directory, resource_type, page, query)
    bundle: Resource = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(matches),
        "link": [{"relation": "self", "url": f"{base}/{resource_type}?{urlencode(query)}"}],
        "entry": [_entry(base, resource, "match") for resource in page]
        + [_entry(base, resource, "include") for resource in included],
    }
    if offset + count < len(matches):
        following = [(n, v) for n, v in query if n != "_getpagesoffset"] + [("_getpagesoffset", str(offset + count))]
        bundle["link"].append({"relation": "next", "url": f"{base}/{resource_type}?{urlencode(following)}"})
    return bundle


def _filter(resource_type: str, name: str, value: str) -> Callable[[Resource], bool]:
    parameter_name, _, modifier = name.partition(":")
    parameter = PARAMETERS[resource_type].get(parameter_name)
    if parameter is None:
        raise SearchError(f"Paramètre de recherche inconnu pour {resource_type} : {parameter_name}.")
    if modifier and (not parameter.string or modifier not in ("contains", "exact")):
        raise SearchError(f"Modificateur non pris en charge : {name}.")
    wanted = [part for part in value.split(",") if part]
    if not wanted:
        raise SearchError(f"Valeur vide pour le paramètre {name}.")
    return lambda resource: any(
        _match(candidate, part, parameter.string, modifier)
        for candidate in parameter.values(resource)
        for part in wanted
    )


def _match(candidate: str, wanted: str, string: bool, modifier: str) -> bool:
    if not string or modifier == "exact":
        return candidate == wanted
    if modifier == "contains":
        return _fold(wanted) in _fold(candidate)
    return _fold(candidate).startswith(_fold(wanted))


def _integer(value: str, name: str, low: int, high: int) -> int:
    if not value.isdigit() or not low <= int(value) <= high:
        raise SearchError(f"{name} doit être un entier entre {low} et {high}.")
    return int(value)


def _included(
    directory: Directory, resource_type: str, page: list[Resource], query: list[tuple[str, str]]
) -> list[Resource]:
    found: dict[str, Resource] = {}
    for name, value in query:
        if name == "_include" and value in INCLUDES.get(resource_type, ()):
            for field in ("organization", "practitioner") if value == "*" else (value.split(":")[1],):
                for resource in _targets(directory, page, field):
                    found[f"{resource['resourceType']}/{resource['id']}"] = resource
        elif name == "_revinclude" and value in REVINCLUDES.get(resource_type, ()):
            field = value.split(":")[1]
            references = {f"{resource_type}/{resource['id']}" for resource in page}
            for role in directory.roles:
                if role[field]["reference"] in references:
                    found[f"PractitionerRole/{role['id']}"] = role
        elif name in ("_include", "_revinclude"):
            raise SearchError(f"{name}={value} non pris en charge pour {resource_type}.")
    return list(found.values())


def _targets(directory: Directory, roles: Iterable[Resource], field: str) -> Iterable[Resource]:
    return (directory.index[role[field]["reference"]] for role in roles)


def _entry(base: str, resource: Resource, mode: str) -> Resource:
    return {
        "fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}",
        "resource": resource,
        "search": {"mode": mode},
    }


def outcome(text: str, code: str = "processing") -> Resource:
    return {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": code, "diagnostics": text}]}
