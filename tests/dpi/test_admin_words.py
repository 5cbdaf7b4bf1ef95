"""The admin speaks French and names patients: column headers are French labels (never a field name such as
"care unit" or "role"), the audit list shows its key columns with the patient by IPP and name."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.admin.utils import label_for_field
from django.urls import reverse
from lxml import html

from dpi.models import AuditEvent
from dpi.services import audit
from tests.factories import MembershipFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

OUR_APPS = {"dpi", "hl7", "patients", "consent", "documents", "dmp", "mss"}
# Field names that are also the French word: not an English leftover.
SAME_IN_FRENCH = {"patient", "document", "message", "profession", "code", "action", "source", "type", "mode",
                  "version", "versions", "types", "site", "trace", "provenance", "notice"}  # fmt: skip


def _headers(model, model_admin) -> dict[str, str]:
    return {name: str(label_for_field(name, model, model_admin)) for name in model_admin.list_display}


def test_no_admin_column_header_is_a_field_name():
    leftovers = [
        f"{model._meta.label}.{name}: {label}"
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in OUR_APPS
        for name, label in _headers(model, model_admin).items()
        if name not in SAME_IN_FRENCH and label in {name.replace("_", " "), "Pk"}
    ]
    assert leftovers == []


def test_membership_columns_read_user_care_unit_role_in_french(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    MembershipFactory()
    page = html.fromstring(client.get(reverse("admin:dpi_membership_changelist")).content.decode())
    headers = [" ".join(th.text_content().split()) for th in page.xpath("//table[@id='result_list']/thead/tr/th")]
    assert headers[1:] == ["Utilisateur", "Unité fonctionnelle", "Rôle", "Valable jusqu'au"]


def test_the_audit_list_names_the_patient_by_ipp_and_name_with_its_key_columns(client):
    patient = PatientFactory(ipp="IPP-4242", birth_name="DUMONT", first_names="LOUISE")
    staff = UserFactory(is_staff=True, is_superuser=True)
    audit(action=AuditEvent.Action.PATIENT_OPEN, actor=staff, obj=patient, patient_id=patient.pk)
    client.force_login(staff)
    page = html.fromstring(client.get(reverse("admin:dpi_auditevent_changelist")).content.decode())
    headers = [" ".join(th.text_content().split()) for th in page.xpath("//table[@id='result_list']/thead/tr/th")]
    assert headers[1:] == [
        "Date", "Action", "Auteur", "Objet", "Patient", "Accès d'urgence", "Requête",
    ]  # fmt: skip
    row = page.xpath("//table[@id='result_list']/tbody/tr")[0]
    cells = [" ".join(td.text_content().split()) for td in row.xpath("./td|./th")]
    assert "IPP IPP-4242 · DUMONT LOUISE" in cells
    assert str(patient.pk) not in cells
    assert f"{staff.username} (RPPS {staff.rpps})" in cells


def test_the_second_factor_and_session_lists_have_french_headers(client):
    from tests.factories import UserFactory

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for url in ("/admin/mfa/authenticator/", "/admin/usersessions/usersession/"):
        page = client.get(url).content.decode()
        assert "utilisateur" in page.lower() and "Created at" not in page and "Last" not in page
