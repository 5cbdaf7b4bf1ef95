"""The wave-1 document workflow in the browser (issue 11 §3): the patient's GP is named in the file, a
template pre-fills the nurse's discharge letter with the GP planned as recipient, she adds a cardiologist
found by search, she may save it but not validate it, it waits in the physician's "À valider" list and
header count, he validates it (the hospital's notice in the PDF footer, the recipients in the PDF and the
CDA), then corrects it and the new version says "annule et remplace". Screenshots under
var/artefacts/rem/<id>/."""

from __future__ import annotations

import subprocess

import pytest

from documents.models import Document, DocumentTemplate
from dpi.codes import Profession
from tests.browser.helpers import log_in, qualified_patient_in, rem_shots, start_discharge_letter
from tests.factories import CorrespondentFactory, MembershipFactory, RoleFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOTICE = "Vos données sont traitées par le Centre hospitalier pour votre prise en charge (RGPD)."


def _pdf_text(data: bytes) -> str:
    return subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


def _log_out(page) -> None:
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/accounts/**")


def test_a_nurses_templated_draft_is_validated_by_a_physician_then_corrected(page, live_server, care_unit):
    physician, patient = qualified_patient_in(care_unit)
    nurse = MembershipFactory(
        care_unit=care_unit, role=RoleFactory(), user=UserFactory(profession=Profession.INFIRMIER)
    ).user
    care_unit.site.legal_entity.patient_notice = NOTICE
    care_unit.site.legal_entity.save()
    DocumentTemplate.objects.create(
        type_code="11490-0", name="Sortie du service", care_unit=care_unit,
        sections={"suites": {"text": "Revoir en consultation de {unite}."}},
    )  # fmt: skip

    gp = CorrespondentFactory(family_name="MOREAU", given_name="Claire", mss_address="c.moreau@medecin.mssante.fr")
    cardiologist = CorrespondentFactory(family_name="ROUX", given_name="Paul", specialty="Cardiologie", city="Lyon",
                                        mss_address="p.roux@cardio.mssante.fr", civility="M")  # fmt: skip

    log_in(page, live_server, nurse)
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    recipients = rem_shots("HOP/va1.05")
    page.get_by_test_id("correspondent-search").fill("moreau")
    page.get_by_test_id(f"name-traitant-{gp.pk}").click()
    page.get_by_test_id("correspondent-traitant").filter(has_text="Claire MOREAU").wait_for()
    recipients(page, "gp-named-in-the-file")
    page.get_by_role("link", name="Nouveau : Lettre de liaison").click()
    assert page.get_by_label("Suites à donner").input_value() == f"Revoir en consultation de {care_unit.name}."
    assert page.get_by_test_id(f"recipient-{gp.pk}").is_checked()  # planned: the patient's GP
    rem_shots("HOP/va1.07")(page, "prefilled-from-the-units-template")
    start_discharge_letter(page, live_server, patient)
    assert page.get_by_test_id(f"recipient-{gp.pk}").is_checked()
    page.get_by_test_id("recipient-search").fill("roux cardiologie")
    page.get_by_test_id("recipient-search").press("Enter")
    page.get_by_test_id(f"add-recipient-{cardiologist.pk}").click()
    page.get_by_test_id(f"recipient-{cardiologist.pk}").wait_for()
    recipients(page, "cardiologist-added-to-the-planned-gp")
    assert page.get_by_test_id("validate").count() == 0 and page.get_by_test_id("awaits-validator").is_visible()
    shots = rem_shots("HOP/va1.04")
    shots(page, "nurse-may-save-not-validate")
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    page.wait_for_load_state()
    letter = Document.objects.get(patient=patient)
    assert letter.status == "draft" and letter.author == nurse
    assert [entry["correspondent"] for entry in letter.recipients] == [gp.pk, cardiologist.pk]
    _log_out(page)

    log_in(page, live_server, physician)
    count = page.get_by_test_id("to-validate-count")
    count.filter(has_text="À valider 1").wait_for()
    count.click()
    page.get_by_test_id("worklist-row").filter(has_text=patient.birth_name).wait_for()
    rem_shots("HOP/va1.08")(page, "the-nurses-draft-waits-for-the-physician")
    page.get_by_test_id("open-draft").click()
    page.get_by_test_id("validate").click()
    page.get_by_test_id("correct").wait_for()
    shots(page, "validated-by-the-physician")
    letter.refresh_from_db()
    first = letter.current_version
    assert (letter.author, first.validated_by) == (nurse, physician)
    printed = " ".join(_pdf_text(bytes(first.pdf)).split())
    assert NOTICE.split(" (")[0] in printed
    assert "Dr Claire MOREAU — médecin traitant" in printed and "Dr Paul ROUX" in printed
    assert bytes(first.cda).count(b"<intendedRecipient>") == 2
    page.get_by_test_id("document-recipients").filter(has_text="Dr Paul ROUX").wait_for()
    rem_shots("DOC/va1.06")(page, "validated-letter-names-its-recipients")

    page.get_by_test_id("correct").click()
    page.get_by_test_id("validate").click()
    page.get_by_test_id("correct").wait_for()
    rem_shots("MSS/va1.13")(page, "corrected-version")
    letter.refresh_from_db()
    assert letter.current_version.version_number == 2
    assert "ANNULE ET REMPLACE" in _pdf_text(bytes(letter.current_version.pdf))
