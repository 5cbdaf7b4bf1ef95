"""Admin: the mailbox -> care unit routing (editable), traces (read-only, CSV export), pending imports."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from dpi.admin import AuditedAdmin, PatientReadingAdmin
from dpi.csvexport import csv_response
from mss.models import MailboxRoute, PendingImport, Trace
from mss.selectors import EXPORT_HEADER, export_rows


@admin.register(MailboxRoute)
class MailboxRouteAdmin(AuditedAdmin):
    list_display = ("address", "care_unit", "is_default")
    list_filter = ("is_default",)
    search_fields = ("address", "care_unit__name", "care_unit__code")
    autocomplete_fields = ("care_unit",)


@admin.register(Trace)
class TraceAdmin(PatientReadingAdmin):
    patient_path = "patient"
    list_display = ("at", "event", "error_code", "patient", "document", "mailbox", "sender", "message", "user")
    list_filter = ("event", "error_code", "mailbox")
    search_fields = ("mailbox", "sender", "subject", "cda_id", "patient__ipp", "patient__ins")
    date_hierarchy = "at"
    list_select_related = ("patient", "document", "message", "user")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Trace]:
        return super().get_queryset(request).defer("message__raw", "message__text", "message__ack")

    actions = ["export_csv"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description=_("Exporter les traces sélectionnées (CSV)"), permissions=["export"])
    def export_csv(self, request: HttpRequest, queryset: object) -> HttpResponse:
        return csv_response(EXPORT_HEADER, export_rows(queryset.order_by("at", "pk")), "traces-mssante.csv")

    def has_export_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("mss.export_trace")


@admin.register(PendingImport)
class PendingImportAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "archive_name", "path", "title")
    exclude = ("cda",)
    readonly_fields = ("user", "archive_name", "path", "title")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
