"""Providers' discovery documents, cached: the login page, the callback and the logout never fetch them twice."""

from __future__ import annotations

from typing import Any

from allauth.socialaccount.adapter import get_adapter
from django.core.cache import cache

DISCOVERY_CACHE_SECONDS = 3600


def discovery(url: str) -> dict[str, Any]:
    """A provider's discovery document (fetched with ``OIDC_TIMEOUT_SECONDS``), cached for an hour."""
    key = f"dpi:oidc:discovery:{url}"
    document = cache.get(key)
    if document is None:
        with get_adapter().get_requests_session() as session:
            response = session.get(url)
            response.raise_for_status()
            document = response.json()
        cache.set(key, document, DISCOVERY_CACHE_SECONDS)
    return document
