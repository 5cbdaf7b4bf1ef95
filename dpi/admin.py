"""Django admin: structures, users, roles and memberships (all changes audited), audit trail, peers,
acknowledged notices."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from allauth.mfa import admin as allauth_mfa_admin
from allauth.mfa.models import Authenticator
from allauth.usersessions import admin as allauth_sessions_admin
from allauth.usersessions.models import UserSession
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import models, transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.forms.models import model_to_dict
from django.http import HttpRequest, HttpResponse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from dpi.accounts.admin_users import AccountAdminMixin
from dpi.csvexport import csv_response
from dpi.models import (
    AuditEvent,
    CareUnit,
    Job,
    LegalEntity,
    Membership,
    NoticeAcknowledgement,
    Peer,
    Role,
    Site,
    User,
)
from dpi.services import audit, close_sessions

admin.site.site_header = _("Administration du DPI")
admin.site.site_title = _("DPI")


def _snapshot(obj: models.Model) -> dict[str, Any]:
    exclude = {"password", "token_hash"}
    return {key: str(value) for key, value in model_to_dict(obj).items() if key not in exclude}


class PatientReadingAdmin(admin.ModelAdmin):
    """An admin page of one object tied to a patient leaves a ``patient.open`` row (channel ``admin``), as
    a file opened in the DPI does. ``patient_path`` leads from the object to its patient: ``""`` for the
    patient itself, ``"patient"``, ``"document__patient"``...; ``None`` (default) for objects without one."""

    patient_path: str | None = None

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        if self.patient_path is not None and request.method == "GET" and response.status_code == 200:
            obj = self.get_object(request, unquote(object_id))
            patient = _follow(obj, self.patient_path)
            if patient is not None:
                audit(action=AuditEvent.Action.PATIENT_OPEN, request=request, obj=obj, patient_id=patient.pk,
                      detail={"channel": "admin", "path": request.path})  # fmt: skip
        return response


def _follow(obj: models.Model | None, path: str) -> models.Model | None:
    for name in filter(None, path.split("__")):
        obj = getattr(obj, name, None) if obj is not None else None
    return obj


class ReadOnlyAdmin(PatientReadingAdmin):
    """Histories and journals: browsed and exported, never added, edited or deleted by hand."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AuditedAdmin(PatientReadingAdmin):
    """Writes an audit row, in the same transaction, for every change made in the admin."""

    audit_action: str = AuditEvent.Action.STRUCTURE_CHANGE

    def _audit(
        self, request: HttpRequest, obj: models.Model, change: AuditEvent.Change, before: dict | None = None
    ) -> None:
        after = _snapshot(obj) if change != AuditEvent.Change.DELETED else None
        audit(action=self.audit_action, request=request, obj=obj, change=change, before=before, after=after)

    @transaction.atomic
    def save_model(self, request: HttpRequest, obj: models.Model, form: Any, change: bool) -> None:
        before = _snapshot(type(obj).objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        self._audit(request, obj, AuditEvent.Change.CHANGED if change else AuditEvent.Change.ADDED, before)

    @transaction.atomic
    def delete_model(self, request: HttpRequest, obj: models.Model) -> None:
        before = _snapshot(obj)
        self._audit(request, obj, AuditEvent.Change.DELETED, before)
        super().delete_model(request, obj)

    @transaction.atomic
    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for obj in queryset:
            self._audit(request, obj, AuditEvent.Change.DELETED, _snapshot(obj))
        super().delete_queryset(request, queryset)


@admin.register(LegalEntity)
class LegalEntityAdmin(AuditedAdmin):
    list_display = ["name", "finess_ej"]
    search_fields = ["name", "finess_ej"]


@admin.register(Site)
class SiteAdmin(AuditedAdmin):
    list_display = ["name", "finess_eg", "entity"]
    list_filter = ["legal_entity"]
    search_fields = ["name", "finess_eg"]
    list_select_related = ["legal_entity"]

    @admin.display(description=_("entité juridique"), ordering="legal_entity__name")
    def entity(self, site: Site) -> LegalEntity:
        return site.legal_entity


@admin.register(CareUnit)
class CareUnitAdmin(AuditedAdmin):
    list_display = ["name", "code", "site", "active"]
    list_filter = ["site", "active"]
    search_fields = ["name", "code"]


@admin.register(Role)
class RoleAdmin(AuditedAdmin):
    audit_action = AuditEvent.Action.HABILITATION_CHANGE
    list_display = ["label", "code", "scope", "may_break_glass"]
    list_filter = ["scope", "may_break_glass"]
    search_fields = ["label", "code"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["care_unit"]


@admin.register(Membership)
class MembershipAdmin(AuditedAdmin):
    audit_action = AuditEvent.Action.HABILITATION_CHANGE
    # French headers (the model's fields have no French verbose_name yet: that change waits for a migration).
    list_display = ["member", "unit", "member_role", "valid_until"]
    list_filter = ["role", "care_unit__site", "care_unit"]
    search_fields = ["user__username", "user__last_name", "user__rpps", "care_unit__name", "care_unit__code"]
    autocomplete_fields = ["user", "care_unit"]
    list_select_related = ["user", "care_unit", "role"]

    @admin.display(description=_("utilisateur"), ordering="user__username")
    def member(self, membership: Membership) -> User:
        return membership.user

    @admin.display(description=_("unité fonctionnelle"), ordering="care_unit__name")
    def unit(self, membership: Membership) -> CareUnit:
        return membership.care_unit

    @admin.display(description=_("rôle"), ordering="role__label")
    def member_role(self, membership: Membership) -> Role:
        return membership.role


@admin.register(User)
class UserAdmin(AccountAdminMixin, AuditedAdmin, BaseUserAdmin):
    audit_action = AuditEvent.Action.USER_CHANGE
    list_display = [
        "username",
        "last_name",
        "first_name",
        "national_id_type",
        "rpps",
        "profession",
        "is_active",
        "is_staff",
    ]
    list_filter = [
        "national_id_type",
        "profession",
        "specialty",
        "is_active",
        "is_staff",
        "memberships__care_unit__site",
    ]
    search_fields = ["username", "last_name", "first_name", "rpps", "adeli", "email"]
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (
            _("Identification nationale"),
            {"fields": ("national_id_type", "rpps", "adeli", "private_id", "profession", "specialty")},
        ),
        (
            _("Compte"),
            {
                "fields": (
                    "email_verified_at",
                    "must_change_password",
                    "password_changed_at",
                    "directory_dn",
                    "directory_synced_at",
                )
            },
        ),
    )
    readonly_fields = ["email_verified_at", "password_changed_at", "directory_dn", "directory_synced_at"]
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (
            _("Identification nationale"),
            {
                "fields": (
                    "first_name",
                    "last_name",
                    "email",
                    "national_id_type",
                    "rpps",
                    "adeli",
                    "private_id",
                    "profession",
                    "specialty",
                )
            },
        ),
    )
    inlines = [MembershipInline]
    actions = ["deactivate_users", "logout_everywhere", "export_accounts"]

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """Membership changes made inline are habilitation changes: audit each one."""
        instances = formset.save(commit=False)
        for deleted in formset.deleted_objects:
            audit(
                action=AuditEvent.Action.HABILITATION_CHANGE,
                request=request,
                obj=deleted,
                change=AuditEvent.Change.DELETED,
                before=_snapshot(deleted),
            )
            deleted.delete()
        for instance in instances:
            change_kind = AuditEvent.Change.CHANGED if instance.pk else AuditEvent.Change.ADDED
            instance.save()
            audit(
                action=AuditEvent.Action.HABILITATION_CHANGE,
                request=request,
                obj=instance,
                change=change_kind,
                after=_snapshot(instance),
            )
        formset.save_m2m()

    @admin.action(description=_("Désactiver les comptes sélectionnés"))
    @transaction.atomic
    def deactivate_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset.filter(is_active=True):
            user.is_active = False
            user.save(update_fields=["is_active"])
            self._audit(request, user, AuditEvent.Change.DEACTIVATED)
        close_sessions(queryset)
        self.message_user(request, _("Comptes désactivés et déconnectés."), messages.SUCCESS)

    @admin.action(description=_("Déconnecter partout"))
    @transaction.atomic
    def logout_everywhere(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        count = close_sessions(queryset)
        for user in queryset:
            self._audit(request, user, AuditEvent.Change.LOGGED_OUT_EVERYWHERE)
        self.message_user(request, _("%(count)d session(s) fermée(s).") % {"count": count}, messages.SUCCESS)


def audited_csv_export(
    request: HttpRequest,
    *,
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    filename: str,
    count: int,
    patient_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> HttpResponse:
    """A streamed, formula-safe CSV export of traces, itself audited: who extracted which file, how
    many rows, with which filters (the admin's query string), so that reading the traces leaves a trace."""
    filters = {key: request.GET.getlist(key) for key in request.GET}
    audit(
        action=AuditEvent.Action.TRACE_EXPORT,
        request=request,
        patient_id=patient_id,
        detail={"file": filename, "rows": count, "filters": filters, **(detail or {})},
    )
    return csv_response(header, rows, filename)


JSON_COLUMNS = ("before", "after", "detail")


def _cell(event: AuditEvent, column: str) -> object:
    value = getattr(event, column)
    if column in JSON_COLUMNS:
        return "" if value is None else json.dumps(value, ensure_ascii=False)
    return value


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    # The key columns fit a 1366 px screen: who (login and RPPS, or the peer) in one column, the patient by IPP
    # and name (never the internal id); the address and the detail are on the row's page and in the export.
    # The request id (a link filtering the journal on it) groups the rows of one user action.
    # The change kind, when there is one, is under the action, in the same column.
    list_display = ["when", "what", "who", "object_repr", "patient", "emergency", "request_link"]
    list_filter = ["action", "change", "emergency", ("at", admin.DateFieldListFilter)]
    search_fields = [
        "actor_username", "actor_rpps", "peer", "object_repr", "object_id", "=patient_id", "ip_address", "=request_id",
    ]  # fmt: skip
    date_hierarchy = "at"
    actions = ["export_csv"]
    list_per_page = 100
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditEvent]:
        """Each row's patient named in the same query (IPP, names), not one query per row.

        ``patient_id`` is a plain column (the trail is below every app): the model is looked up by name, as a
        foreign key to an upper app would name it, so ``dpi`` imports nothing of ``patients``."""
        patient = apps.get_model("patients", "Patient").objects.filter(pk=OuterRef("patient_id"))
        return (
            super()
            .get_queryset(request)
            .annotate(
                patient_ipp=Subquery(patient.values("ipp")[:1]),
                patient_birth_name=Subquery(patient.values("birth_name")[:1]),
                patient_first_names=Subquery(patient.values("first_names")[:1]),
            )
        )

    @admin.display(description=_("date"), ordering="at")
    def when(self, event: AuditEvent) -> str:
        return date_format(localtime(event.at), "d/m/Y H:i:s")

    @admin.display(description=_("action"), ordering="action")
    def what(self, event: AuditEvent) -> str:
        if not event.change:
            return event.get_action_display()
        return format_html("{}<br><small>{}</small>", event.get_action_display(), event.get_change_display())

    @admin.display(description=_("auteur"), ordering="actor_username")
    def who(self, event: AuditEvent) -> str:
        if event.peer:
            return f"{_('partenaire')} {event.peer}"
        return f"{event.actor_username} (RPPS {event.actor_rpps})" if event.actor_rpps else event.actor_username

    @admin.display(description=_("requête"))
    def request_link(self, event: AuditEvent) -> str:
        if event.request_id is None:
            return ""
        return format_html('<a href="?request_id={}">{}</a>', event.request_id, str(event.request_id)[:8])

    @admin.display(description=_("patient"), ordering="patient_id")
    def patient(self, event: AuditEvent) -> str:
        if event.patient_id is None:
            return ""
        ipp = getattr(event, "patient_ipp", None)
        if ipp is None:
            return _("patient supprimé")
        name = " ".join(filter(None, [event.patient_birth_name, event.patient_first_names]))
        return f"IPP {ipp} · {name}"

    @admin.action(description=_("Exporter en CSV"))
    def export_csv(self, request: HttpRequest, queryset: QuerySet[AuditEvent]) -> HttpResponse:
        columns = [
            "at",
            "request_id",
            "action",
            "change",
            "actor_username",
            "actor_rpps",
            "peer",
            "ip_address",
            "object_type",
            "object_id",
            "object_repr",
            "patient_id",
            "emergency",
            "before",
            "after",
            "detail",
        ]
        last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        queryset = queryset.filter(pk__lte=last)  # not the export's own audit row, written before streaming
        rows = ([_cell(event, column) for column in columns] for event in queryset.iterator())
        return audited_csv_export(request, header=columns, rows=rows, filename="audit.csv", count=queryset.count())


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    """The long work of the DPI (directory loads and synchronisations, exports): state, attempts, last error."""

    list_display = ["created_at", "kind", "status", "progress", "attempts", "acting_user", "finished_at", "last_error"]
    list_filter = ["kind", "status"]
    list_select_related = ["acting_user"]
    search_fields = ["=request_id", "acting_user__username"]

    @admin.display(description=_("avancement"))
    def progress(self, job: Job) -> str:
        return f"{job.done} / {job.total}" if job.total is not None else str(job.done or "")


@admin.register(NoticeAcknowledgement)
class NoticeAcknowledgementAdmin(ReadOnlyAdmin):
    """Who acknowledged which version of the mandatory notice (REM SC.DMP/CONF.11), when, from where."""

    list_display = ["acknowledged_at", "user", "notice", "ip_address"]
    list_filter = ["notice", ("acknowledged_at", admin.DateFieldListFilter)]
    search_fields = ["user__username", "user__last_name", "user__rpps", "user__adeli", "notice"]
    date_hierarchy = "acknowledged_at"
    list_select_related = ["user"]


@admin.register(Peer)
class PeerAdmin(AuditedAdmin):
    audit_action = AuditEvent.Action.PEER_CHANGE
    list_display = ["name", "token_prefix", "active", "created_at", "last_used_at"]
    list_filter = ["active"]
    search_fields = ["name"]
    readonly_fields = ["token_prefix", "created_at", "last_used_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Peers are created with ``manage.py create_peer NAME``, which prints the token once."""
        return False


# django-allauth's own admins (second factors, sessions) with French column headers: the library has no
# French labels for these fields.
admin.site.unregister(Authenticator)
admin.site.unregister(UserSession)


@admin.register(Authenticator)
class AuthenticatorAdmin(allauth_mfa_admin.AuthenticatorAdmin):
    list_display = ("owner", "kind", "created", "last_used")

    @admin.display(description=_("utilisateur"), ordering="user__username")
    def owner(self, authenticator: Authenticator) -> str:
        return str(authenticator.user)

    @admin.display(description=_("type"), ordering="type")
    def kind(self, authenticator: Authenticator) -> str:
        return authenticator.get_type_display()

    @admin.display(description=_("créé le"), ordering="created_at")
    def created(self, authenticator: Authenticator) -> object:
        return authenticator.created_at

    @admin.display(description=_("dernier usage"), ordering="last_used_at")
    def last_used(self, authenticator: Authenticator) -> object:
        return authenticator.last_used_at


@admin.register(UserSession)
class UserSessionAdmin(allauth_sessions_admin.UserSessionAdmin):
    list_display = ("owner", "created", "last_seen", "address", "browser")

    @admin.display(description=_("utilisateur"), ordering="user__username")
    def owner(self, session: UserSession) -> str:
        return str(session.user)

    @admin.display(description=_("ouverte le"), ordering="created_at")
    def created(self, session: UserSession) -> object:
        return session.created_at

    @admin.display(description=_("dernière activité"), ordering="last_seen_at")
    def last_seen(self, session: UserSession) -> object:
        return session.last_seen_at

    @admin.display(description=_("adresse"), ordering="ip")
    def address(self, session: UserSession) -> str:
        return session.ip or ""

    @admin.display(description=_("navigateur"))
    def browser(self, session: UserSession) -> str:
        return session.user_agent


from dpi.accounts import admin as accounts_admin  # noqa: E402, F401  (registers the accounts' pages)
