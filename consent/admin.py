from django.contrib import admin
from django.http import HttpRequest

from consent.models import ConsentDecision


@admin.register(ConsentDecision)
class ConsentDecisionAdmin(admin.ModelAdmin):
    """The history of information/opposition: read-only (recorded from the file, the feed or the API)."""

    list_display = ["collected_at", "episode", "subject", "state", "source", "actor_rpps", "peer"]
    list_filter = ["subject", "state", "source"]
    search_fields = ["=episode__visit_number", "=episode__patient__ipp"]
    raw_id_fields = ["episode", "message", "actor"]
    date_hierarchy = "collected_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
