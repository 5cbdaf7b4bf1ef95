"""Reading correspondents: a patient's, the planned recipients of their documents, the local search."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from directory.models import Correspondent, PatientCorrespondent
from patients.models import Patient

SEARCH_LIMIT = 20
_ROLE_ORDER = {role: rank for rank, role in enumerate(PatientCorrespondent.Role.values)}


def patient_correspondents(patient: Patient) -> list[PatientCorrespondent]:
    """The patient's correspondents: general practitioner, referring doctor, then the others."""
    links = PatientCorrespondent.objects.filter(patient=patient).select_related("correspondent")
    return sorted(links, key=lambda link: (_ROLE_ORDER[link.role], link.pk))


def planned_recipients(patient: Patient) -> list[PatientCorrespondent]:
    """The recipients every new document of the patient starts with (HOP/va1.05): their active correspondents."""
    return [link for link in patient_correspondents(patient) if link.correspondent.active]


def search_correspondents(query: str, *, limit: int = SEARCH_LIMIT) -> QuerySet[Correspondent]:
    """Active local correspondents matching every word of ``query`` in a name, the RPPS, the structure,
    the profession, the specialty, the city or the postal code."""
    words = query.split()[:6]
    found = Correspondent.objects.filter(active=True)
    for word in words:
        found = found.filter(
            Q(family_name__icontains=word)
            | Q(given_name__icontains=word)
            | Q(organization__icontains=word)
            | Q(profession__icontains=word)
            | Q(specialty__icontains=word)
            | Q(city__icontains=word)
            | Q(rpps=word)
            | Q(postal_code__startswith=word)
        )
    return found[:limit] if words else found.none()
