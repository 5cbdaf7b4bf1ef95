"""``{% may_write "validate" type_code document as allowed %}``: whether to show a writing button.

Only what the page shows: the services apply the writing rules (``documents.rules``) whatever the page."""

from __future__ import annotations

from django import template

from documents.models import Document
from documents.rules import Operation, allowed_types

register = template.Library()


@register.simple_tag(takes_context=True)
def may_write(context: dict, operation: str, type_code: str, document: Document | None = None) -> bool:
    """For a document, in its care unit; for a new one, in any of the user's units."""
    request = context.get("request")
    if request is None:
        return False
    care_unit = document.care_unit if document else None
    return type_code in allowed_types(request.user, Operation(operation), care_unit)
