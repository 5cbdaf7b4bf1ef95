"""The providers offered on the login page and on "Mon compte"."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse


def enabled_providers() -> list[dict[str, Any]]:
    """Each enabled provider: id, name, its sign-in URL, whether it is PSC (its own button) and offers CIBA."""
    return [
        {
            "id": provider_id,
            "name": config["name"],
            "login_url": reverse("dpi_oidc_login", kwargs={"provider_id": provider_id}),
            "is_psc": config["link_by"] == "rpps",
            "ciba": config["ciba"],
        }
        for provider_id, config in settings.OIDC_PROVIDERS.items()
        if config["enabled"]
    ]
