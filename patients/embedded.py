"""One user action, one row: a request embedded in a page (htmx fragment, frame) is not audited again when
the same session's reading of the same patient was recorded less than ``EMBEDDED_WINDOW`` ago. Shared by
the readings' door (``patients/access.py``, kind ``read``) and the INS traces (``patients/ins_traces.py``,
kind ``ins``)."""

from __future__ import annotations

from datetime import timedelta

from django.core.cache import cache
from django.http import HttpRequest

EMBEDDED_WINDOW = timedelta(minutes=10)
EMBEDDED_DESTINATIONS = frozenset({"iframe", "frame", "embed", "object"})


def _mark_key(request: HttpRequest, kind: str, patient_id: int) -> str:
    session = getattr(request, "session", None)
    return f"audit:{kind}:{request.user.pk}:{getattr(session, 'session_key', '') or ''}:{patient_id}"


def remember(request: HttpRequest, kind: str, patient_id: int) -> None:
    """The page recorded now: its fragments and frames are not recorded again within the window."""
    cache.set(_mark_key(request, kind, patient_id), True, int(EMBEDDED_WINDOW.total_seconds()))


def embedded_in_recorded_page(request: HttpRequest, kind: str, patient_id: int) -> bool:
    """A fragment or frame of a page recorded within the window (the header alone proves nothing)."""
    embedded = (
        request.headers.get("HX-Request") == "true"
        or request.headers.get("Sec-Fetch-Dest", "") in EMBEDDED_DESTINATIONS
    )
    return embedded and bool(cache.get(_mark_key(request, kind, patient_id)))
