"""From a feeding order to the plain data of its MDM (:class:`dmp.mdm.Transmission`)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from dmp import mdm
from dmp.models import FeedingOrder, OrderKind, Purpose
from documents.cda import CdaHeader, InstanceId
from documents.models import Document
from dpi.models import User
from patients.models import Episode, IdentityStatus

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
        patient=_patient(document, header),
        visit=_visit(document.episode),
        sender=_sender(order, document),
        metadata=order.metadata,
        mss_recipients=plan.professionals if plan else (),
        patient_address=plan.patient_address if plan else "",
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


def _patient(document: Document, header: CdaHeader) -> mdm.PatientPart:
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
    )


def _visit(episode: Episode | None) -> mdm.VisitPart:
    if episode is None:
        return mdm.VisitPart(patient_class="N")
    return mdm.VisitPart(
        patient_class=PATIENT_CLASS.get(episode.kind, "O"),
        visit_number=episode.visit_number,
        care_unit=episode.care_unit.code if episode.care_unit else "",
        admitted_at=episode.admitted_at,
        discharged_at=episode.discharged_at,
    )


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
