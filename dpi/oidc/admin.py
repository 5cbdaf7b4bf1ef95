"""The identities linked to the accounts (allauth's ``SocialAccount``) in the admin, audited like every admin
change: an administrator may link a hospital-provider identity to an account (provider ``hopital``, uid = that
provider's ``sub``) or remove a link. The providers are configured in the settings, not in the database, and
their tokens are not stored: allauth's admins of those are removed."""

from __future__ import annotations

from typing import Any

from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django import forms
from django.conf import settings
from django.contrib import admin
from django.db import models

from dpi.admin import AuditedAdmin
from dpi.models import AuditEvent

for model in (SocialApp, SocialToken, SocialAccount):
    admin.site.unregister(model)


@admin.register(SocialAccount)
class LinkedIdentityAdmin(AuditedAdmin):
    audit_action = AuditEvent.Action.USER_CHANGE
    list_display = ("user", "provider", "uid", "date_joined", "last_login")
    list_filter = ("provider",)
    search_fields = ("uid", "user__username", "user__rpps", "user__last_name")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    fields = ("user", "provider", "uid", "date_joined", "last_login", "extra_data")
    readonly_fields = ("date_joined", "last_login", "extra_data")

    def formfield_for_dbfield(self, db_field: models.Field, request: Any, **kwargs: Any) -> forms.Field | None:
        if db_field.name == "provider":
            choices = [(provider_id, config["name"]) for provider_id, config in settings.OIDC_PROVIDERS.items()]
            return forms.ChoiceField(choices=choices, label="Fournisseur d'identité")
        if db_field.name == "uid":
            kwargs["help_text"] = "PSC : l'identifiant national (8 + RPPS) ; hôpital : le « sub » du fournisseur."
        return super().formfield_for_dbfield(db_field, request, **kwargs)
