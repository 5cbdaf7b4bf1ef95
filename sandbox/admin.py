"""The simulated PFI in the admin: its behaviour (editable, to make it fail) and what it received and sent."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from dpi.admin import AuditedAdmin, ReadOnlyAdmin
from sandbox.models import PfiBehaviour, PfiMessage, PfiZam


def _pre(text: str) -> str:
    return format_html('<pre style="white-space: pre-wrap; word-break: break-all">{}</pre>', text.replace("\r", "\n"))


@admin.register(PfiBehaviour)
class PfiBehaviourAdmin(AuditedAdmin):
    list_display = ["mode", "slow_seconds", "zam_delay_seconds", "updated_at"]
    fields = ["mode", "slow_seconds", "zam_delay_seconds"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponseRedirect:
        """One row: go straight to its form."""
        behaviour = PfiBehaviour.current()
        return HttpResponseRedirect(reverse("admin:sandbox_pfibehaviour_change", args=[behaviour.pk]))


class PfiZamInline(admin.TabularInline):
    model = PfiZam
    fields = ["sent_at", "event", "recipient", "status", "control_id", "outcome"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PfiMessage)
class PfiMessageAdmin(ReadOnlyAdmin):
    list_display = [
        "received_at",
        "trigger",
        "control_id",
        "document_id",
        "ins",
        "to_dmp",
        "to_patient",
        "ack_code",
        "duplicate",
    ]
    list_filter = ["trigger", "ack_code", "duplicate", "to_dmp", "to_patient"]
    date_hierarchy = "received_at"
    search_fields = ["=control_id", "document_id", "ins"]
    inlines = [PfiZamInline]
    fields = [
        ("received_at", "peer"),
        ("trigger", "control_id", "ack_code", "duplicate"),
        ("document_id", "parent_id"),
        ("ins", "sender"),
        ("to_dmp", "to_patient"),
        "mss_recipients",
        "flags",
        "error",
        "raw_message",
    ]
    readonly_fields = ["raw_message"]

    @admin.display(description=_("message reçu"))
    def raw_message(self, obj: PfiMessage) -> str:
        return _pre(obj.raw)


@admin.register(PfiZam)
class PfiZamAdmin(ReadOnlyAdmin):
    list_display = ["sent_at", "event", "recipient", "status", "control_id", "message", "outcome"]
    list_filter = ["event", "status"]
    date_hierarchy = "sent_at"
    search_fields = ["=control_id", "=message__control_id", "recipient"]
    list_select_related = ["message"]
    fields = [("sent_at", "event", "status"), "recipient", "control_id", "message", "outcome", "raw_zam"]
    readonly_fields = ["raw_zam"]

    @admin.display(description=_("message envoyé"))
    def raw_zam(self, obj: PfiZam) -> str:
        return _pre(obj.raw)
