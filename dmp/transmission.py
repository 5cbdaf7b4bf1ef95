"""From a feeding order to the plain data of its MDM (:class:`dmp.mdm.Transmission`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from dmp import mdm
from dmp.models import FeedingOrder, OrderKind, Purpose
from documents.cda import CdaHeader, InstanceId
from documents.content import RPPS_PREFIX
from documents.models import Document
from dpi.hl7.parsing import escape
from dpi.models import Site, User
from patients.models import Episode, IdentityStatus

_OID = re.compile(r"^[0-2](\.(0|[1-9][0-9]*))+$")
PATIENT_CLASS = {
    Episode.Kind.INPATIENT: "I",
    Episode.Kind.AMBULATORY: "R",
    Episode.Kind.OUTPATIENT: "O",
    Episode.Kind.EMERGENCY: "E",
}


@dataclass(frozen=True)
class Plan:
    """Whom an MSSanté order may write to: professionals' addresses, the patient's, and why not the others."""

    professionals: tuple[str, ...]
    patient_address: str
    refused: dict[str, str]


def transmission_for(order: FeedingOrder, document: Document, plan: Plan | None, header: CdaHeader) -> mdm.Transmission:
    version = order.version
    parent = order.replaced_version
    authority = assigning_authority(document.episode) if document.episode else ""
    return mdm.Transmission(
        control_id=order.control_id,
        trigger=order.trigger,
        type_code=header.type_code or document.type_code,
        type_label=header.type_label or document.type_label,
        type_system="LN",
        document_id=header.id,
        parent_id=InstanceId(parent.cda_id_root, parent.cda_id_extension) if parent else None,
        act_date=document.act_date,
        cda=bytes(version.cda),
        patient=_patient(document, header, authority),
        visit=_visit(document.episode, authority),
        sender=_sender(order, document),
        metadata=order.metadata,
        mss_recipients=plan.professionals if plan else (),
        patient_address=plan.patient_address if plan else "",
        patient_may_reply=order.mss_patient_may_reply,
        recipients_known=_recipients_known(plan, header, document) if plan else {},
        mail_body_ps=_("Veuillez trouver ci-joint le document « %(title)s ».") % {"title": document.title}
        if plan and plan.professionals
        else "",
        mail_body_patient=_("Un nouveau document de votre établissement de santé est disponible : « %(title)s ».")
        % {"title": document.title}
        if plan and plan.patient_address
        else "",
        sending_application=settings.HL7_APPLICATION,
        sending_facility=settings.HL7_FACILITY,
        receiving_application=settings.PFI_APPLICATION,
        receiving_facility=settings.PFI_FACILITY,
        processing_id=settings.HL7_PROCESSING_ID,
    )


def _patient(document: Document, header: CdaHeader, authority: str) -> mdm.PatientPart:
    """PID from the CDA's recordTarget, so that PID-3 lists exactly its ids (INS first)."""
    cda = header.patient
    ids = tuple(sorted(cda.ids, key=lambda identifier: identifier != cda.ins))
    patient = document.patient
    reliable = patient.identity_status in (IdentityStatus.VALIDEE, IdentityStatus.QUALIFIEE)
    return mdm.PatientPart(
        ids=ids,
        ipp_oid=settings.DPI_IPP_OID,
        birth_name=cda.birth_name,
        first_names=cda.first_names,
        birth_date=cda.birth_date,
        sex=cda.sex,
        birth_place_insee=cda.birth_place_insee,
        reliability="VALI" if reliable else "PROV",
        nda=document.episode.nda if document.episode else "",
        nda_authority=authority,
    )


def _visit(episode: Episode | None, authority: str) -> mdm.VisitPart:
    if episode is None:
        return mdm.VisitPart(patient_class="N")
    return mdm.VisitPart(
        patient_class=PATIENT_CLASS.get(episode.kind, "O"),
        visit_number=episode.visit_number,
        visit_authority=authority,
        care_unit=episode.care_unit.code if episode.care_unit else "",
        admitted_at=episode.admitted_at,
        discharged_at=episode.discharged_at,
    )


def assigning_authority(episode: Episode) -> str:
    """CX-4 of the NDA (PID-18) and of the visit (PV1-19), as PAM.fr writes them (HD ``name&id&type``).

    The DPI keeps one authority per visit, the universal id (or, without one, the name) the GAM gave with
    PV1-19; PAM.fr numbers the NDA in the same establishment. An OID is ``&OID&ISO``, the FINESS of the
    legal entity ``&FINESS&M``, a geographic FINESS ``&FINESS&N``, anything else a namespace (HD-1).
    Without any, the legal entity of the visit's unit numbered it.
    """
    entity = episode.care_unit.site.legal_entity
    value = episode.visit_authority or entity.finess_ej
    if _OID.match(value):
        return f"&{escape(value)}&ISO"
    if value == entity.finess_ej:
        return f"&{escape(value)}&M"
    if Site.objects.filter(legal_entity=entity, finess_eg=value).exists():
        return f"&{escape(value)}&N"
    return escape(value)


def _recipients_known(plan: Plan, header: CdaHeader, document: Document) -> dict[str, mdm.Person]:
    """Who the recipients are, when the DPI knows: the patient by the INS of the document; a professional
    when the address is a correspondent's the document names with an RPPS, or the e-mail of a DPI user with
    a national id."""
    known = {
        user.mail: mdm.Person(user.national_id, user.last_name, user.first_name)
        for user in User.objects.annotate(mail=Lower("email")).filter(mail__in=plan.professionals)
        if user.national_id
    }
    for named in document.recipients:
        address = str(named.get("mss_address") or "").lower()
        if named.get("rpps") and address in plan.professionals:
            known[address] = mdm.Person(f"{RPPS_PREFIX}{named['rpps']}", named["family_name"], named["given_name"])
    patient = header.patient
    if plan.patient_address and patient.ins is not None:
        known[plan.patient_address.lower()] = mdm.Person.patient(patient.ins, patient.birth_name, patient.first_name)
    return known


def _sender(order: FeedingOrder, document: Document) -> mdm.SenderPart:
    """PRT SB: who asked for the sending (deletion, by hand, historical), else the author who validated."""
    asked = order.purpose == Purpose.DELETE or order.kind != OrderKind.AUTOMATIC
    candidates = (order.created_by, order.version.validated_by) if asked else (order.version.validated_by,)
    user: User | None = next((u for u in (*candidates, order.created_by, document.author) if u and u.national_id), None)
    unit = document.care_unit
    return mdm.SenderPart(
        national_id=user.national_id if user else document.author_national_id,
        family_name=user.last_name if user else "",
        given_name=user.first_name if user else "",
        id_type="IDNPS",
        profession_code=user.profession if user else "",
        profession_label=user.get_profession_display() if user else "",
        organization=unit.site.name if unit else document.author_organization,
        finess_eg=document.finess_eg,
    )
