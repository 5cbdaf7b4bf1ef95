"""Configuration checks of the patients app (``manage.py check``, run at every start)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register


@register()
def identity_extras_are_known(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    from patients.templatetags.identity import IDENTITY_EXTRAS

    unknown = sorted(set(settings.PATIENT_IDENTITY_EXTRAS) - set(IDENTITY_EXTRAS))
    if not unknown:
        return []
    return [
        Error(
            f"PATIENT_IDENTITY_EXTRAS: unknown {', '.join(unknown)}",
            hint=f"choose among {', '.join(IDENTITY_EXTRAS)} (the birth traits and used names are always shown)",
            id="patients.E001",
        )
    ]
