"""Shell pages: home (patients of the current care unit) and care-unit switch."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from dpi.selectors import SESSION_CARE_UNIT, current_care_unit, user_care_units
from patients.forms import PatientSearchForm
from patients.selectors import patients_in_care_unit


@login_required
def home(request: HttpRequest) -> HttpResponse:
    unit = current_care_unit(request)
    context = {
        "form": PatientSearchForm(),
        "care_units": user_care_units(request.user),
        "unit_patients": patients_in_care_unit(unit) if unit else [],
    }
    return render(request, "dpi/home.html", context)


@login_required
@require_POST
def select_care_unit(request: HttpRequest) -> HttpResponse:
    chosen = request.POST.get("care_unit", "")
    unit = user_care_units(request.user).filter(pk=chosen).first() if chosen.isdigit() else None
    if unit is None:
        return HttpResponseBadRequest("Unité inconnue.")
    request.session[SESSION_CARE_UNIT] = unit.pk
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "home"
    return redirect(target)
