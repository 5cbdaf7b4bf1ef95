"""Admin: feeding delays (configuration), feeding orders and business acks (read-only journals)."""

from django.contrib import admin

from dmp.models import BusinessAck, FeedingDelay, FeedingOrder
from dpi.admin import AuditedAdmin, ReadOnlyAdmin


@admin.register(FeedingDelay)
class FeedingDelayAdmin(AuditedAdmin):
    list_display = ("type_code", "care_unit", "delay_minutes")
    list_filter = ("care_unit__site",)
    autocomplete_fields = ("care_unit",)


class BusinessAckInline(admin.TabularInline):
    model = BusinessAck
    fields = ("event", "success", "recipient", "error", "event_at", "received_at", "message")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(FeedingOrder)
class FeedingOrderAdmin(ReadOnlyAdmin):
    list_display = ("pk", "document", "channel", "purpose", "kind", "state", "trigger", "due_at", "attempts", "sent_at")
    list_filter = ("state", "channel", "purpose", "kind", "trigger")
    search_fields = ("control_id", "document__patient__ipp", "document__patient__ins")
    date_hierarchy = "due_at"
    inlines = [BusinessAckInline]
