"""The DPI's DMP feeding, as the PFI passes it on: an accepted MDM with DESTDMP=Y lands in the sandbox DMP.

So that a document the DPI sends shows up when the DPI then consults the DMP. A T02 adds the CDA (a
T10's CDA names the version it replaces), a T04 deletes; the visibility comes from the metadata OBX.
A patient without a DMP gets one, with the traits of the document (DMPs are created automatically).
"""

from __future__ import annotations

import logging

from documents.cda import InvalidCda, parse_cda_header
from sandbox.dmp.store import Visibility, delete_document, register_cda
from sandbox.models import PatientDmp

logger = logging.getLogger(__name__)


def feed_from_pfi(*, trigger: str, ins: str, document_id: str, cda: bytes, flags: dict[str, str]) -> None:
    """File (T02, T10) or delete (T04) the document of an accepted MDM; an unreadable CDA is only logged."""
    if trigger == "T04":
        dmp = PatientDmp.objects.filter(ins=ins).first()
        if dmp is not None:
            delete_document(dmp, _unique_id(document_id))
        return
    try:
        dmp = _dmp_for(ins, cda)
        visibility = Visibility(
            masked_to_professionals=flags.get("MASQUE_PS") == "Y",
            invisible_to_patient=flags.get("INVISIBLE_PATIENT") == "Y",
            invisible_to_legal_representatives=flags.get("INVISIBLE_REP_LEGAUX") == "Y",
        )
        register_cda(dmp, cda, visibility=visibility)
    except InvalidCda:
        logger.warning("Sandbox DMP: the CDA of document %s from the PFI is unreadable", document_id, exc_info=True)


def _dmp_for(ins: str, cda: bytes) -> PatientDmp:
    patient = parse_cda_header(cda).patient
    defaults = {
        "ins_oid": patient.ins.root if patient.ins else "",
        "birth_name": patient.birth_name,
        "first_names": " ".join(patient.first_names),
        "birth_date": patient.birth_date,
        "sex": patient.sex,
        "birth_place_insee": patient.birth_place_insee,
    }
    return PatientDmp.objects.get_or_create(ins=ins, defaults=defaults)[0]


def _unique_id(document_id: str) -> str:
    """TXA-12 as the XDS uniqueId: ``root``, or ``extension^^root^ISO`` read as ``root^extension``."""
    extension, _sep, rest = document_id.partition("^^")
    return f"{rest.split('^')[0]}^{extension}" if rest else document_id
