"""The simulators in the admin: their behaviours (editable, to make them fail), what they received and sent,
and the sandbox DMP's content (patients' DMPs, documents, authorisations)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from dpi.admin import AuditedAdmin, ReadOnlyAdmin
from sandbox.models import (
    DmpAuthorisation,
    DmpBehaviour,
    DmpCall,
    DmpDocument,
    PatientDmp,
    PfiBehaviour,
    PfiMessage,
    PfiZam,
)


def _pre(text: str) -> str:
    return format_html('<pre style="white-space: pre-wrap; word-break: break-all">{}</pre>', text.replace("\r", "\n"))


class BehaviourAdmin(AuditedAdmin):
    """A simulator's behaviour: one row, edited (and audited), never added nor deleted."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponseRedirect:
        """One row: go straight to its form."""
        behaviour = self.model.current()
        info = self.model._meta.app_label, self.model._meta.model_name
        return HttpResponseRedirect(reverse("admin:{}_{}_change".format(*info), args=[behaviour.pk]))


@admin.register(PfiBehaviour)
class PfiBehaviourAdmin(BehaviourAdmin):
    list_display = ["mode", "slow_seconds", "zam_delay_seconds", "updated_at"]
    fields = ["mode", "slow_seconds", "zam_delay_seconds"]


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


# --- The sandbox DMP ----------------------------------------------------------------------------


@admin.register(DmpBehaviour)
class DmpBehaviourAdmin(BehaviourAdmin):
    list_display = ["mode", "slow_seconds", "updated_at"]
    fields = ["mode", "slow_seconds"]


class DmpDocumentInline(admin.TabularInline):
    model = DmpDocument
    fields = ["creation_time", "type_label", "title", "version", "status", "masked_to_professionals"]
    fields += ["invisible_to_patient", "author_institution"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ["-creation_time", "-version"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class DmpAuthorisationInline(admin.TabularInline):
    model = DmpAuthorisation
    fields = ["national_id", "until", "created_at"]
    extra = 0


@admin.register(PatientDmp)
class PatientDmpAdmin(AuditedAdmin):
    """A demo user closes a DMP, blocks a professional, grants or removes an authorisation."""

    list_display = ["birth_name", "first_names", "ins", "status", "linked_to_mes", "created_at"]
    list_filter = ["status", "linked_to_mes"]
    search_fields = ["=ins", "birth_name"]
    fields = [
        ("ins", "ins_oid"),
        ("status", "closed_at", "closure_reason"),
        "linked_to_mes",
        ("birth_name", "first_names"),
        ("birth_date", "sex", "birth_place_insee"),
        "blocked_professionals",
        "attending_physician_id",
    ]
    inlines = [DmpAuthorisationInline, DmpDocumentInline]


@admin.register(DmpDocument)
class DmpDocumentAdmin(ReadOnlyAdmin):
    list_display = ["creation_time", "dmp", "type_label", "title", "version", "status", "author_institution"]
    list_filter = ["status", "type_code", "masked_to_professionals", "invisible_to_patient"]
    search_fields = ["=unique_id", "=entry_uuid", "=lid", "=dmp__ins", "title"]
    list_select_related = ["dmp"]
    exclude = ["content"]
    readonly_fields = ["content_text"]

    @admin.display(description=_("contenu"))
    def content_text(self, obj: DmpDocument) -> str:
        return _pre(bytes(obj.content).decode("utf-8", errors="replace"))


@admin.register(DmpCall)
class DmpCallAdmin(ReadOnlyAdmin):
    """What the DPI sent: who (NameID, roles, structure), how, about whom, and what the DMP answered."""

    list_display = ["received_at", "transaction", "name_id", "subject_name", "patient_ins", "query_id", "outcome"]
    list_filter = ["endpoint", "transaction", "outcome", "authentication_class", "purpose_of_use"]
    date_hierarchy = "received_at"
    search_fields = ["=name_id", "patient_ins", "subject_name", "outcome_text"]
    exclude = ["raw_request"]
    readonly_fields = ["raw"]

    @admin.display(description=_("requête reçue"))
    def raw(self, obj: DmpCall) -> str:
        return _pre(obj.raw_request)
