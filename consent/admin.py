from django.contrib import admin

from consent.models import ConsentDecision
from dpi.admin import ReadOnlyAdmin


@admin.register(ConsentDecision)
class ConsentDecisionAdmin(ReadOnlyAdmin):
    """The history of information/opposition: read-only (recorded from the file, the feed or the API)."""

    patient_path = "episode__patient"

    list_display = ["collected_at", "episode", "subject", "state", "source", "actor_rpps", "peer"]
    list_filter = ["subject", "state", "source"]
    search_fields = ["=episode__visit_number", "=episode__patient__ipp"]
    raw_id_fields = ["episode", "message", "actor"]
    date_hierarchy = "collected_at"
