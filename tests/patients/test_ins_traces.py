"""Traces of the INS (REM INS/va1.39, INS/va1.46): every display and export of a patient's INS leaves one
``ins.read`` or ``ins.export`` row (who with RPPS, when, from where, which patient, which INS); every
partner it was sent to is listed from the journals; both browsable per patient and exported as CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dmp.models import BusinessAck, DmpTransaction, FeedingOrder, OrderKind, OrderState
from dpi.hl7.ack import new_control_id
from dpi.hl7.models import Message
from dpi.models import AuditEvent, Membership, Peer
from dpi.services import create_peer
from patients.ins_traces import INS_VIEWS, NO_INS, InsUse, ins_events, ins_transmissions
from patients.models import Patient
from tests.factories import CareUnitFactory, EpisodeFactory, MembershipFactory, PatientFactory, UserFactory
from tests.test_access_audit import ROUTES, _validated_letter

pytestmark = pytest.mark.django_db

INS = "279035121518989"
INS_ROWS = (AuditEvent.Action.INS_READ, AuditEvent.Action.INS_EXPORT)


@pytest.fixture
def world(editable_audit_trail, client, doctor, qualified_episode):
    """A qualified patient of the doctor's unit with a validated letter (PDF and CDA), and an outsider."""
    document = _validated_letter(client, doctor, qualified_episode)
    role = Membership.objects.filter(user=doctor).first().role
    outsider = MembershipFactory(care_unit=CareUnitFactory(), role=role).user
    AuditEvent.objects.all().delete()  # the letter's own rows: each test counts from nothing
    return {"patient": qualified_episode.patient, "episode": qualified_episode, "document": document,
            "doctor": doctor, "outsider": outsider}  # fmt: skip


def _ins_rows(patient: Patient) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action__in=INS_ROWS, patient_id=patient.pk).order_by("pk"))


# --- which views show the INS: declared in one place ----------------------------------------------


def test_every_view_with_a_patient_id_declares_whether_it_shows_the_ins():
    undeclared = sorted(name for name in ROUTES if name not in INS_VIEWS and name not in NO_INS)
    assert not undeclared, "declare these views in patients/ins_traces.py (INS_VIEWS or NO_INS):\n" + "\n".join(
        undeclared
    )
    both = sorted(set(INS_VIEWS) & set(NO_INS))
    assert not both, f"declared as showing the INS and as not showing it: {both}"
    lists = {"patients:search", "patient-list"}  # lists without an id: traced by trace_ins_listed / the API
    stale = sorted(name for name in (set(INS_VIEWS) | set(NO_INS)) - lists if name not in ROUTES)
    assert not stale, f"declared views that no longer exist: {stale}"


def test_files_and_api_answers_carrying_the_ins_are_exports_and_pages_are_displays():
    exports = {name for name, shown in INS_VIEWS.items() if shown.use is InsUse.EXPORT}
    assert {"documents:pdf", "documents:cda_download", "patient-detail", "patients:ins_traces_csv"} <= exports
    assert {"patients:file", "documents:detail", "documents:cda", "dmp:document"}.isdisjoint(exports)


# --- displays -----------------------------------------------------------------------------------

DISPLAYS = ["patients:file", "patients:ins_traces", "documents:detail", "documents:new", "documents:import",
            "documents:cda", "dmp:historical"]  # fmt: skip


def _display_url(name: str, world: dict) -> str:
    patient, document = world["patient"].pk, world["document"].pk
    args = {"documents:detail": [document], "documents:new": [patient, "11490-0"], "documents:cda": [document, 1]}
    return reverse(name, args=args.get(name, [patient]))


def test_each_page_showing_the_ins_leaves_one_display_row_with_who_when_and_where(client, world):
    client.force_login(world["doctor"])
    for name in DISPLAYS:
        before = timezone.now()
        url = _display_url(name, world)
        response = client.get(url, REMOTE_ADDR="10.20.30.40")
        assert response.status_code == 200, name
        row = _ins_rows(world["patient"])[-1]
        assert row.action == AuditEvent.Action.INS_READ, name
        assert (row.actor, row.actor_rpps, row.ip_address) == (world["doctor"], world["doctor"].rpps, "10.20.30.40")
        assert row.detail == row.detail | {"view": name, "path": url, "ins": INS}
        assert before <= row.at <= timezone.now()
    assert len(_ins_rows(world["patient"])) == len(DISPLAYS)


def test_the_banner_links_the_ins_to_its_traces(client, world):
    client.force_login(world["doctor"])
    page = client.get(reverse("patients:file", args=[world["patient"].pk])).content.decode()
    assert f'href="{reverse("patients:ins_traces", args=[world["patient"].pk])}"' in page


def test_a_patient_without_an_ins_leaves_no_ins_trace_and_no_link(client, doctor, care_unit):
    patient = EpisodeFactory(care_unit=care_unit).patient
    client.force_login(doctor)
    page = client.get(reverse("patients:file", args=[patient.pk]))
    assert page.status_code == 200 and b"ins-traces-link" not in page.content
    assert not _ins_rows(patient)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.PATIENT_OPEN, patient_id=patient.pk).exists()


def test_a_frame_of_a_traced_page_is_not_traced_again_but_a_download_always_is(client, world):
    client.force_login(world["doctor"])
    document = world["document"]
    client.get(reverse("documents:detail", args=[document.pk]))
    client.get(reverse("documents:pdf", args=[document.pk, 1]), headers={"Sec-Fetch-Dest": "iframe"})
    assert [row.action for row in _ins_rows(world["patient"])] == [AuditEvent.Action.INS_READ]
    client.get(reverse("documents:cda_download", args=[document.pk, 1]), headers={"Sec-Fetch-Dest": "iframe"})
    assert _ins_rows(world["patient"])[-1].detail["view"] == "documents:cda_download"


def test_a_fragment_header_alone_does_not_skip_the_ins_trace(client, world):
    client.force_login(world["doctor"])
    client.get(reverse("documents:pdf", args=[world["document"].pk, 1]), headers={"Sec-Fetch-Dest": "iframe"})
    assert [row.detail["view"] for row in _ins_rows(world["patient"])] == ["documents:pdf"]


# --- exports --------------------------------------------------------------------------------------


def test_pdf_cda_download_and_api_answers_are_traced_as_exports(client, world):
    client.force_login(world["doctor"])
    document, patient = world["document"], world["patient"]
    assert client.get(reverse("documents:pdf", args=[document.pk, 1])).status_code == 200
    assert client.get(reverse("documents:cda_download", args=[document.pk, 1])).status_code == 200
    assert client.get(f"/api/patients/{patient.pk}/").json()["ins"] == INS
    rows = _ins_rows(patient)
    assert [(row.action, row.detail["view"]) for row in rows] == [
        (AuditEvent.Action.INS_EXPORT, "documents:pdf"),
        (AuditEvent.Action.INS_EXPORT, "documents:cda_download"),
        (AuditEvent.Action.INS_EXPORT, "patient-detail"),
    ]
    assert rows[-1].detail["channel"] == "api" and rows[-1].actor == world["doctor"]


def test_a_peer_reading_a_patient_through_the_api_is_traced_as_an_export_by_the_peer(client, world):
    _peer, token = create_peer(name="sih-urgences", scopes=[Peer.Scope.PATIENTS_READ])
    response = client.get(f"/api/patients/{world['patient'].pk}/", headers={"Authorization": f"Token {token}"})
    assert response.status_code == 200
    row = _ins_rows(world["patient"])[-1]
    assert (row.action, row.peer, row.actor, row.detail["ins"]) == (AuditEvent.Action.INS_EXPORT, "sih-urgences",
                                                                     None, INS)  # fmt: skip


# --- refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["patients:ins_traces", "patients:ins_traces_csv"])
def test_a_user_of_another_unit_is_refused_the_traces_with_an_audit_row_and_no_ins_trace(client, world, name):
    client.force_login(world["outsider"])
    assert client.get(reverse(name, args=[world["patient"].pk])).status_code == 403
    refusal = AuditEvent.objects.get(action=AuditEvent.Action.PATIENT_REFUSED, patient_id=world["patient"].pk)
    assert refusal.actor == world["outsider"] and refusal.detail["view"] == name
    assert not _ins_rows(world["patient"])
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.TRACE_EXPORT).exists()


def test_a_refused_file_shows_no_ins_and_leaves_no_ins_trace(client, world):
    client.force_login(world["outsider"])
    response = client.get(reverse("patients:file", args=[world["patient"].pk]))
    assert response.status_code == 403 and INS.encode() not in response.content
    assert not _ins_rows(world["patient"])


# --- partners -------------------------------------------------------------------------------------


def _message(patient: Patient, *, direction: str = Message.Direction.OUTBOUND, ins: str = INS) -> Message:
    return Message.objects.create(
        direction=direction, status=Message.Status.PROCESSED, raw=b"MSH", size=3, message_type="MDM^T02^MDM_T02",
        control_id=new_control_id(), patient_ids=" ".join(filter(None, (patient.ipp, ins))),
        receiving_application="PFI", receiving_facility="CHU", ack_code=Message.AckCode.ACCEPTED,
    )  # fmt: skip


def _sending(document, channel: str, message: Message, **fields: object) -> FeedingOrder:
    return FeedingOrder.objects.create(
        document=document, version=document.current_version, channel=channel, kind=OrderKind.AUTOMATIC,
        state=OrderState.SENT, due_at=timezone.now(), control_id=message.control_id, message=message,
        sent_at=timezone.now(), **fields,
    )  # fmt: skip


@pytest.fixture
def partners(world):
    """A PFI message and DMP sending, an MSSanté sending to a professional and the patient, a DMP call."""
    patient, document, doctor = world["patient"], world["document"], world["doctor"]
    FeedingOrder.objects.filter(document=document).delete()  # the letter's own automatic orders
    dmp_message, mss_message = _message(patient), _message(patient)
    _sending(document, "dmp", dmp_message)
    mss = _sending(document, "mss", mss_message, mss_recipients=["adam.hoda@test-ci-sis.mssante.fr"], mss_patient=True)
    ack = _message(patient, direction=Message.Direction.INBOUND)
    BusinessAck.objects.create(order=mss, event="MSS", success=True, recipient="adam.hoda@test-ci-sis.mssante.fr",
                               message=ack)  # fmt: skip
    DmpTransaction.objects.create(
        kind=DmpTransaction.Kind.SEARCH, user=doctor, user_name="Camille Soignant", national_id="8" + doctor.rpps,
        patient=patient, ins=INS, outcome=DmpTransaction.Outcome.SUCCESS, detail="documents du patient",
    )  # fmt: skip
    _message(PatientFactory(), ins="")  # another patient's message: not listed
    return {"dmp": dmp_message, "mss": mss_message}


def test_the_partners_are_the_pfi_messages_the_dmp_calls_and_sendings_and_the_mssante_recipients(world, partners):
    rows = ins_transmissions(world["patient"])
    systems = sorted((row.system, row.recipient) for row in rows)
    assert systems == sorted([
        ("PFI", "PFI CHU"), ("PFI", "PFI CHU"), ("DMP", ""), ("DMP (via la PFI)", "DMP du patient"),
        ("MSSanté", "adam.hoda@test-ci-sis.mssante.fr"), ("MSSanté", "BAL MSSanté du patient"),
    ])  # fmt: skip
    pfi = {row.reference for row in rows if row.system == "PFI"}
    assert pfi == {f"MSH-10 {partners['dmp'].control_id}", f"MSH-10 {partners['mss'].control_id}"}
    dmp_call = next(row for row in rows if row.system == "DMP")
    assert dmp_call.reference.startswith("TD3.1") and dmp_call.outcome == "réussie"
    professional = next(row for row in rows if row.recipient.startswith("adam.hoda"))
    assert "succès" in professional.outcome


def test_a_message_without_the_ins_is_no_transmission_of_the_ins(world):
    patient = world["patient"]
    _message(patient, ins="")  # PID-3 with the IPP only (an identity not yet qualified at the time)
    assert ins_transmissions(patient) == []


# --- the page and its export -------------------------------------------------------------------------


def test_the_page_lists_displays_with_rpps_paris_time_and_address_and_the_partners(client, world, partners):
    doctor, patient = world["doctor"], world["patient"]
    client.force_login(doctor)
    client.get(reverse("patients:file", args=[patient.pk]), REMOTE_ADDR="10.1.2.3")
    row = AuditEvent.objects.get(action=AuditEvent.Action.INS_READ)
    AuditEvent.objects.filter(pk=row.pk).update(at=datetime(2026, 7, 14, 8, 5, tzinfo=UTC))
    page = client.get(reverse("patients:ins_traces", args=[patient.pk])).content.decode()
    assert "14/07/2026 10:05:00" in page  # 08:05 UTC is 10:05 in Paris (summer time)
    assert doctor.username in page and doctor.rpps in page and "10.1.2.3" in page
    assert "Dossier patient (bandeau)" in page
    assert partners["dmp"].control_id in page and "adam.hoda@test-ci-sis.mssante.fr" in page
    assert "TD3.1" in page and "BAL MSSanté du patient" in page


def test_the_displays_are_paginated(client, world):
    client.force_login(world["doctor"])
    patient = world["patient"]
    AuditEvent.objects.bulk_create(
        AuditEvent(
            action=AuditEvent.Action.INS_READ,
            patient_id=patient.pk,
            actor_username=f"user{index}",
            detail={"view": "patients:file", "ins": INS},
        )  # fmt: skip
        for index in range(30)
    )
    first = client.get(reverse("patients:ins_traces", args=[patient.pk])).content.decode()
    assert first.count('data-testid="ins-event"') == 25 and "Page 1 sur 2" in first
    second = client.get(reverse("patients:ins_traces", args=[patient.pk]) + "?affichages=2").content.decode()
    assert second.count('data-testid="ins-event"') == 6  # the 5 left and the first page's own trace


def test_the_csv_export_holds_every_trace_is_formula_safe_and_is_itself_audited(client, world, partners):
    doctor, patient = world["doctor"], world["patient"]
    client.force_login(doctor)
    AuditEvent.objects.create(action=AuditEvent.Action.INS_READ, patient_id=patient.pk, actor_username="=cmd|x",
                              detail={"view": "patients:file", "ins": INS})  # fmt: skip
    response = client.get(reverse("patients:ins_traces_csv", args=[patient.pk]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode()), delimiter=";"))
    assert lines[0][:3] == ["nature", "date", "utilisateur"]
    assert ["Affichage", "'=cmd|x"] == [lines[1][0], lines[1][2]]
    assert sum(line[0] == "Transmission" for line in lines) == 6
    export = AuditEvent.objects.get(action=AuditEvent.Action.TRACE_EXPORT)
    assert (export.actor, export.patient_id, export.detail["rows"]) == (doctor, patient.pk, 7)
    assert _ins_rows(patient)[-1].detail["view"] == "patients:ins_traces_csv"
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PATIENT_OPEN).exists()  # trace.export is it


def test_the_traces_of_a_merged_identity_follow_the_surviving_file(client, world):
    patient = world["patient"]
    absorbed = PatientFactory(merged_into=patient)
    AuditEvent.objects.create(action=AuditEvent.Action.INS_READ, patient_id=absorbed.pk, detail={"ins": INS})
    assert [event.patient_id for event in ins_events(patient)] == [absorbed.pk]


def test_an_admin_page_of_the_patient_counts_as_an_ins_display(client, world):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    client.get(reverse("admin:patients_patient_change", args=[world["patient"].pk]))
    client.get(reverse("admin:patients_patient_changelist"))
    assert [event.detail["channel"] for event in ins_events(world["patient"])] == ["admin"]


def test_old_traces_are_listed_newest_first(world):
    patient = world["patient"]
    for days in (3, 1, 2):
        row = AuditEvent.objects.create(action=AuditEvent.Action.INS_READ, patient_id=patient.pk, detail={"ins": INS})
        AuditEvent.objects.filter(pk=row.pk).update(at=timezone.now() - timedelta(days=days))
    ages = [(timezone.now() - event.at).days for event in ins_events(patient)]
    assert ages == [1, 2, 3]


def test_a_search_by_ins_traces_the_patient_found_and_a_search_by_name_does_not(client, world):
    client.force_login(world["doctor"])
    patient = world["patient"]
    client.get(reverse("patients:search"), {"name": patient.birth_name})
    assert not _ins_rows(patient)
    response = client.get(reverse("patients:search"), {"ins": INS})
    assert response.status_code == 200
    [row] = _ins_rows(patient)
    assert (row.action, row.actor, row.detail["view"]) == (
        AuditEvent.Action.INS_READ,
        world["doctor"],
        "patients:search",
    )


def test_an_api_list_traces_each_patient_it_carried_with_an_ins_as_an_export(client, world, care_unit):
    without_ins = EpisodeFactory(care_unit=care_unit).patient
    client.force_login(world["doctor"])
    listed = {item["id"] for item in client.get("/api/patients/").json()["results"]}
    assert {world["patient"].pk, without_ins.pk} <= listed
    rows = AuditEvent.objects.filter(action__in=INS_ROWS)
    assert [(row.patient_id, row.action, row.detail["view"]) for row in rows] == [
        (world["patient"].pk, AuditEvent.Action.INS_EXPORT, "patient-list")
    ]
