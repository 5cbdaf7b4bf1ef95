from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime

from directory.models import Correspondent, DirectoryLoad, DirectoryPerson, DirectorySchedule, PracticeSituation
from directory.services.directory_load import request_load
from directory.services.directory_users import UserNotCreated, create_user_from_directory
from dpi.admin import AuditedAdmin, ReadOnlyAdmin
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


class SituationInline(admin.TabularInline):
    model = PracticeSituation
    fields = ("organization", "mode", "role", "address", "postal_code", "city", "finess_site", "active")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(DirectoryPerson)
class DirectoryPersonAdmin(ReadOnlyAdmin):
    """The loaded national directory (read only); an administrator creates DPI users from it (ANN/va1.02)."""

    list_display = ("rpps", "family_name", "given_name", "profession", "specialty", "active", "updated_at")
    list_filter = ("active", "profession")
    search_fields = ("=rpps", "family_name", "given_name")
    show_full_result_count = False  # a million rows: no COUNT(*) per page
    inlines = [SituationInline]
    actions = ["create_users"]

    @admin.action(description="Créer l'utilisateur du DPI (nom, profession, spécialité de l'Annuaire)")
    def create_users(self, request: HttpRequest, queryset: QuerySet[DirectoryPerson]) -> None:
        for person in queryset[:50]:
            try:
                user = create_user_from_directory(rpps=person.rpps, acting_user=request.user, request=request)
            except UserNotCreated as refusal:
                self.message_user(request, str(refusal), messages.ERROR)
            else:
                self.message_user(request, f"Utilisateur {user.username} créé ({user.display_name}, RPPS {user.rpps}).")

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(DirectoryLoad)
class DirectoryLoadAdmin(admin.ModelAdmin):
    """Loads of the extract: an administrator starts one by naming the file; the report is read only."""

    list_display = (
        "created_at",
        "status",
        "trigger",
        "lines_read",
        "added",
        "changed",
        "deactivated",
        "refused",
        "duration",
    )
    list_filter = ("status", "trigger")
    fields = (
        "path", "status", "trigger", "requested_by", "created_at", "started_at", "finished_at", "duration",
        "lines_read", "added", "changed", "deactivated", "persons", "ignored", "refused", "error",
        "refused_table", "updates_table",
    )  # fmt: skip

    def get_readonly_fields(self, request: HttpRequest, obj: DirectoryLoad | None = None) -> tuple[str, ...]:
        report = tuple(name for name in self.fields if name != "path")
        return self.fields if obj else report

    def get_fields(self, request: HttpRequest, obj: DirectoryLoad | None = None) -> tuple[str, ...]:
        return self.fields if obj else ("path",)

    def save_model(self, request: HttpRequest, obj: DirectoryLoad, form: object, change: bool) -> None:
        with transaction.atomic():
            loaded = request_load(path=obj.path, acting_user=request.user)
        obj.pk = loaded.pk

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return obj is None

    @admin.display(description="durée")
    def duration(self, load: DirectoryLoad) -> str:
        return f"{load.seconds:.1f} s" if load.seconds is not None else "—"

    @admin.display(description="lignes refusées (1000 premières)")
    def refused_table(self, load: DirectoryLoad) -> str:
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td><code>{}</code></td></tr>", (
            (row["line"], row["reason"], row["text"][:200]) for row in load.refused_lines
        ))  # fmt: skip
        return format_html("<table><tr><th>ligne</th><th>motif</th><th>contenu</th></tr>{}</table>", rows)

    @admin.display(description="utilisateurs et correspondants mis à jour")
    def updates_table(self, load: DirectoryLoad) -> str:
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", (
            (row["kind"], row["name"], row["before"], row["after"]) for row in load.updates
        ))  # fmt: skip
        return format_html("<table><tr><th></th><th>qui</th><th>avant</th><th>après</th></tr>{}</table>", rows)


@admin.register(DirectorySchedule)
class DirectoryScheduleAdmin(AuditedAdmin):
    """How often the extract is loaded (ANN/va1.04), with the last run's report beside it."""

    list_display = ("path", "enabled", "every_hours", "last_run")
    readonly_fields = ("last_run",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not DirectorySchedule.objects.exists()

    @admin.display(description="dernier chargement")
    def last_run(self, schedule: DirectorySchedule) -> str:
        load = DirectoryLoad.objects.first()
        if load is None:
            return "aucun"
        return (
            f"{localtime(load.created_at):%d/%m/%Y %H:%M} {load.get_status_display()} : {load.lines_read} lignes lues, "
            f"{load.added} ajoutées, {load.changed} modifiées, {load.deactivated} désactivées, "
            f"{load.refused} refusées" + (f", {load.seconds:.0f} s" if load.seconds is not None else "")
        )
