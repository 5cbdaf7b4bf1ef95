"""The "Mon compte" page: the attributes stored about the user (REM SC.SSI/IE.33) and the verification of
their recovery e-mail address (IE.31, IE.32)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from dpi.accounts.contacts import confirm_contact, pending_verification, start_contact_verification
from dpi.accounts.forms import CodeForm, ContactForm
from dpi.oidc.views import linked_providers


def _page(
    request: HttpRequest, contact_form: ContactForm | None = None, code_form: CodeForm | None = None
) -> HttpResponse:
    user = request.user
    context = {
        "memberships": user.memberships.select_related("role", "care_unit__site__legal_entity"),
        "pending": pending_verification(user),
        "contact_form": contact_form or ContactForm(),
        "code_form": code_form or CodeForm(),
        **linked_providers(request),
    }
    status = 400 if any(form is not None and form.errors for form in (contact_form, code_form)) else 200
    return render(request, "dpi/my_account.html", context, status=status)


@login_required
@require_GET
def my_account(request: HttpRequest) -> HttpResponse:
    return _page(request)


@login_required
@require_POST
def change_contact(request: HttpRequest) -> HttpResponse:
    form = ContactForm(request.POST)
    if form.is_valid():
        try:
            start_contact_verification(
                user=request.user, email=form.cleaned_data["email"], acting_user=request.user, request=request
            )
        except ValidationError as error:
            form.add_error("email", error)
        else:
            messages.info(request, _("Un code a été envoyé à %(email)s.") % {"email": form.cleaned_data["email"]})
            return redirect("my_account")
    return _page(request, contact_form=form)


@login_required
@require_POST
def confirm_code(request: HttpRequest) -> HttpResponse:
    form = CodeForm(request.POST)
    if form.is_valid():
        try:
            confirm_contact(user=request.user, code=form.cleaned_data["code"], request=request)
        except ValidationError as error:
            form.add_error("code", error)
        else:
            messages.success(request, _("Adresse vérifiée : elle sert désormais à la récupération de votre compte."))
            return redirect("my_account")
    return _page(request, code_form=form)
