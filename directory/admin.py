from django.contrib import admin

from directory.models import Correspondent
from dpi.admin import AuditedAdmin
from dpi.models import AuditEvent


@admin.register(Correspondent)
class CorrespondentAdmin(AuditedAdmin):
    """Local correspondents, entered by hand or filled from the Annuaire Santé; every change audited."""

    audit_action = AuditEvent.Action.CORRESPONDENT_CHANGE
    list_display = ("display_name", "rpps", "specialty", "city", "mss_address", "source", "active")
    list_filter = ("source", "active")
    search_fields = ("family_name", "given_name", "rpps", "organization", "city", "postal_code", "mss_address")
    readonly_fields = ("updated_at",)
    fieldsets = (
        (None, {"fields": ("civility", "title", "family_name", "given_name", "rpps", "profession", "specialty")}),
        ("Structure et adresse", {"fields": ("organization", "organization_id", "address", "postal_code", "city")}),
        ("Contact", {"fields": ("mss_address", "phone")}),
        ("Origine", {"fields": ("source", "active", "updated_at")}),
    )
