"""Administrators browse the DMP transaction traces and extract them as CSV (SC.DMP/CONF.14-15): by
period and by patient, streamed, formula-safe, every export itself audited; the new-documents rules
are edited in the admin, each change audited; integrated-document links are read-only."""

from __future__ import annotations

import csv
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dmp.models import DmpTransaction, IntegratedDmpDocument, NewDocumentsRule
from documents.models import Document, Provenance
from dpi.models import AuditEvent
from tests.factories import CareUnitFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
Kind, Outcome = DmpTransaction.Kind, DmpTransaction.Outcome
CHANGELIST = "admin:dmp_dmptransaction_changelist"
EXPORT = "admin:dmp_dmptransaction_export"


def trace(at: datetime | None = None, **fields: object) -> DmpTransaction:
    """A trace as :func:`dmp.services.tracing.record` writes it; ``at`` overrides its automatic date."""
    values = {
        "kind": Kind.SEARCH,
        "user_name": "Camille SOIGNANT",
        "national_id": "810001234567",
        "profession": "10",
        "finess_eg": "020000001",
        "ins": "279035121518989",
        "outcome": Outcome.SUCCESS,
    }
    row = DmpTransaction.objects.create(**(values | fields))
    if at is not None:
        DmpTransaction.objects.filter(pk=row.pk).update(at=at)
    return row


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin_client() -> Client:
    return client_for(UserFactory(is_staff=True, is_superuser=True))


def rows(response) -> list[list[str]]:
    assert response.streaming, "a CSV export is streamed"
    return list(csv.reader(b"".join(response.streaming_content).decode().splitlines(), delimiter=";"))


def test_the_admin_lists_every_trace_with_who_whom_what_and_the_result(admin_client):
    patient = PatientFactory(ins="279035121518989", birth_name="PAT-TROIS")
    trace(patient=patient, kind=Kind.RETRIEVE, document_count=2, documents=["1.2.3", "1.2.4"])
    trace(outcome=Outcome.REFUSED, error_code="DMPAccessDenied", error_text="Accès refusé")
    page = admin_client.get(reverse(CHANGELIST))
    assert page.status_code == 200 and page.context["cl"].result_count == 2
    text = page.text
    assert "Camille SOIGNANT" in text and "810001234567" in text and "Médecin" in text
    assert "PAT-TROIS" in text and "279035121518989" in text and "020000001" in text
    assert "DMPAccessDenied" in text


def test_the_traces_are_searched_by_user_national_id_ins_and_patient_name(admin_client):
    patient = PatientFactory(ins="279035121518989", birth_name="PAT-TROIS")
    trace(patient=patient)
    trace(user_name="Dominique AUTRE", national_id="810009999999", ins="180012345678901")
    for query, expected in [("SOIGNANT", 1), ("81000999", 1), ("279035121518989", 1), ("PAT-TROIS", 1), ("x", 0)]:
        page = admin_client.get(reverse(CHANGELIST), {"q": query})
        assert page.context["cl"].result_count == expected, query


def test_the_trace_list_makes_the_same_number_of_queries_for_more_traces(admin_client):
    trace(patient=PatientFactory())
    admin_client.get(reverse(CHANGELIST))  # the session and content types are read once
    with CaptureQueriesContext(connection) as few:
        admin_client.get(reverse(CHANGELIST))
    for _ in range(10):
        trace(patient=PatientFactory())
    with CaptureQueriesContext(connection) as many:
        admin_client.get(reverse(CHANGELIST))
    assert len(many) == len(few)


def test_users_who_are_not_staff_or_lack_the_permission_see_no_trace():
    trace()
    member = client_for(UserFactory())
    for url in (reverse(CHANGELIST), reverse(EXPORT)):
        assert member.get(url).status_code == 302  # to the admin's sign-in
    staff = UserFactory(is_staff=True)
    assert client_for(staff).get(reverse(CHANGELIST)).status_code == 403
    assert client_for(staff).get(reverse(EXPORT)).status_code == 403
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.TRACE_EXPORT).exists()
    staff.user_permissions.add(Permission.objects.get(codename="view_dmptransaction"))
    assert client_for(staff).get(reverse(EXPORT)).status_code == 200


def test_the_traces_cannot_be_added_edited_or_deleted(admin_client):
    row = trace()
    assert admin_client.get(reverse("admin:dmp_dmptransaction_add")).status_code == 403
    assert admin_client.post(reverse("admin:dmp_dmptransaction_change", args=[row.pk]), {}).status_code == 403
    assert admin_client.post(reverse("admin:dmp_dmptransaction_delete", args=[row.pk])).status_code == 403
    assert DmpTransaction.objects.filter(pk=row.pk).exists()


def test_the_csv_of_all_filtered_traces_has_those_rows_only(admin_client):
    patient = PatientFactory(ins="279035121518989")
    kept = [trace(patient=patient, kind=kind) for kind in (Kind.SEARCH, Kind.RETRIEVE)]
    trace(ins="180012345678901")
    url = reverse(CHANGELIST) + "?q=279035121518989"
    response = admin_client.post(
        url, {"action": "export_csv", "select_across": "1", "index": "0", "_selected_action": [kept[0].pk]}
    )
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="traces-dmp.csv"' in response["Content-Disposition"]
    header, *lines = rows(response)
    assert header[:4] == ["date", "transaction", "detail", "utilisateur"]
    assert [line[1] for line in lines] == ["TD3.1", "TD3.2"]  # oldest first
    assert {line[header.index("ins")] for line in lines} == {"279035121518989"}
    assert {line[header.index("patient_ipp")] for line in lines} == {patient.ipp}


def test_the_csv_of_the_selected_traces(admin_client):
    chosen, _other = trace(), trace(user_name="Dominique AUTRE")
    response = admin_client.post(reverse(CHANGELIST), {"action": "export_csv", "_selected_action": [chosen.pk]})
    _header, *lines = rows(response)
    assert [line[3] for line in lines] == ["Camille SOIGNANT"]


def test_the_export_by_period_includes_both_days_in_local_time(admin_client):
    trace(at=datetime(2025, 1, 31, 23, 59, tzinfo=PARIS), detail="before")
    trace(at=datetime(2025, 2, 1, 0, 0, tzinfo=PARIS), detail="first day")
    trace(at=datetime(2025, 2, 28, 23, 59, tzinfo=PARIS), detail="last day")
    trace(at=datetime(2025, 3, 1, 0, 0, tzinfo=PARIS), detail="after")
    response = admin_client.get(reverse(EXPORT), {"since": "2025-02-01", "until": "2025-02-28"})
    _header, *lines = rows(response)
    assert [line[2] for line in lines] == ["first day", "last day"]
    assert lines[0][0] == "2025-02-01T00:00:00+01:00"


def test_the_export_by_patient_by_file_or_by_ins(admin_client):
    patient, other = PatientFactory(ins="279035121518989"), PatientFactory(ins="180012345678901")
    trace(patient=patient, detail="ours")
    trace(patient=other, ins="180012345678901", detail="theirs")
    trace(patient=None, ins="279035121518989", detail="file since merged")
    by_file = rows(admin_client.get(reverse(EXPORT), {"patient": patient.pk}))
    assert [line[2] for line in by_file[1:]] == ["ours"]
    by_ins = rows(admin_client.get(reverse(EXPORT), {"ins": "279035121518989"}))
    assert [line[2] for line in by_ins[1:]] == ["ours", "file since merged"]


def test_an_unreadable_period_is_refused(admin_client):
    assert admin_client.get(reverse(EXPORT), {"since": "31/02/2025"}).status_code == 400
    response = admin_client.get(reverse(EXPORT), {"since": "2025-03-01", "until": "2025-02-01"})
    assert response.status_code == 400
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.TRACE_EXPORT).exists()


def test_a_user_name_typed_as_a_formula_is_neutralised(admin_client):
    trace(user_name='=HYPERLINK("http://x")', error_text="-1+1")
    header, line = rows(admin_client.get(reverse(EXPORT)))
    assert line[header.index("utilisateur")] == '\'=HYPERLINK("http://x")'
    assert line[header.index("erreur")] == "'-1+1"


def test_every_export_is_audited_with_its_filters_and_row_count(admin_client):
    patient = PatientFactory()
    first = trace(patient=patient)
    trace(at=datetime(2024, 6, 1, 12, tzinfo=PARIS), patient=patient)
    rows(admin_client.get(reverse(EXPORT), {"since": "2025-01-01", "patient": patient.pk}))
    event = AuditEvent.objects.get(action=AuditEvent.Action.TRACE_EXPORT)
    assert event.actor.is_superuser and event.patient_id == patient.pk
    assert event.detail["file"] == "traces-dmp.csv" and event.detail["rows"] == 1
    assert event.detail["filters"] == {"since": ["2025-01-01"], "patient": [str(patient.pk)]}
    admin_client.post(
        reverse(CHANGELIST) + "?outcome__exact=success",
        {"action": "export_csv", "select_across": "1", "index": "0", "_selected_action": [first.pk]},
    )
    latest = AuditEvent.objects.filter(action=AuditEvent.Action.TRACE_EXPORT).latest("pk")
    assert latest.detail["filters"] == {"outcome__exact": ["success"]} and latest.detail["rows"] == 2


def test_the_new_documents_rule_is_edited_in_the_admin_and_each_change_audited(admin_client):
    unit = CareUnitFactory()
    form = {"care_unit": unit.pk, "specialty": "", "categories": ["ldl", "biology"], "episode_kinds": ["urgence"],
            "reference": "days", "days": "15"}  # fmt: skip
    assert admin_client.get(reverse("admin:dmp_newdocumentsrule_add")).status_code == 200
    assert admin_client.post(reverse("admin:dmp_newdocumentsrule_add"), form).status_code == 302
    rule = NewDocumentsRule.objects.get()
    assert rule.categories == ["ldl", "biology"] and rule.episode_kinds == ["urgence"] and rule.days == 15
    added = AuditEvent.objects.get(action=AuditEvent.Action.STRUCTURE_CHANGE, object_id=str(rule.pk))
    assert added.change == "added" and added.object_type == "dmp.NewDocumentsRule"
    change = reverse("admin:dmp_newdocumentsrule_change", args=[rule.pk])
    assert admin_client.post(change, form | {"days": "7"}).status_code == 302
    changed = AuditEvent.objects.filter(object_type="dmp.NewDocumentsRule").latest("pk")
    assert changed.change == "changed"
    assert changed.before["days"] == "15" and changed.after["days"] == "7"
    delete = reverse("admin:dmp_newdocumentsrule_delete", args=[rule.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 302
    assert AuditEvent.objects.filter(object_type="dmp.NewDocumentsRule").latest("pk").change == "deleted"


def test_a_rule_for_a_unit_and_a_site_at_once_is_a_form_error(admin_client):
    unit = CareUnitFactory()
    form = {"care_unit": unit.pk, "site": unit.site.pk, "categories": ["ldl"], "episode_kinds": ["urgence"],
            "reference": "last_visit", "days": "30"}  # fmt: skip
    response = admin_client.post(reverse("admin:dmp_newdocumentsrule_add"), form)
    assert response.status_code == 200 and not NewDocumentsRule.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.STRUCTURE_CHANGE).exists()


def test_the_integrated_document_links_are_listed_read_only(admin_client):
    patient = PatientFactory(ins="279035121518989")
    document = Document.objects.create(
        patient=patient, set_id="1.2.3", type_code="11490-0", type_label="Lettre de liaison", title="LDL",
        act_date=datetime(2025, 2, 1, tzinfo=PARIS), provenance=Provenance.DMP,
    )  # fmt: skip
    link = IntegratedDmpDocument.objects.create(
        document=document, unique_id="1.2.3.4^1", entry_uuid="urn:uuid:1", repository_unique_id="1.2.5"
    )
    page = admin_client.get(reverse("admin:dmp_integrateddmpdocument_changelist"), {"q": "279035121518989"})
    assert page.status_code == 200 and page.context["cl"].result_count == 1 and "1.2.3.4^1" in page.text
    change = reverse("admin:dmp_integrateddmpdocument_change", args=[link.pk])
    assert admin_client.post(change, {"state": "unavailable"}).status_code == 403


def test_the_csv_of_a_month_chosen_in_the_date_hierarchy(admin_client):
    first = trace(at=datetime(2025, 2, 1, 0, 0, tzinfo=PARIS), detail="february")
    trace(at=datetime(2025, 1, 31, 23, 59, tzinfo=PARIS), detail="january")
    url = reverse(CHANGELIST) + "?at__year=2025&at__month=2"
    response = admin_client.post(
        url, {"action": "export_csv", "select_across": "1", "index": "0", "_selected_action": [first.pk]}
    )
    assert [line[2] for line in rows(response)[1:]] == ["february"]
