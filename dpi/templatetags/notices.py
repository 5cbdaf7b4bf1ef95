"""``{% mandatory_notice %}``: the notice every user must acknowledge, wherever it is shown (login, notice page)."""

from __future__ import annotations

from typing import Any

from django import template

from dpi.models import NoticeAcknowledgement

register = template.Library()


@register.inclusion_tag("dpi/_mandatory_notice.html")
def mandatory_notice() -> dict[str, Any]:
    """The text of the notice (REM SC.DMP/CONF.11) with its current version."""
    return {"version": NoticeAcknowledgement.CURRENT}
