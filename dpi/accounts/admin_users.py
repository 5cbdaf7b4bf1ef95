"""What the admin's user pages add for the accounts chapter: identity changes verified and notified
(REM IE.31, IE.32), password changes by an administrator audited (IAM.91), the account export (IAM.94)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from dpi.accounts.contacts import IDENTITY_FIELDS, identity_changes, notify_previous_contact, start_contact_verification
from dpi.accounts.export import HEADER, account_rows
from dpi.csvexport import csv_response
from dpi.models import AuditEvent, User
from dpi.services import audit


def _temporary_password(user: User) -> None:
    """A password an administrator typed for someone else is known to two people: changed at first sign-in."""
    User.objects.filter(pk=user.pk).update(must_change_password=True)
    user.must_change_password = True


class AccountAdminMixin:
    """Mixed into the user admin (before ``AuditedAdmin``)."""

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        before = {field: form.initial.get(field) for field in IDENTITY_FIELDS} if change else {}
        email_changed = (before.get("email") or "").lower() != (obj.email or "").lower()
        if email_changed:
            obj.email_verified_at = None
        super().save_model(request, obj, form, change)  # type: ignore[misc]
        if not change and obj.has_usable_password():
            _temporary_password(obj)
        if email_changed and obj.email:
            self._send_code(request, obj)
        notify_previous_contact(user=obj, address=before.get("email") or "", changes=identity_changes(before, obj))

    def _send_code(self, request: HttpRequest, user: User) -> None:
        try:
            start_contact_verification(user=user, email=user.email, acting_user=request.user, request=request)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.WARNING)  # type: ignore[attr-defined]
        else:
            self.message_user(  # type: ignore[attr-defined]
                request,
                _("Un code de vérification a été envoyé à %(email)s : l'utilisateur le saisit dans « Mon compte ».")
                % {"email": user.email},
                messages.INFO,
            )

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        response = super().user_change_password(request, id, form_url)  # type: ignore[misc]
        if request.method == "POST":
            user = User.objects.filter(pk=id).first() if str(id).isdigit() else None
            done = response.status_code == 302
            if done and user is not None and user != request.user:
                _temporary_password(user)
            audit(
                action=AuditEvent.Action.PASSWORD_CHANGE if done else AuditEvent.Action.PASSWORD_CHANGE_FAILURE,
                request=request,
                obj=user,
                detail={"result": "success" if done else "refused", "by": "administrator"},
            )
        return response

    @admin.action(description=_("Exporter les comptes et leurs habilitations (CSV, recertification)"))
    @transaction.atomic
    def export_accounts(self, request: HttpRequest, queryset: QuerySet[User]) -> HttpResponse:
        count = queryset.count()
        audit(action=AuditEvent.Action.ACCOUNT_EXPORT, request=request, detail={"file": "comptes.csv", "rows": count})
        return csv_response(HEADER, account_rows(queryset), "comptes.csv")
