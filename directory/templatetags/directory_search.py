"""``{% search_criteria prefix form_id %}``: the detailed criteria of the correspondent search, for the
patient's correspondents panel and the document form."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _

from dpi import codes

register = template.Library()


@register.inclusion_tag("directory/_criteria.html")
def search_criteria(prefix: str, form_id: str = "") -> dict:
    groups = [(_("Profession"), codes.Profession.choices), (_("Spécialité"), codes.Specialty.choices)]
    return {"prefix": prefix, "form_id": form_id, "groups": groups}
