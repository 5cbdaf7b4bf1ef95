"""What the patient file page shows, contributed by the apps above ``patients``.

``patients`` must not import the apps that depend on it (consent, documents, dmp, mss), yet the
patient file shows their information. Each app registers, from its ``AppConfig.ready()``:

* banner items, shown in the patient banner on every page of the file (no click needed);
* sections, shown in the body of the file.

A contributor is ``func(request, patient, episode) -> Panel | None``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

from patients.models import Episode, Patient


@dataclass(frozen=True)
class Panel:
    template: str
    context: dict[str, Any] = field(default_factory=dict)


Contributor = Callable[[HttpRequest, Patient, "Episode | None"], "Panel | None"]

_banner_items: list[tuple[int, Contributor]] = []
_sections: list[tuple[int, Contributor]] = []


def banner_item(order: int) -> Callable[[Contributor], Contributor]:
    def decorator(func: Contributor) -> Contributor:
        _banner_items.append((order, func))
        _banner_items.sort(key=lambda item: item[0])
        return func

    return decorator


def section(order: int) -> Callable[[Contributor], Contributor]:
    def decorator(func: Contributor) -> Contributor:
        _sections.append((order, func))
        _sections.sort(key=lambda item: item[0])
        return func

    return decorator


def _panels(contributors: list[tuple[int, Contributor]], request: HttpRequest, patient: Patient,
            episode: Episode | None) -> list[Panel]:  # fmt: skip
    return [panel for _order, func in contributors if (panel := func(request, patient, episode)) is not None]


def banner_panels(request: HttpRequest, patient: Patient, episode: Episode | None) -> list[Panel]:
    return _panels(_banner_items, request, patient, episode)


def section_panels(request: HttpRequest, patient: Patient, episode: Episode | None) -> list[Panel]:
    return _panels(_sections, request, patient, episode)
