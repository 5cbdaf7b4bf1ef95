"""Small helpers of the DMP consultation templates."""

from __future__ import annotations

from django import template

from dmp.clients.types import APPROVED, ARCHIVED, DELETED, DEPRECATED

register = template.Library()
STATUS_LABELS = {APPROVED: "en vigueur", DEPRECATED: "remplacé", ARCHIVED: "archivé", DELETED: "supprimé"}


@register.filter
def get_item(mapping: dict, key: str) -> object:
    return mapping.get(key) if mapping else None


@register.simple_tag
def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status.rsplit(":", 1)[-1])


@register.filter
def uuid_key(entry_uuid: str) -> str:
    """An entryUUID as an HTML id part (hex digits and hyphens only)."""
    return entry_uuid.removeprefix("urn:uuid:")
