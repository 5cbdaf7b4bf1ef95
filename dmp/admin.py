"""Admin: feeding delays and new-documents rules (audited configuration), feeding orders, business
acks, DMP transaction traces and integrated-document links (read-only journals, traces exported
as CSV)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _

from dmp.categories import CHOICES as CATEGORY_CHOICES
from dmp.models import BusinessAck, DmpTransaction, FeedingDelay, FeedingOrder, IntegratedDmpDocument, NewDocumentsRule
from dmp.selectors.traces import EXPORT_HEADER, export_rows, transactions
from dpi.admin import AuditedAdmin, ReadOnlyAdmin, audited_csv_export
from dpi.codes import Profession
from dpi.models import AuditEvent
from patients.models import Episode

EXPORT_FILENAME = "traces-dmp.csv"


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
    patient_path = "document__patient"
    list_display = (
        "patient",
        "document",
        "channel",
        "purpose",
        "kind",
        "state",
        "trigger",
        "due_at",
        "attempts",
        "sent_at",
    )
    list_select_related = ("document__patient",)
    list_filter = ("state", "channel", "purpose", "kind", "trigger")
    search_fields = ("control_id", "document__patient__ipp", "document__patient__ins")
    date_hierarchy = "due_at"
    inlines = [BusinessAckInline]

    @admin.display(description=_("patient"), ordering="document__patient__birth_name")
    def patient(self, order: FeedingOrder) -> str:
        """The patient by IPP and name (the order's own number means nothing to a user)."""
        patient = order.document.patient
        return f"IPP {patient.ipp} · {patient.display_name}"


class TraceExportForm(forms.Form):
    """The query string of the dedicated export: a period (both days included) and a patient."""

    since = forms.DateField(required=False)
    until = forms.DateField(required=False)
    patient = forms.IntegerField(required=False, min_value=1)
    ins = forms.CharField(required=False, max_length=15)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError(_("La date de début est après la date de fin."))
        return data


@admin.register(DmpTransaction)
class DmpTransactionAdmin(ReadOnlyAdmin):
    """Every DMP transaction (SC.DMP/CONF.14-15): filtered here by period (date filter, date
    hierarchy) and patient (search on the INS, IPP or name), exported as CSV by the "select all"
    action, or by ``export/?since=&until=&patient=&ins=`` for any period; each export is audited."""

    patient_path = "patient"

    list_display = ("at", "kind", "user_name", "national_id", "profession_label", "patient_label", "finess_eg",
                    "document_count", "outcome", "error", "duration_ms")  # fmt: skip
    list_filter = ("kind", "outcome", ("at", admin.DateFieldListFilter), "finess_eg")
    search_fields = ("user_name", "national_id", "=ins", "=patient__ipp", "patient__birth_name", "patient__used_name")
    date_hierarchy = "at"
    list_select_related = ("patient",)
    list_per_page = 100
    show_full_result_count = False
    actions = ["export_csv"]

    @admin.display(description=_("profession"), ordering="profession")
    def profession_label(self, trace: DmpTransaction) -> str:
        return str(Profession(trace.profession).label) if trace.profession in Profession.values else trace.profession

    @admin.display(description=_("patient (INS)"), ordering="ins")
    def patient_label(self, trace: DmpTransaction) -> str:
        if trace.patient is None:
            return trace.ins
        patient = trace.patient
        return f"{patient.used_name or patient.birth_name} {patient.first_names} ({trace.ins})"

    @admin.display(description=_("erreur"))
    def error(self, trace: DmpTransaction) -> str:
        return " ".join(filter(None, [trace.error_code, trace.error_text[:80]]))

    @admin.action(description=_("Exporter en CSV"), permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[DmpTransaction]) -> HttpResponse:
        """The selected traces, or with "select all" every trace the filters and search keep."""
        queryset = queryset.order_by("at", "pk")
        return audited_csv_export(
            request,
            header=EXPORT_HEADER,
            rows=export_rows(queryset),
            filename=EXPORT_FILENAME,
            count=queryset.count(),
        )

    def get_urls(self) -> list[URLPattern]:
        export = path(
            "export/", self.admin_site.admin_view(self.export_view), name="dmp_dmptransaction_export"
        )  # before the default "<path:object_id>/" routes
        return [export, *super().get_urls()]

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """``export/?since=2025-01-01&until=2025-03-31&patient=<file id>&ins=<INS>``: every trace of
        the period (both days included), of the patient if named."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = TraceExportForm(request.GET)
        if not form.is_valid():
            return HttpResponseBadRequest(form.errors.as_text(), content_type="text/plain; charset=utf-8")
        data = form.cleaned_data
        queryset = transactions(since=data["since"], until=data["until"], patient_id=data["patient"], ins=data["ins"])
        return audited_csv_export(
            request,
            header=EXPORT_HEADER,
            rows=export_rows(queryset),
            filename=EXPORT_FILENAME,
            count=queryset.count(),
            patient_id=data["patient"],
        )


class NewDocumentsRuleForm(forms.ModelForm):
    categories = forms.MultipleChoiceField(
        label=_("types de documents comptés"), choices=CATEGORY_CHOICES, widget=forms.CheckboxSelectMultiple
    )
    episode_kinds = forms.MultipleChoiceField(
        label=_("types de prise en charge"), choices=Episode.Kind.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = NewDocumentsRule
        fields = ("legal_entity", "site", "care_unit", "specialty", "categories", "episode_kinds", "reference", "days")


@admin.register(NewDocumentsRule)
class NewDocumentsRuleAdmin(AuditedAdmin):
    """Which new DMP documents are counted where: a setting of our structures, audited as such."""

    audit_action = AuditEvent.Action.STRUCTURE_CHANGE
    form = NewDocumentsRuleForm
    list_display = ("__str__", "legal_entity", "site", "care_unit", "specialty", "reference", "days")
    list_filter = ("reference", "legal_entity", "site")
    search_fields = ("care_unit__name", "care_unit__code", "site__name", "legal_entity__name", "specialty")
    autocomplete_fields = ("legal_entity", "site", "care_unit")
    list_select_related = ("legal_entity", "site", "care_unit")


@admin.register(IntegratedDmpDocument)
class IntegratedDmpDocumentAdmin(ReadOnlyAdmin):
    patient_path = "document__patient"
    list_display = ("integrated_at", "document", "unique_id", "state", "checked_at")
    list_filter = ("state", ("integrated_at", admin.DateFieldListFilter))
    search_fields = ("=unique_id", "=document__patient__ins", "=document__patient__ipp")
    date_hierarchy = "integrated_at"
    list_select_related = ("document",)
