"""Wrong-patient import (issue 17): a CDA whose INS is not the file's is never filed there, whatever the user
confirms; only the traits of a non-qualified identity (or of the file's own INS) may be confirmed, and every
confirmation is audited with the differences. The rule is in ``integrate_cda``, so every caller gets it."""

from __future__ import annotations

import dataclasses

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from documents.cda import build_cda
from documents.models import Document, Provenance
from documents.services import integrate_cda
from dpi.models import AuditEvent
from tests.documents.test_cda import NOT_QUALIFIED, QUALIFIED, TINY_PDF, make_content
from tests.factories import EpisodeFactory, PatientFactory

pytestmark = pytest.mark.django_db

OTHER_INS = "179035121518947"  # another person's INS (same test OID)


def _file(care_unit, *, status: str = "qualifiee", ins: str = QUALIFIED.ins, **traits: object):
    """A patient file with QUALIFIED's traits (changed by ``traits``), the given INS and identity status."""
    values = {
        "birth_name": QUALIFIED.birth_name, "first_names": QUALIFIED.first_names, "birth_date": QUALIFIED.birth_date,
        "sex": QUALIFIED.sex, "birth_place_insee": QUALIFIED.birth_place_insee,
        "ins": ins, "ins_oid": QUALIFIED.ins_oid if ins else "", "identity_status": status, **traits,
    }  # fmt: skip
    patient = PatientFactory(**values)
    EpisodeFactory(patient=patient, care_unit=care_unit)
    return patient


def _cda(patient_identity=QUALIFIED) -> bytes:
    return build_cda(make_content(patient=patient_identity), pdf=TINY_PDF, level="N1")


def _codes(error: pytest.ExceptionInfo) -> set[str]:
    return {item.code for item in error.value.error_list}


@pytest.mark.parametrize("status", ["qualifiee", "recuperee", "provisoire"])
def test_a_document_with_another_ins_is_refused_even_when_the_user_confirms(care_unit, doctor, status):
    patient = _file(care_unit, status=status)
    other_persons = _cda(dataclasses.replace(QUALIFIED, ins=OTHER_INS))

    with pytest.raises(ValidationError) as refused:
        integrate_cda(patient=patient, data=other_persons, provenance=Provenance.MANUAL, acting_user=doctor,
                      accept_identity_differences=True)  # fmt: skip

    assert _codes(refused) == {"identity_refused"}  # the callers offer no confirmation for it
    assert "concerne un autre patient" in refused.value.messages[0]
    assert any(OTHER_INS in message for message in refused.value.messages)
    assert not Document.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DOCUMENT_CHANGE).exists()


def test_traits_that_differ_from_a_qualified_identity_without_its_ins_cannot_be_confirmed(care_unit, doctor):
    patient = _file(care_unit, first_names="CLAIRE")
    without_ins = _cda(NOT_QUALIFIED)

    with pytest.raises(ValidationError) as refused:
        integrate_cda(patient=patient, data=without_ins, provenance=Provenance.MANUAL, acting_user=doctor,
                      accept_identity_differences=True)  # fmt: skip

    assert _codes(refused) == {"identity_refused"}
    assert "ne porte pas son INS" in refused.value.messages[0]
    assert not Document.objects.exists()


def test_a_confirmed_difference_of_a_non_qualified_identity_is_filed_and_audited_with_the_differences(
    care_unit, doctor
):
    patient = _file(care_unit, status="provisoire", ins="", first_names="CLAIRE")

    with pytest.raises(ValidationError) as asked:
        integrate_cda(patient=patient, data=_cda(), provenance=Provenance.MANUAL, acting_user=doctor)
    result = integrate_cda(patient=patient, data=_cda(), provenance=Provenance.MANUAL, acting_user=doctor,
                           accept_identity_differences=True)  # fmt: skip

    assert _codes(asked) == {"identity_mismatch"}  # a question the user may answer
    assert result.document.patient == patient
    confirmed = AuditEvent.objects.get(change="identity_differences_confirmed")
    assert confirmed.actor == doctor and confirmed.patient_id == patient.pk
    assert confirmed.object_id == str(result.document.pk) and confirmed.detail["provenance"] == Provenance.MANUAL
    differences = confirmed.detail["differences"]
    assert any(text.startswith("prénoms") and "CLAIRE" in text for text in differences)
    assert any(text.startswith("INS") and "aucun dans le dossier" in text for text in differences)


def test_the_files_own_ins_lets_the_user_confirm_traits_corrected_since(care_unit, doctor):
    patient = _file(care_unit, first_names="DOMINIQUE")  # qualified, same INS as the document

    result = integrate_cda(patient=patient, data=_cda(), provenance=Provenance.MANUAL, acting_user=doctor,
                           accept_identity_differences=True)  # fmt: skip

    assert [text.split(" :")[0] for text in result.warnings] == ["prénoms"]
    assert AuditEvent.objects.filter(change="identity_differences_confirmed").count() == 1


def test_the_same_identity_needs_no_confirmation_and_writes_no_override_row(care_unit, doctor):
    patient = _file(care_unit)
    integrate_cda(patient=patient, data=_cda(), provenance=Provenance.MANUAL, acting_user=doctor)
    assert not AuditEvent.objects.filter(change="identity_differences_confirmed").exists()


def test_ticking_import_anyway_on_the_import_page_does_not_file_another_patients_document(client, care_unit, doctor):
    patient = _file(care_unit)
    client.force_login(doctor)

    response = client.post(
        reverse("documents:import", args=[patient.pk]),
        {
            "cda": SimpleUploadedFile("autre.xml", _cda(dataclasses.replace(QUALIFIED, ins=OTHER_INS))),
            "accept_identity_differences": "on",
        },
    )

    page = response.content.decode()
    assert response.status_code == 200 and "concerne un autre patient" in page and OTHER_INS in page
    assert not Document.objects.exists()
