from django.contrib import admin

from dpi.admin import AuditedAdmin, ReadOnlyAdmin
from dpi.models import AuditEvent
from patients.models import EmergencyAccess, Episode, IdentityEvent, Movement, Patient


@admin.register(Patient)
class PatientAdmin(AuditedAdmin):
    patient_path = ""
    audit_action = AuditEvent.Action.IDENTITY_CHANGE
    list_display = ["birth_name", "used_name", "first_names", "birth_date", "sex", "ipp", "ins", "identity_status"]
    list_filter = ["identity_status", "sex"]
    search_fields = ["birth_name", "used_name", "first_names", "=ipp", "=ins"]
    raw_id_fields = ["merged_into"]


class MovementInline(admin.TabularInline):
    model = Movement
    extra = 0
    fields = ["movement_id", "trigger", "nature", "started_at", "medical_unit", "nursing_unit", "cancelled"]
    readonly_fields = fields
    can_delete = False


@admin.register(Episode)
class EpisodeAdmin(AuditedAdmin):
    patient_path = "patient"
    inlines = [MovementInline]
    audit_action = AuditEvent.Action.IDENTITY_CHANGE
    list_display = ["visit_number", "patient", "kind", "care_unit", "nda", "admitted_at", "discharged_at", "cancelled"]
    list_filter = ["kind", "care_unit__site", "care_unit", "cancelled"]
    search_fields = ["=visit_number", "patient__birth_name", "=patient__ipp"]
    raw_id_fields = ["patient"]
    list_select_related = ["patient", "care_unit"]


@admin.register(EmergencyAccess)
class EmergencyAccessAdmin(ReadOnlyAdmin):
    patient_path = "patient"
    list_display = ["started_at", "user", "patient", "expires_at", "reason"]
    search_fields = ["user__username", "user__rpps", "patient__birth_name", "=patient__ipp"]
    date_hierarchy = "started_at"
    list_select_related = ["user", "patient"]


@admin.register(IdentityEvent)
class IdentityEventAdmin(ReadOnlyAdmin):
    patient_path = "patient"
    list_display = ["at", "patient", "kind", "message", "note"]
    list_filter = ["kind"]
    search_fields = ["=patient__ipp", "patient__birth_name"]
    raw_id_fields = ["patient", "message", "actor"]
