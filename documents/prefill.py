"""Pre-filling a new document from a template (REM HOP/va1.07), never validating it (HOP/va1.03).

A template (``DocumentTemplate``) gives, per field of the document type, a default text and optionally a
field of the patient's latest validated document to carry over. Default texts may hold placeholders from
:data:`PLACEHOLDERS`, a fixed list of names replaced by plain text: no attribute access, no Django
template, no ``str.format``. A name that is not in the list stays as written (the admin also refuses it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Q
from django.utils import timezone

from documents.models import Document, DocumentTemplate, Provenance, Status
from documents.types import SEGUR_TYPES, SegurType
from dpi.models import CareUnit, User
from patients.models import Episode, Patient

PLACEHOLDER = re.compile(r"\{([a-z_]+(?:\.[a-z_]+)?)\}")


@dataclass(frozen=True)
class Facts:
    """What the care team already entered, that a template may quote."""

    patient: Patient
    episode: Episode | None
    author: User
    today: date


def _day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value).date()
    return value.strftime("%d/%m/%Y")


def _unit(facts: Facts) -> CareUnit | None:
    return facts.episode.care_unit if facts.episode else None


PLACEHOLDERS: dict[str, tuple[str, Callable[[Facts], str]]] = {
    "patient.nom": ("nom de naissance", lambda f: f.patient.birth_name.upper()),
    "patient.prenom": ("premier prénom de naissance", lambda f: f.patient.first_name),
    "patient.identite": ("nom et prénom de naissance (et noms utilisés)", lambda f: f.patient.display_name),
    "patient.naissance": ("date de naissance", lambda f: _day(f.patient.birth_date)),
    "patient.sexe": ("sexe", lambda f: f.patient.get_sex_display()),
    "patient.ipp": ("IPP", lambda f: f.patient.ipp),
    "sejour.entree": ("date d'entrée du séjour", lambda f: _day(f.episode.admitted_at if f.episode else None)),
    "sejour.sortie": ("date de sortie du séjour", lambda f: _day(f.episode.discharged_at if f.episode else None)),
    "sejour.numero": ("numéro de venue", lambda f: f.episode.visit_number if f.episode else ""),
    "unite": ("unité responsable du séjour", lambda f: _unit(f).name if _unit(f) else ""),
    "etablissement": ("établissement de l'unité", lambda f: _unit(f).site.name if _unit(f) else ""),
    "auteur": ("prénom et nom de l'auteur", lambda f: f.author.display_name),
    "auteur.profession": ("profession de l'auteur", lambda f: f.author.get_profession_display()),
    "auteur.specialite": ("spécialité de l'auteur", lambda f: f.author.get_specialty_display()),
    "date": ("date du jour", lambda f: _day(f.today)),
}


def unknown_placeholders(text: str) -> list[str]:
    """The ``{...}`` names of ``text`` that are not placeholders (the admin refuses them)."""
    return [name for name in PLACEHOLDER.findall(text) if name not in PLACEHOLDERS]


def substitute(text: str, facts: Facts) -> str:
    """``text`` with each known ``{name}`` replaced by its plain value; anything else left as written."""

    def value(match: re.Match[str]) -> str:
        known = PLACEHOLDERS.get(match.group(1))
        return known[1](facts) if known else match.group(0)

    return PLACEHOLDER.sub(value, text)


def carry_choices() -> list[tuple[str, str]]:
    """The fields a template may carry over: every text or table field of every type, as ``code:field``."""
    return [
        (f"{segur.code}:{spec.name}", f"{segur.short_label} · {spec.label}")
        for segur in SEGUR_TYPES.values()
        for spec in segur.fields
        if not spec.is_choice
    ]


def _carry_source(section: dict) -> tuple[str, str] | None:
    type_code, _, name = str(section.get("carry_from") or "").partition(":")
    return (type_code, name) if type_code in SEGUR_TYPES and name else None


def carried_types(template: DocumentTemplate | None) -> set[str]:
    """The document types whose latest validated document the template copies from."""
    sections = template.sections.values() if template else ()
    return {source[0] for section in sections if isinstance(section, dict) and (source := _carry_source(section))}


def prefilled_fields(
    template: DocumentTemplate, segur: SegurType, facts: Facts, latest: dict[str, dict[str, str]]
) -> dict[str, str]:
    """The form's initial field values: the carried-over text when the source document has one, else the
    default text with its placeholders substituted. ``latest``: the fields of the patient's latest validated
    document, per type code. A choice field keeps only a default that is one of its values."""
    values = {}
    for spec in segur.fields:
        section = template.sections.get(spec.name)
        if not isinstance(section, dict):
            continue
        source = _carry_source(section)
        carried = str(latest.get(source[0], {}).get(source[1]) or "").strip() if source else ""
        text = carried or substitute(str(section.get("text") or ""), facts)
        if spec.is_choice and text not in dict(spec.choices):
            continue
        if text:
            values[spec.name] = text
    return values


def pick_template(templates: Iterable[DocumentTemplate], chosen: str) -> DocumentTemplate | None:
    """The template asked for (``chosen``: its id, ``"0"`` for none), else the first (the most specific)."""
    templates = list(templates)
    if chosen == "0":
        return None
    return next((t for t in templates if str(t.pk) == chosen), templates[0] if templates else None)


@dataclass(frozen=True)
class Prefill:
    templates: list[DocumentTemplate]
    template: DocumentTemplate | None
    fields: dict[str, str] = field(default_factory=dict)


def prefill_for(*, segur: SegurType, patient: Patient, episode: Episode | None, author: User, chosen: str) -> Prefill:
    """The templates of ``segur`` for the stay's care unit (unit-specific first, then general ones), the one
    chosen (by default the most specific) and the fields it pre-fills for this patient."""
    unit = episode.care_unit_id if episode else None
    unit_filter = (Q(care_unit__isnull=True) | Q(care_unit_id=unit)) if unit else Q(care_unit__isnull=True)
    templates = list(
        DocumentTemplate.objects.filter(unit_filter, type_code=segur.code, active=True).order_by(
            "care_unit_id", "name", "pk"
        )
    )  # NULLs sort last in PostgreSQL: the unit's own templates come first
    template = pick_template(templates, chosen)
    if template is None:
        return Prefill(templates, None)
    latest = {}
    for type_code in carried_types(template):
        document = (
            Document.objects.filter(
                patient=patient, type_code=type_code, status=Status.VALIDATED, provenance=Provenance.PRODUCED
            )
            .only("fields")
            .order_by("-act_date", "-pk")
            .first()
        )
        latest[type_code] = document.fields if document else {}
    facts = Facts(patient=patient, episode=episode, author=author, today=timezone.localdate())
    return Prefill(templates, template, prefilled_fields(template, segur, facts, latest))
