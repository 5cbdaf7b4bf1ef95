"""The review list of the emergency accesses, for unit heads (their units) and the data-protection officer."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from patients import review
from patients.access import audit_listed_patients
from patients.models import EmergencyAccess
from patients.vigilance import refuse


@login_required
def emergency_review(request: HttpRequest) -> HttpResponse:
    """Who, which patient, why, when, for how long, reviewed; like the search results, a reading of each
    patient listed (one ``patient.open`` row each)."""
    if not review.may_review(request.user):
        refuse(request, "not_reviewer")
    pending_only = request.GET.get("tous") != "1"
    accesses = review.review_list(request.user, pending_only=pending_only)
    audit_listed_patients(request, [access.patient_id for access in accesses], detail={"list": "emergency_review"})
    context = {"accesses": accesses, "pending_only": pending_only, "now": timezone.now(),
               "all_units": request.user.has_perm(review.ALL_UNITS)}  # fmt: skip
    return render(request, "patients/emergency_review.html", context)


@login_required
@require_POST
def mark_reviewed(request: HttpRequest, pk: int) -> HttpResponse:
    access = get_object_or_404(EmergencyAccess, pk=pk)
    if not review.reviewable_accesses(request.user).filter(pk=pk).exists():
        refuse(request, "not_reviewer", obj=access, patient_id=access.patient_id)
    try:
        review.mark_reviewed(access=access, user=request.user, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Accès d'urgence marqué comme revu.")
    return redirect("patients:emergency_review")
