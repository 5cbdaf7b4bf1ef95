"""The identity history in words: field labels and values a clinician reads, never the model's field names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext_lazy as _

from patients.models import IdentityEvent, Patient

register = template.Library()

# Keys of a merge event's detail, which are not fields of the patient.
MERGE_KEYS = {
    "absorbed": _("identité absorbée"),
    "survivor": _("identité conservée"),
    "visits": _("venues rattachées"),
}


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


@register.filter
def identity_changes(event: IdentityEvent) -> list[Change]:
    """Each change of ``event`` as (French label, value before, value after), in the identity form's order
    (the database does not keep the order in which the changes were recorded)."""
    changes = event.changes if isinstance(event.changes, dict) else {}
    return [_change(name, changes[name]) for name in sorted(changes, key=_position)]


def _position(name: str) -> tuple[int, int]:
    order = [*MERGE_KEYS, *(field.name for field in Patient._meta.fields)]
    return (0, order.index(name)) if name in order else (1, 0)


def _change(name: str, value: Any) -> Change:
    if name in MERGE_KEYS:
        return Change(str(MERGE_KEYS[name]), "", _merge_value(name, value))
    try:
        field = Patient._meta.get_field(name)
    except FieldDoesNotExist:
        return Change(name.replace("_", " "), "", _text(value))
    before, after = value if isinstance(value, list | tuple) and len(value) == 2 else ("", value)
    return Change(str(field.verbose_name), _shown(field, before), _shown(field, after))


def _merge_value(name: str, value: Any) -> str:
    """``[pk, ipp]`` of an identity is named by its IPP (the pk means nothing to a user); visits are listed."""
    if name == "visits":
        return ", ".join(str(visit) for visit in value) if isinstance(value, list) else _text(value)
    if isinstance(value, list | tuple) and len(value) == 2:
        return f"IPP {value[1]}"
    return _text(value)


def _shown(field: Any, value: Any) -> str:
    text = _text(value)
    if not text or text == "None":
        return ""
    choices = dict(getattr(field, "flatchoices", None) or [])
    if text in choices:
        return str(choices[text])
    if isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField):
        try:
            return date.fromisoformat(text).strftime("%d/%m/%Y")
        except ValueError:
            return text
    return text


def _text(value: Any) -> str:
    return "" if value is None else str(value)
