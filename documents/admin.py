"""Admin: the portability exports (REM PORT/va1.01), asked for, followed and downloaded by an administrator;
the writing templates of the documents (REM HOP/va1.07), audited like every structure change.

Only superusers and holders of ``documents.run_portability_export`` see the page. Asking for an export
and downloading its archive each leave a ``trace.export`` row saying what was exported.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from documents import portability
from documents.models import Document, DocumentTemplate, PatientReplyDefault, PortabilityExport, WritingRule
from documents.prefill import PLACEHOLDERS, carry_choices, unknown_placeholders
from documents.tasks import build_portability_export
from documents.types import SEGUR_TYPE_CHOICES, SEGUR_TYPES
from dpi.admin import AuditedAdmin
from dpi.jobs import queue_job
from dpi.models import AuditEvent, Job
from dpi.services import audit, audit_row

PERMISSION = "documents.run_portability_export"


def _type_choices() -> list[tuple[str, str]]:
    """The document types present in the DPI (produced or received), by label."""
    labels = dict(Document.objects.order_by().values_list("type_code", "type_label").distinct())  # one per code
    return sorted(((code, f"{label} ({code})") for code, label in labels.items()), key=lambda choice: choice[1])


class PortabilityExportForm(forms.ModelForm):
    type_codes = forms.MultipleChoiceField(
        label=_("Types de documents"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Aucun type coché : tous les types."),
    )

    class Meta:
        model = PortabilityExport
        fields = ("period_start", "period_end", "versions", "origin", "type_codes")
        widgets = {"period_start": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                   "period_end": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["type_codes"].choices = _type_choices()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and start > end:
            raise forms.ValidationError(_("La date de début est après la date de fin."))
        return data


def criteria(job: PortabilityExport) -> dict[str, Any]:
    """What an export covers, as the audit trail records it."""
    return {
        "portability_export": job.pk,
        "since": job.period_start.isoformat(),
        "until": job.period_end.isoformat(),
        "versions": job.versions,
        "origin": job.origin,
        "types": list(job.type_codes),
    }


@admin.register(PortabilityExport)
class PortabilityExportAdmin(admin.ModelAdmin):
    """Ask for an export (the add form), follow it in the list (its state cell polls while it runs),
    download its archive; a finished or failed export may be deleted, with its archive."""

    form = PortabilityExportForm
    list_display = ("__str__", "created_at", "requested_by", "versions", "origin", "types", "state_cell")
    list_filter = ("state", "versions", "origin")
    list_select_related = ("requested_by",)
    readonly_fields = ("state", "requested_by", "period_start", "period_end", "versions", "origin", "type_codes",
                       "total", "done", "file_name", "size", "sha256", "error", "created_at", "started_at",
                       "finished_at")  # fmt: skip

    def _allowed(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.has_perm(PERMISSION)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: PortabilityExport | None = None) -> bool:
        return self._allowed(request) and (obj is None or not obj.is_active)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"period_end": timezone.localdate(), **super().get_changeform_initial_data(request)}

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return self.readonly_fields if obj is not None else ()

    @admin.display(description=_("types"))
    def types(self, job: PortabilityExport) -> str:
        return ", ".join(job.type_codes) or str(_("tous"))

    @admin.display(description=_("état"))
    def state_cell(self, job: PortabilityExport) -> str:
        return render_to_string("documents/portability/_state.html", {"job": job})

    @transaction.atomic
    def save_model(self, request: HttpRequest, obj: PortabilityExport, form: Any, change: bool) -> None:
        obj.requested_by = request.user
        obj.job = queue_job(kind=Job.Kind.PORTABILITY_EXPORT, acting_user=request.user)
        super().save_model(request, obj, form, change)
        audit(action=AuditEvent.Action.TRACE_EXPORT, request=request, obj=obj,
              change=AuditEvent.Change.REQUESTED, detail={**criteria(obj)})  # fmt: skip
        transaction.on_commit(lambda: build_portability_export.delay(obj.pk))

    def delete_model(self, request: HttpRequest, obj: PortabilityExport) -> None:
        portability.delete_archive(obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[PortabilityExport]) -> None:
        for job in queryset:
            portability.delete_archive(job)
        super().delete_queryset(request, queryset)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple[list, dict, set, list]:
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        active = [job for job in objs if job.is_active]
        return deleted, counts, perms_needed, protected + [str(job) for job in active]

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("<int:job_id>/download/", wrap(self.download_view), name="documents_portabilityexport_download"),
            path("<int:job_id>/state/", wrap(self.state_view), name="documents_portabilityexport_state"),
            *super().get_urls(),
        ]

    def state_view(self, request: HttpRequest, job_id: int) -> HttpResponse:
        """The state cell alone, for its poll (``X-DPI-Background``: it does not keep the session alive)."""
        if not self._allowed(request):
            raise PermissionDenied
        return HttpResponse(self.state_cell(get_object_or_404(PortabilityExport, pk=job_id)))

    def download_view(self, request: HttpRequest, job_id: int) -> FileResponse:
        """The finished archive, streamed from the disk; the download is audited with what it holds."""
        if not self._allowed(request):
            raise PermissionDenied
        job = get_object_or_404(PortabilityExport, pk=job_id, state=PortabilityExport.State.DONE)
        archive = portability.archive_path(job)
        if not archive.is_file():
            raise Http404(_("Archive absente du disque."))
        audit(action=AuditEvent.Action.TRACE_EXPORT, request=request, obj=job,
              change=AuditEvent.Change.DOWNLOADED, detail={"file": job.file_name, "rows": job.total, "size": job.size,
                      "sha256": job.sha256, **criteria(job)})  # fmt: skip
        _trace_ins_exported(request, job)
        return FileResponse(archive.open("rb"), as_attachment=True, filename=job.file_name)


def _trace_ins_exported(request: HttpRequest, job: PortabilityExport) -> None:
    """The archive carries the INS of its patients out of the DPI: one ``ins.export`` row per patient (REM
    INS/va1.39), shown on the patient's INS traces page as "Administration : Export n° …"."""
    AuditEvent.objects.bulk_create(
        (
            audit_row(
                action=AuditEvent.Action.INS_EXPORT,
                request=request,
                obj=job,
                patient_id=patient_id,
                detail={"channel": "admin", "path": request.path, "ins": ins, "portability_export": job.pk},
            )
            for patient_id, ins in portability.archived_ins(job).items()
        ),
        batch_size=1000,
    )


PLACEHOLDER_HELP = _("Champs de remplacement : %(names)s. Toute autre accolade est refusée.") % {
    "names": ", ".join(f"{{{name}}} ({label})" for name, (label, _value) in PLACEHOLDERS.items())
}


class DocumentTemplateForm(forms.ModelForm):
    """The template's own fields; the per-section fields (``text__<field>``, ``carry__<field>``) are added
    for its type by :meth:`DocumentTemplateAdmin.get_form`."""

    type_code = forms.ChoiceField(
        label=_("Type de document"),
        choices=SEGUR_TYPE_CHOICES,
        help_text=_("Les rubriques du type s'affichent après « Enregistrer et continuer les modifications »."),
    )

    class Meta:
        model = DocumentTemplate
        fields = ("type_code", "care_unit", "name", "active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, section in self.instance.sections.items():
            if isinstance(section, dict):
                self.initial.setdefault(f"text__{name}", section.get("text", ""))
                self.initial.setdefault(f"carry__{name}", section.get("carry_from", ""))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for name, value in list(data.items()):
            unknown = unknown_placeholders(value) if name.startswith("text__") and isinstance(value, str) else []
            if unknown:
                names = ", ".join(f"{{{n}}}" for n in unknown)
                self.add_error(name, _("Champ de remplacement inconnu : %(names)s.") % {"names": names})
        return data

    def save(self, commit: bool = True) -> DocumentTemplate:
        segur = SEGUR_TYPES.get(self.cleaned_data.get("type_code", ""))
        if segur is not None and any(f"text__{spec.name}" in self.fields for spec in segur.fields):
            self.instance.sections = {
                spec.name: {
                    "text": self.cleaned_data.get(f"text__{spec.name}", ""),
                    "carry_from": self.cleaned_data.get(f"carry__{spec.name}", ""),
                }
                for spec in segur.fields
            }
        return super().save(commit)


def _section_fields(type_code: str) -> dict[str, forms.Field]:
    """The default text (and, for a text or table field, the field to carry over) of each section of the type."""
    segur = SEGUR_TYPES.get(type_code)
    fields: dict[str, forms.Field] = {}
    for spec in segur.fields if segur else ():
        if spec.is_choice:
            fields[f"text__{spec.name}"] = forms.ChoiceField(
                label=_("Valeur par défaut"), required=False, choices=[("", "—"), *spec.choices]
            )
            continue
        fields[f"text__{spec.name}"] = forms.CharField(
            label=_("Texte par défaut"), required=False, max_length=20000, help_text=PLACEHOLDER_HELP,
            widget=forms.Textarea(attrs={"rows": 3}),
        )  # fmt: skip
        fields[f"carry__{spec.name}"] = forms.ChoiceField(
            label=_("Reprendre du dernier document validé du patient"),
            required=False,
            choices=[("", "— (texte par défaut)"), *carry_choices()],
            help_text=_("S'il existe et que la rubrique y est remplie, son texte remplace le texte par défaut."),
        )
    return fields


@admin.register(DocumentTemplate)
class DocumentTemplateAdmin(AuditedAdmin):
    """Templates per document type and care unit: the most specific one pre-fills the writing form."""

    form = DocumentTemplateForm
    list_display = ("name", "type_label", "care_unit", "active")
    list_filter = ("type_code", "active", "care_unit")
    search_fields = ("name",)
    autocomplete_fields = ("care_unit",)

    def _type_code(self, request: HttpRequest, obj: DocumentTemplate | None) -> str:
        return request.POST.get("type_code") or (obj.type_code if obj else request.GET.get("type_code", ""))

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = type("DocumentTemplateTypedForm", (self.form,), _section_fields(self._type_code(request, obj)))
        return super().get_form(request, obj, change, form=form, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> list[tuple[Any, dict]]:
        segur = SEGUR_TYPES.get(self._type_code(request, obj))
        sections = [
            (spec.label, {"fields": [f"text__{spec.name}"] + ([] if spec.is_choice else [f"carry__{spec.name}"])})
            for spec in (segur.fields if segur else ())
        ]
        return [(None, {"fields": ["type_code", "care_unit", "name", "active"]}), *sections]

    @admin.display(description=_("type de document"), ordering="type_code")
    def type_label(self, template: DocumentTemplate) -> str:
        segur = SEGUR_TYPES.get(template.type_code)
        return segur.short_label if segur else template.type_code


@admin.register(WritingRule)
class WritingRuleAdmin(AuditedAdmin):
    """Who may draft and who may validate each document type (REM HOP/va1.04): a change is a habilitation
    change, audited; it applies at the next writing act (docs/documents.md, "Writing rules")."""

    audit_action = AuditEvent.Action.HABILITATION_CHANGE
    list_display = ["type_code", "profession", "role", "may_draft", "may_validate"]
    list_editable = ["may_draft", "may_validate"]
    list_filter = ["type_code", "profession", "role"]


class PatientReplyDefaultForm(forms.ModelForm):
    type_code = forms.ChoiceField(label=_("Type de document"), choices=SEGUR_TYPE_CHOICES)

    class Meta:
        model = PatientReplyDefault
        fields = ("type_code", "patient_may_reply")


@admin.register(PatientReplyDefault)
class PatientReplyDefaultAdmin(AuditedAdmin):
    """Per type, whether a document sent to the patient's Mon espace santé mailbox lets them reply (the author
    may change it per document); a type without a row: no reply (NTE « FIN »)."""

    form = PatientReplyDefaultForm
    list_display = ("type_code", "type_label", "patient_may_reply")

    @admin.display(description=_("libellé"))
    def type_label(self, obj: PatientReplyDefault) -> str:
        segur = SEGUR_TYPES.get(obj.type_code)
        return segur.label if segur else obj.type_code
