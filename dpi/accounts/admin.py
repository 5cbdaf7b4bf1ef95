"""Admin pages of the accounts chapter: the admin's login handed to the DPI's, account lifecycle traces
(IAM.91), the directory's group mappings and synchronisations (IAM.83). Imported by :mod:`dpi.admin`."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from dpi.accounts.sync import request_directory_sync
from dpi.admin import AuditedAdmin, AuditEventAdmin, ReadOnlyAdmin
from dpi.models import AccountEvent, AuditEvent, DirectoryGroupMapping, DirectorySyncRun


class AccountActionFilter(admin.SimpleListFilter):
    title = _("action")
    parameter_name = "action__exact"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(action.value, action.label) for action in AccountEvent.ACTIONS]

    def queryset(self, request: HttpRequest, queryset: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        return queryset.filter(action=self.value()) if self.value() else queryset


def admin_login(request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
    """The admin's own login form would take a password alone: no second factor, no lock-out, no audit
    (REM IAM.92, IAM.91). Administrators sign in through the DPI's login like everyone, then come back."""
    target = request.GET.get(REDIRECT_FIELD_NAME, "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("admin:index")
    if not request.user.is_authenticated:
        return redirect_to_login(target, login_url=reverse("account_login"))
    if request.user.is_staff:
        return HttpResponseRedirect(target)
    return HttpResponseForbidden(_("Votre compte n'a pas accès à l'administration."))


admin.site.login = admin_login


@admin.register(AccountEvent)
class AccountEventAdmin(AuditEventAdmin):
    """The audit trail narrowed to the accounts' life; filters and CSV export as the full trail."""

    list_display = ["when", "action", "who", "object_repr", "result", "provider", "ip_address"]
    list_filter = [AccountActionFilter, ("at", admin.DateFieldListFilter)]

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditEvent]:
        return super().get_queryset(request).filter(action__in=AccountEvent.ACTIONS)

    @admin.display(description=_("résultat"))
    def result(self, event: AuditEvent) -> str:
        if event.action in (AuditEvent.Action.LOGIN_FAILURE, AuditEvent.Action.LOGIN_MFA_FAILURE,
                            AuditEvent.Action.LOGIN_LOCKED, AuditEvent.Action.PASSWORD_CHANGE_FAILURE):  # fmt: skip
            return str(_("échec"))
        return str(_("échec")) if event.detail.get("result") == "failure" else str(_("succès"))

    @admin.display(description=_("fournisseur"))
    def provider(self, event: AuditEvent) -> str:
        return str(event.detail.get("provider", ""))


@admin.register(DirectoryGroupMapping)
class DirectoryGroupMappingAdmin(AuditedAdmin):
    audit_action = AuditEvent.Action.HABILITATION_CHANGE
    list_display = ["group_dn", "role", "care_unit"]
    list_filter = ["role", "care_unit__site"]
    search_fields = ["group_dn", "care_unit__name", "care_unit__code"]
    autocomplete_fields = ["care_unit"]
    list_select_related = ["role", "care_unit"]


@admin.register(DirectorySyncRun)
class DirectorySyncRunAdmin(ReadOnlyAdmin):
    list_display = ["requested_at", "status", "requested_by", "created", "updated", "deactivated", "rejected", "error"]
    list_filter = ["status"]
    fields = readonly_fields = [
        *(field.name for field in DirectorySyncRun._meta.fields if field.name not in {"id", "report"}),
        "entries",
    ]
    change_list_template = "admin/dpi/directorysyncrun/change_list.html"

    @admin.display(description=_("rapport par entrée"))
    def entries(self, run: DirectorySyncRun) -> str:
        levels = {"error": _("refusée"), "warning": _("avertissement")}
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li><strong>{}</strong> {} ({}) : {}</li>",
                ((levels.get(line["level"], line["level"]), line["login"], line["dn"], " ; ".join(line["problems"]))
                 for line in run.report),
            ),
        ) if run.report else "—"  # fmt: skip

    def get_urls(self) -> list:
        urls = [path("synchroniser/", self.admin_site.admin_view(self.sync_now), name="dpi_directory_sync_now")]
        return urls + super().get_urls()

    def sync_now(self, request: HttpRequest) -> HttpResponse:
        """POST: queue a synchronisation now; the list shows its progress (never waits on the directory)."""
        if request.method == "POST" and request.user.has_perm("dpi.add_directorysyncrun"):
            request_directory_sync(acting_user=request.user)
            self.message_user(request, _("Synchronisation demandée : elle apparaît ci-dessous."), messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:dpi_directorysyncrun_changelist"))
