"""How a patient is named on every screen (REM INS/va1.36, SC.DMP/UX.11): the four birth traits first,
the used names beside them as such, the identity status, and the extras the hospital chose."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from patients.ins_traces import trace_ins_in_list
from patients.models import Patient

register = template.Library()

IDENTITY_EXTRAS = ("age", "ipp", "ins", "first_names", "birth_place")


@register.inclusion_tag("patients/_identity.html", takes_context=True)
def patient_identity(context: dict, patient: Patient, link: str = "", status: bool = True) -> dict[str, Any]:
    """One line: BIRTH NAME first birth first name, birth date, sex; used names; status; extras
    (``PATIENT_IDENTITY_EXTRAS``). ``link`` makes the name a link. Where the extras show the INS, the
    line traces it (``ins.read``, REM INS/va1.39): the one place lists show it, so no list can forget."""
    extras = set(settings.PATIENT_IDENTITY_EXTRAS)
    request = context.get("request")
    if "ins" in extras and patient.ins and request is not None:
        trace_ins_in_list(request, patient)
    return {"patient": patient, "link": link, "status": status, "extras": extras}


@register.inclusion_tag("patients/_ins.html")
def patient_ins(patient: Patient, kind: bool = True) -> dict[str, Any]:
    """``INS (NIR) 279035121518989``, flagged "test" for a test or demonstration OID; never the raw OID.
    ``kind=False`` leaves out "INS (NIR)" where a label already says it."""
    return {"patient": patient, "authority": patient.ins_authority, "kind": kind}
