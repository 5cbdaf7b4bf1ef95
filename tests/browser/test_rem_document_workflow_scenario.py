"""The wave-1 document workflow in the browser (issue 11 §3, without the recipients still to come): a template
pre-fills the nurse's discharge letter, she may save it but not validate it, it waits in the physician's
"À valider" list and header count, he validates it (the hospital's notice in the PDF footer), then corrects
it and the new version says "annule et remplace". Screenshots under var/artefacts/rem/<id>/."""

from __future__ import annotations

import subprocess

import pytest

from documents.models import Document, DocumentTemplate
from dpi.codes import Profession
from tests.browser.helpers import log_in, qualified_patient_in, rem_shots, start_discharge_letter
from tests.factories import MembershipFactory, RoleFactory, UserFactory

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

    log_in(page, live_server, nurse)
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    page.get_by_role("link", name="Nouveau : Lettre de liaison").click()
    assert page.get_by_label("Suites à donner").input_value() == f"Revoir en consultation de {care_unit.name}."
    rem_shots("HOP/va1.07")(page, "prefilled-from-the-units-template")
    start_discharge_letter(page, live_server, patient)
    assert page.get_by_test_id("validate").count() == 0 and page.get_by_test_id("awaits-validator").is_visible()
    shots = rem_shots("HOP/va1.04")
    shots(page, "nurse-may-save-not-validate")
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    page.wait_for_load_state()
    letter = Document.objects.get(patient=patient)
    assert letter.status == "draft" and letter.author == nurse
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
    assert NOTICE.split(" (")[0] in " ".join(_pdf_text(bytes(first.pdf)).split())

    page.get_by_test_id("correct").click()
    page.get_by_test_id("validate").click()
    page.get_by_test_id("correct").wait_for()
    rem_shots("MSS/va1.13")(page, "corrected-version")
    letter.refresh_from_db()
    assert letter.current_version.version_number == 2
    assert "ANNULE ET REMPLACE" in _pdf_text(bytes(letter.current_version.pdf))
