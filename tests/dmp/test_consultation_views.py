"""The patient's DMP in the file, through the pages and fragments a browser asks, against the sandbox DMP.

The file page never calls the DMP itself (DPI.DMP/UX.10): it carries placeholders htmx fills after it.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from consent.models import State
from documents.models import Document, Provenance
from dpi.models import AuditEvent
from sandbox.models import DmpBehaviour, DmpDocument
from tests.dmp.live import BIOLOGY, IMAGING, LETTER, Consultation, LiveDmp

pytestmark = pytest.mark.django_db(transaction=True)


def _client(consultation: Consultation) -> Client:
    client = Client()
    client.force_login(consultation.user)
    return client


def _entry_uuids(page: str) -> list[str]:
    return re.findall(r'name="entry" value="(urn:uuid:[0-9a-f-]+)"', page)


def _uuid_of(page: str, unique_id: str) -> str:
    row = re.search(rf'data-unique-id="{re.escape(unique_id)}".*?value="(urn:uuid:[0-9a-f-]+)"', page, re.S)
    assert row, f"{unique_id} not listed"
    return row.group(1)


def _panel(client: Client, consultation: Consultation) -> str:
    response = client.get(reverse("dmp:panel", args=[consultation.patient.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_file_page_shows_placeholders_and_never_calls_the_dmp_itself(live_dmp: LiveDmp):
    consultation = live_dmp.consultation(documents=4)
    page = _client(consultation).get(reverse("patients:file", args=[consultation.patient.pk])).content.decode()

    assert reverse("dmp:access_state", args=[consultation.patient.pk]) in page
    assert "interrogation du DMP…" in page
    assert 'hx-trigger="dmp-access from:body once"' in page
    assert live_dmp.calls() == []


def test_the_state_fragment_shows_an_open_authorised_dmp_and_tells_the_section_to_load(live_dmp: LiveDmp):
    consultation = live_dmp.consultation(documents=4)
    response = _client(consultation).get(reverse("dmp:access_state", args=[consultation.patient.pk]))

    assert 'data-state="authorised"' in response.content.decode()
    assert response["HX-Trigger"] == "dmp-access"
    assert [call.transaction for call in live_dmp.calls()] == ["TD0.2"]


def test_an_unauthorised_user_is_authorised_automatically_once_per_session(live_dmp: LiveDmp):
    consultation = live_dmp.consultation(documents=4, authorised=False)
    client = _client(consultation)
    url = reverse("dmp:access_state", args=[consultation.patient.pk])

    first = client.get(url).content.decode()
    second = client.get(url).content.decode()

    assert 'data-state="authorised"' in first and "enregistrée à l'instant" in first
    assert 'data-state="authorised"' in second and "enregistrée à l'instant" not in second
    assert [call.transaction for call in live_dmp.calls()] == ["TD0.2", "TD0.3"]


@pytest.mark.parametrize(
    ("setup", "state"),
    [("none", "none"), ("closed", "closed"), ("blocked", "not_authorised")],
)
def test_the_other_official_states_are_shown(live_dmp: LiveDmp, setup: str, state: str):
    consultation = live_dmp.consultation(documents=4, with_dmp=setup != "none", authorised=setup == "closed")
    if setup == "closed":
        live_dmp.close_dmp(consultation.dmp)
    if setup == "blocked":
        live_dmp.block(consultation.dmp, consultation.user)
    client = _client(consultation)

    state_page = client.get(reverse("dmp:access_state", args=[consultation.patient.pk])).content.decode()
    panel = _panel(client, consultation)

    assert f'data-state="{state}"' in state_page
    assert f'data-state="{state}"' in panel and "dmp-entries" not in panel
    assert not live_dmp.calls("ITI-18")


@pytest.mark.parametrize(("choice", "reason"), [(State.INFORMED_OPPOSED, "opposed"), (None, "not_informed")])
def test_without_the_patients_agreement_nothing_is_sent_and_the_reason_is_shown(live_dmp, choice, reason):
    consultation = live_dmp.consultation(documents=4, consent=choice)
    client = _client(consultation)
    pk = consultation.patient.pk

    file_page = client.get(reverse("patients:file", args=[pk])).content.decode()
    state_page = client.get(reverse("dmp:access_state", args=[pk])).content.decode()
    panel = _panel(client, consultation)
    search = client.get(reverse("dmp:search", args=[pk]), {"status": "approved"})

    assert f'data-state="{reason}"' in file_page and reverse("dmp:access_state", args=[pk]) not in file_page
    assert f'data-state="{reason}"' in state_page
    assert f'data-reason="{reason}"' in panel
    assert search.status_code == 403
    assert live_dmp.calls() == []


def test_an_unqualified_identity_is_never_sent(live_dmp: LiveDmp):
    consultation = live_dmp.consultation(documents=4, qualified=False)
    state_page = _client(consultation).get(reverse("dmp:access_state", args=[consultation.patient.pk]))

    assert 'data-state="ins_not_qualified"' in state_page.content.decode()
    assert live_dmp.calls() == []


def test_the_section_lists_the_dmp_and_counts_new_documents_from_outside(live_dmp: LiveDmp):
    consultation = live_dmp.consultation(documents=4)
    live_dmp.add_document(consultation.dmp, BIOLOGY, days_ago=0.2, invisible_to_patient=True)
    panel = _panel(_client(consultation), consultation)

    assert panel.count('data-testid="dmp-entry"') >= 4
    assert 'data-testid="dmp-new-biology" data-count="' in panel
    assert 'data-testid="dmp-new-invisible"' in panel
    assert 'data-testid="dmp-invisible"' in panel


def test_acknowledging_resets_the_count(live_dmp: LiveDmp):
    consultation = live_dmp.consultation(documents=4)
    live_dmp.add_document(consultation.dmp, LETTER, days_ago=0.2)
    client = _client(consultation)
    assert 'data-testid="dmp-new-ldl" data-count="' in _panel(client, consultation)

    client.post(reverse("dmp:acknowledge", args=[consultation.patient.pk]))
    refreshed = client.get(reverse("dmp:panel", args=[consultation.patient.pk]), {"actualiser": "1"})

    assert 'data-testid="dmp-new-ldl"' not in refreshed.content.decode()


def test_the_search_on_the_invisible_criterion_returns_only_invisible_documents(live_dmp: LiveDmp):
    consultation = live_dmp.consultation(documents=4)
    hidden = live_dmp.add_document(consultation.dmp, IMAGING, days_ago=3, invisible_to_patient=True)
    client = _client(consultation)

    found = client.get(
        reverse("dmp:search", args=[consultation.patient.pk]), {"visibility": "invisible", "period": "1y"}
    ).content.decode()

    assert found.count('data-testid="dmp-entry"') == 1
    assert f'data-unique-id="{hidden.unique_id}"' in found
    assert any("INVISIBLE_PATIENT" in str(call.query_parameters) for call in live_dmp.calls("ITI-18"))


def test_a_search_with_unreadable_criteria_is_refused_before_any_call(live_dmp: LiveDmp):
    consultation = live_dmp.consultation(documents=4)
    response = _client(consultation).get(
        reverse("dmp:search", args=[consultation.patient.pk]),
        {"act_from": "2026-05-01", "act_to": "2026-01-01", "author": "x' OR 1=1 --"},
    )

    assert response.status_code == 400
    assert "La fin de la période précède son début." in response.content.decode()
    assert not live_dmp.calls("ITI-18")


def test_a_dmp_document_opens_in_the_viewer_pdf_first_then_cda(live_dmp: LiveDmp):
    consultation = live_dmp.consultation(documents=4)
    n1 = live_dmp.add_document(consultation.dmp, BIOLOGY, days_ago=2)  # biology reports are seeded N1
    client = _client(consultation)
    uuid = _uuid_of(_panel(client, consultation), n1.unique_id)
    pk = consultation.patient.pk

    viewer = client.get(reverse("dmp:document", args=[pk, uuid])).content.decode()
    pdf = client.get(reverse("dmp:document_pdf", args=[pk, uuid]))
    cda = client.get(reverse("dmp:document_cda", args=[pk, uuid]))

    assert 'data-testid="pdf-frame"' in viewer
    assert pdf.content.startswith(b"%PDF-")
    assert "sandbox" in cda["Content-Security-Policy"] or "default-src 'none'" in cda["Content-Security-Policy"]
    assert len(live_dmp.calls("ITI-43")) == 1  # the viewer's tabs reuse the retrieved document
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DMP_READ, patient_id=pk).exists()


def test_an_unknown_entry_is_not_found(live_dmp: LiveDmp):
    consultation = live_dmp.consultation(documents=4)
    client = _client(consultation)
    pk = consultation.patient.pk

    assert client.get(reverse("dmp:document", args=[pk, "not-a-uuid"])).status_code == 404
    unknown = "urn:uuid:00000000-0000-4000-8000-000000000000"
    assert client.get(reverse("dmp:document_pdf", args=[pk, unknown])).status_code == 404


def test_several_documents_integrate_in_one_action_and_never_twice(live_dmp: LiveDmp):
    consultation = live_dmp.consultation(documents=4)
    client = _client(consultation)
    uuids = _entry_uuids(_panel(client, consultation))[:2]
    url = reverse("dmp:integrate", args=[consultation.patient.pk])

    first = client.post(url, {"entry": uuids}).content.decode()
    again = client.post(url, {"entry": uuids}).content.decode()

    integrated = Document.objects.filter(patient=consultation.patient, provenance=Provenance.DMP)
    assert integrated.count() == 2
    assert first.count('data-ok="1"') == 2
    assert all(f'id="local-{uuid.removeprefix("urn:uuid:")}" hx-swap-oob="true"' in first for uuid in uuids)
    assert again.count('data-ok="0"') == 2 and "déjà dans le dossier" in again
    assert all(document.care_unit == consultation.user.memberships.first().care_unit for document in integrated)
    assert 'data-testid="dmp-already-integrated"' in _panel(client, consultation)


def test_an_integration_of_nothing_or_of_forged_identifiers_is_refused(live_dmp: LiveDmp):
    consultation = live_dmp.consultation(documents=4)
    client = _client(consultation)
    url = reverse("dmp:integrate", args=[consultation.patient.pk])

    assert client.post(url, {}).status_code == 400
    assert client.post(url, {"entry": ["<script>"]}).status_code == 400
    assert not live_dmp.calls("ITI-43")


def test_a_document_integrated_then_replaced_in_the_dmp_gives_a_notice(live_dmp: LiveDmp):
    consultation = live_dmp.consultation(documents=4)
    letter = live_dmp.add_document(consultation.dmp, LETTER, days_ago=5)
    client = _client(consultation)
    uuid = _uuid_of(_panel(client, consultation), letter.unique_id)
    client.post(reverse("dmp:integrate", args=[consultation.patient.pk]), {"entry": [uuid]})
    live_dmp.replace_document(consultation.dmp, letter)

    panel = _panel(client, consultation)  # the next opening, the list still kept for the session

    assert 'data-testid="dmp-update"' in panel and "une nouvelle version est dans le DMP" in panel
    newer = re.search(
        r'name="entry" value="(urn:uuid:[0-9a-f-]+)">\s*<button type="submit" data-testid="dmp-update', panel
    )
    client.post(reverse("dmp:integrate", args=[consultation.patient.pk]), {"entry": [newer.group(1)]})
    document = Document.objects.get(patient=consultation.patient, provenance=Provenance.DMP)
    assert document.versions.count() == 2  # the new version beside the old one, not a duplicate


def test_making_a_document_visible_is_confirmed_then_done_in_the_dmp(live_dmp: LiveDmp):
    consultation = live_dmp.consultation(documents=4)
    hidden = live_dmp.add_document(consultation.dmp, IMAGING, days_ago=3, invisible_to_patient=True)
    client = _client(consultation)
    uuid = _uuid_of(_panel(client, consultation), hidden.unique_id)
    url = reverse("dmp:make_visible", args=[consultation.patient.pk, uuid])

    confirm = client.get(url).content.decode()
    nobody = client.post(url, {})
    done = client.post(url, {"to_patient": "1"})

    assert 'data-testid="dmp-visibility-confirm"' in confirm
    assert nobody.status_code == 400
    assert done.status_code == 302
    assert not DmpDocument.objects.get(
        unique_id=hidden.unique_id, status=DmpDocument.Status.APPROVED
    ).invisible_to_patient
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DMP_CHANGE, patient_id=consultation.patient.pk).exists()


def test_the_web_ps_page_posts_the_signed_context_to_the_dmp(live_dmp: LiveDmp):
    consultation = live_dmp.consultation(documents=4)
    client = _client(consultation)

    page = client.get(reverse("dmp:webps", args=[consultation.patient.pk, "vaccination"])).content.decode()
    unknown = client.get(reverse("dmp:webps", args=[consultation.patient.pk, "autre"]))

    assert f'action="{live_dmp.server.webps_url}' in page and "data-autopost" in page
    assert "js/autopost.js" in page
    assert unknown.status_code == 404


def test_the_drimbox_opens_even_when_the_patient_opposed_dmp_consultation(live_dmp: LiveDmp):
    consultation = live_dmp.consultation(documents=4, consent=State.INFORMED_OPPOSED)
    client = _client(consultation)

    page = client.get(reverse("dmp:drimbox", args=[consultation.patient.pk]), {"etude": "1.2.3.4"})
    forged = client.get(reverse("dmp:drimbox", args=[consultation.patient.pk]), {"etude": "1.2.<x>"})

    assert f'action="{live_dmp.server.drimbox_url}' in page.content.decode()
    assert forged.status_code == 404


def test_a_dmp_that_is_down_leaves_the_file_usable_and_says_why(live_dmp: LiveDmp):
    consultation = live_dmp.consultation(documents=4)
    live_dmp.set_mode(DmpBehaviour.Mode.DOWN)
    client = _client(consultation)
    pk = consultation.patient.pk

    file_page = client.get(reverse("patients:file", args=[pk]))
    state = client.get(reverse("dmp:access_state", args=[pk]))

    assert file_page.status_code == 200
    assert state.status_code == 200 and 'data-state="error"' in state.content.decode()
    assert "DMP" in state.content.decode()


def test_a_dmp_slower_than_the_timeout_is_reported_not_waited_for(live_dmp: LiveDmp, settings):
    settings.DMP_TIMEOUT_SECONDS = 0.5
    consultation = live_dmp.consultation(documents=4)
    live_dmp.set_mode(DmpBehaviour.Mode.SLOW, slow_seconds=3)

    state = _client(consultation).get(reverse("dmp:access_state", args=[consultation.patient.pk]))

    assert 'data-state="error"' in state.content.decode()


def test_a_user_without_access_to_the_patient_is_refused_and_audited(live_dmp: LiveDmp):
    consultation = live_dmp.consultation(documents=4)
    stranger = live_dmp.professional()
    client = Client()
    client.force_login(stranger)

    response = client.get(reverse("dmp:panel", args=[consultation.patient.pk]))

    assert response.status_code == 403
    assert AuditEvent.objects.filter(action=AuditEvent.Action.PATIENT_REFUSED, actor=stranger).exists()
    assert live_dmp.calls() == []


def test_an_integrated_imaging_report_links_its_examination_to_the_drimbox(live_dmp: LiveDmp):
    consultation = live_dmp.consultation(documents=4)
    report = live_dmp.add_document(consultation.dmp, IMAGING, days_ago=2)
    client = _client(consultation)
    uuid = _uuid_of(_panel(client, consultation), report.unique_id)
    client.post(reverse("dmp:integrate", args=[consultation.patient.pk]), {"entry": [uuid]})
    document = Document.objects.get(patient=consultation.patient, provenance=Provenance.DMP)

    page = client.get(reverse("documents:detail", args=[document.pk])).content.decode()

    assert 'data-testid="drimbox-link"' in page
    assert reverse("dmp:drimbox", args=[consultation.patient.pk]) + "?etude=" in page


def test_the_worklist_lists_nothing_for_a_unit_that_sent_nothing_invisible(live_dmp: LiveDmp):
    consultation = live_dmp.consultation(documents=4)
    page = _client(consultation).get(reverse("dmp:invisible_documents")).content.decode()

    assert 'data-testid="dmp-invisible-worklist"' in page and "Aucun document en attente." in page
