"""Traces of every path (SC.MSS/UX.37), read marks, the care unit's badge and list, the patient file
section, the traces pages and their CSV export."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from documents.models import Document
from dpi.hl7.models import Message
from mss import selectors, services
from mss.models import Trace
from tests.factories import MembershipFactory, RoleFactory, UserFactory
from tests.mss.data import MAILBOX
from tests.support.engine import send

pytestmark = pytest.mark.django_db


def events() -> list[str]:
    return list(Trace.objects.order_by("pk").values_list("event", flat=True))


@pytest.fixture
def member(unit):
    return MembershipFactory(care_unit=unit, role=RoleFactory()).user


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_integration_traces_received_matched_integrated_with_the_message(route, patient, document_for):
    ack = send(document_for(patient))
    assert events() == ["received", "matched", "integrated"]
    integrated = Trace.objects.get(event="integrated")
    assert integrated.message == ack.message and integrated.patient == patient
    assert integrated.document == Document.objects.get() and integrated.care_unit == route.care_unit
    assert integrated.mailbox == MAILBOX and integrated.user is None


def test_a_refusal_is_traced_with_its_code_and_the_message_while_nothing_is_integrated(route, patient, document_for):
    ack = send(document_for(patient, alter="birth_date"))
    assert events() == ["received", "refused"]
    refused = Trace.objects.get(event="refused")
    assert refused.error_code == "904" and refused.message == ack.message and refused.patient == patient
    assert refused.care_unit is None  # not a notification
    assert ack.message.status == Message.Status.ERROR


def test_an_unreadable_message_is_traced_as_received_and_refused(route, patient, document_for):
    send(document_for(patient).but(order_control="XX"))
    assert events() == ["received", "refused"]
    assert Trace.objects.get(event="refused").error_code == "103"


def test_duplicate_replace_delete_and_read_are_traced(route, patient, document_for, member):
    mdm = document_for(patient)
    send(mdm)
    send(mdm.but(control_id="again"))
    send(mdm.but(trigger="T04", control_id="delete"))
    document = Document.objects.get()
    services.mark_read(user=member, document=document)
    assert events() == ["received", "matched", "integrated", "received", "matched", "duplicate",
                        "received", "matched", "deleted", "read"]  # fmt: skip
    assert Trace.objects.get(event="read").user == member


def test_the_badge_counts_unread_documents_of_the_unit_per_user(route, patient, document_for, member, unit):
    send(document_for(patient))
    send(document_for(patient))
    colleague = MembershipFactory(care_unit=unit, role=RoleFactory()).user
    assert selectors.unread_count(member, unit) == 2
    services.mark_read(user=member, document=Document.objects.first())
    assert selectors.unread_count(member, unit) == 1
    assert selectors.unread_count(colleague, unit) == 2
    services.mark_unit_read(user=colleague, care_unit=unit)
    assert selectors.unread_count(colleague, unit) == 0


def test_a_refused_document_appears_in_no_list(route, patient, document_for, member, unit):
    send(document_for(patient, alter="sex"))
    assert selectors.unread_count(member, unit) == 0
    assert selectors.unit_notifications(member, unit) == []
    assert selectors.patient_mss_documents(member, patient) == []


def test_pages_badge_inbox_patient_section_and_open_marks_read(route, patient, document_for, member):
    send(document_for(patient, title="CR de cardiologie reçu"))
    client = client_for(member)
    assert 'data-testid="mss-badge"' in client.get("/mssante/badge/").text
    assert ">1<" in client.get("/mssante/badge/").text
    inbox = client.get("/mssante/").text
    assert "CR de cardiologie reçu" in inbox and "non lu" in inbox
    assert 'data-testid="mss-panel"' in client.get(f"/patients/{patient.pk}/").text
    section = client.get(f"/mssante/patients/{patient.pk}/documents/").text
    assert "CR de cardiologie reçu" in section and 'data-testid="mss-unread"' in section
    outsider = MembershipFactory(role=RoleFactory()).user
    assert client_for(outsider).get(f"/mssante/patients/{patient.pk}/documents/").status_code == 403
    document = Document.objects.get()
    response = client.post(f"/mssante/documents/{document.pk}/ouvrir/")
    assert response.status_code == 302 and response["Location"] == f"/documents/{document.pk}/"
    assert ">0<" in client.get("/mssante/badge/").text


def test_traces_per_patient_need_the_habilitation_on_the_file(route, patient, document_for, member):
    send(document_for(patient))
    assert client_for(member).get(f"/mssante/traces/?patient={patient.pk}").text.count('data-testid="mss-trace"') == 3
    outsider = MembershipFactory(role=RoleFactory()).user
    assert client_for(outsider).get(f"/mssante/traces/?patient={patient.pk}").status_code == 403


def test_traces_per_mailbox_for_the_units_routed_to_it(route, patient, document_for, member):
    send(document_for(patient, alter="sex"))
    page = client_for(member).get(f"/mssante/traces/?mailbox={MAILBOX}")
    assert page.status_code == 200 and page.text.count('data-testid="mss-trace"') == 2
    outsider = MembershipFactory(role=RoleFactory()).user
    assert client_for(outsider).get(f"/mssante/traces/?mailbox={MAILBOX}").status_code == 403


def test_only_admins_export_the_traces_as_csv(route, patient, document_for, member):
    send(document_for(patient))
    url = f"/mssante/traces/?mailbox={MAILBOX}&format=csv"
    assert client_for(member).get(url).status_code == 403
    member.user_permissions.add(Permission.objects.get(codename="export_trace"))
    response = client_for(member).get(url)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    lines = _body(response).splitlines()
    assert lines[0].startswith("date;evenement;code_erreur;patient_ipp")
    assert len(lines) == 4 and any(";integrated;" in line for line in lines)


def test_the_admin_exports_selected_traces(route, patient, document_for):
    send(document_for(patient))
    admin = UserFactory(is_staff=True, is_superuser=True)
    client = client_for(admin)
    ids = list(Trace.objects.values_list("pk", flat=True))
    response = client.post("/admin/mss/trace/", {"action": "export_csv", "_selected_action": ids})
    assert response.status_code == 200 and _body(response).count("\n") == 4


def test_csv_cells_that_look_like_formulas_are_neutralised():
    from dpi.csvexport import csv_response

    response = csv_response(["a", "b"], [["=HYPERLINK(1)", "ok"]], "x.csv")
    assert _body(response).splitlines()[1].startswith("'=HYPERLINK")


def _body(response) -> str:
    """A CSV export is streamed."""
    return b"".join(response.streaming_content).decode()


def test_the_mailbox_route_is_editable_in_the_admin(unit):
    admin = UserFactory(is_staff=True, is_superuser=True)
    response = client_for(admin).post(
        "/admin/mss/mailboxroute/add/", {"address": "Cardio@Hopital.mssante.fr", "care_unit": unit.pk}
    )
    assert response.status_code == 302
    from mss.models import MailboxRoute

    assert MailboxRoute.objects.get().address == "cardio@hopital.mssante.fr"


def test_a_second_route_for_the_same_mailbox_in_other_case_is_refused_by_the_form(unit):
    from mss.models import MailboxRoute

    MailboxRoute.objects.create(address="cardio@hopital.mssante.fr", care_unit=unit)
    admin = UserFactory(is_staff=True, is_superuser=True)
    response = client_for(admin).post(
        "/admin/mss/mailboxroute/add/", {"address": "CARDIO@Hopital.mssante.fr", "care_unit": unit.pk}
    )
    assert response.status_code == 200 and MailboxRoute.objects.count() == 1  # a form error, not a 500


def test_opening_a_document_of_a_file_the_user_may_not_open_marks_nothing_read(route, patient, document_for):
    send(document_for(patient))
    outsider = MembershipFactory(role=RoleFactory()).user
    response = client_for(outsider).post(f"/mssante/documents/{Document.objects.get().pk}/ouvrir/")
    assert response.status_code == 403
    assert not Trace.objects.filter(event="read").exists()


def test_the_patient_traces_page_is_audited_as_a_file_opening(route, patient, document_for, member):
    from dpi.models import AuditEvent

    send(document_for(patient, alter="birth_name"))
    page = client_for(member).get(f"/mssante/traces/?patient={patient.pk}").text
    assert "« MARTIN » dans le dossier" in page  # the local values, to a user habilitated on the file
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.PATIENT_OPEN, actor=member, patient_id=patient.pk
    ).exists()
    outsider = MembershipFactory(role=RoleFactory()).user
    client_for(outsider).get(f"/mssante/traces/?patient={patient.pk}")
    assert AuditEvent.objects.filter(action=AuditEvent.Action.PATIENT_REFUSED, actor=outsider).exists()
    mailbox_page = client_for(member).get(f"/mssante/traces/?mailbox={MAILBOX}").text
    assert "dans le dossier" not in mailbox_page


def test_the_csv_export_has_every_trace_not_only_the_shown_ones(route, patient, document_for, monkeypatch):
    monkeypatch.setattr("mss.views.TRACES_SHOWN", 1)
    send(document_for(patient))
    admin = UserFactory(is_staff=True)
    response = client_for(admin).get(f"/mssante/traces/?mailbox={MAILBOX}&format=csv")
    assert len(_body(response).splitlines()) == 1 + Trace.objects.count()
