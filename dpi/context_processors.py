"""Values every page shows in its header: version, current care unit, the idle time of the session."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

import dpi
from dpi.selectors import current_care_unit


def shell(request: HttpRequest) -> dict[str, Any]:
    context: dict[str, Any] = {"dpi_version": dpi.__version__}
    if getattr(request, "user", None) is not None and request.user.is_authenticated:
        context["current_care_unit"] = current_care_unit(request)
        context["idle_seconds"] = settings.SESSION_COOKIE_AGE
    return context
