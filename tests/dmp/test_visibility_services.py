"""Visibility of DMP documents (TD3.3b) and the pages opened in the user's browser (web PS TD0.10, DRIMbox),
from dmp.services.visibility, against the sandbox DMP. ``live_dmp``: tests/dmp/live.py."""

from __future__ import annotations

import httpx
import pytest

from consent.models import State
from dmp.clients.errors import DmpRefused
from dmp.models import DmpTransaction
from dmp.services.consultation import load_panel, search
from dmp.services.visibility import drimbox_form, make_visible, webps_form
from documents.models import Document
from dpi.models import AuditEvent
from sandbox.dmp.store import Visibility, register_cda
from sandbox.models import DmpDocument
from tests.dmp.live import IMAGING, LETTER, Consultation, make_request

pytestmark = pytest.mark.django_db(transaction=True)
Kind = DmpTransaction.Kind
Outcome = DmpTransaction.Outcome
BOTH_INVISIBLE = Visibility(invisible_to_patient=True, invisible_to_legal_representatives=True)


def current(document: DmpDocument) -> DmpDocument:
    """The approved metadata version of a sandbox document (a visibility change adds one)."""
    return DmpDocument.objects.get(lid=document.lid, status=DmpDocument.Status.APPROVED)


def test_making_a_document_visible_to_the_patient_changes_the_dmp_and_is_traced_and_audited(live_dmp):
    consultation = live_dmp.consultation()
    hidden = live_dmp.add_document(consultation.dmp, LETTER, days_ago=3, invisible_to_patient=True)
    DmpDocument.objects.filter(pk=hidden.pk).update(invisible_to_legal_representatives=True)
    context = consultation.context()
    entry = load_panel(consultation.request, context).entries[0]
    asked = len(live_dmp.calls())

    updated = make_visible(consultation.request, context, entry, to_patient=True, to_legal_representatives=False)

    now = current(hidden)
    assert (now.version, now.invisible_to_patient, now.invisible_to_legal_representatives) == (2, False, True)
    assert (updated.invisible_to_patient, updated.invisible_to_legal_representatives) == (False, True)
    assert updated.entry_uuid == now.entry_uuid != entry.entry_uuid
    assert "ITI-57" in [call.transaction for call in live_dmp.calls()[asked:]]
    trace = DmpTransaction.objects.get(kind=Kind.VISIBILITY)
    assert (trace.outcome, trace.detail, trace.documents) == (Outcome.SUCCESS, "visible : patient", [entry.unique_id])
    assert trace.national_id == consultation.user.national_id
    change = AuditEvent.objects.get(action=AuditEvent.Action.DMP_CHANGE)
    assert (change.actor, change.patient_id) == (consultation.user, consultation.patient.pk)
    assert change.change == AuditEvent.Change.MADE_VISIBLE
    assert change.detail == {"unique_id": entry.unique_id, "to": ["patient"]}
    reloaded = load_panel(consultation.request, context).entries  # the panel of the session was forgotten
    assert [(e.entry_uuid, e.invisible_to_patient) for e in reloaded] == [(now.entry_uuid, False)]


def test_making_visible_to_both_at_once(live_dmp):
    consultation = live_dmp.consultation()
    dmp = consultation.dmp
    hidden = live_dmp.add_document(dmp, LETTER, days_ago=3, invisible_to_patient=True)
    DmpDocument.objects.filter(pk=hidden.pk).update(invisible_to_legal_representatives=True)
    context = consultation.context()
    (entry,) = search(consultation.request, context, load_panel(consultation.request, context).query)

    make_visible(consultation.request, context, entry, to_patient=True, to_legal_representatives=True)

    assert current(hidden).visibility_codes == []
    trace = DmpTransaction.objects.get(kind=Kind.VISIBILITY)
    assert trace.detail == "visible : patient, représentants légaux"


def test_a_document_the_hospital_sent_invisible_follows_when_made_visible(live_dmp, letter, care_unit, doctor):
    episode = live_dmp.patient(care_unit)
    produced = letter(episode, invisible_to_patient=True)  # written and validated by ``doctor``
    dmp = live_dmp.open_dmp(episode.patient)
    sent = register_cda(dmp, bytes(produced.current_version.cda), visibility=Visibility(invisible_to_patient=True))
    user = live_dmp.professional(care_unit)
    live_dmp.authorise(dmp, user)
    consultation = Consultation(user=user, episode=episode, request=make_request(user), dmp=dmp)
    context = consultation.context()
    (entry,) = load_panel(consultation.request, context).entries

    make_visible(consultation.request, context, entry, to_patient=True, to_legal_representatives=False)

    produced.refresh_from_db()
    assert entry.unique_id == sent.unique_id
    assert produced.invisible_to_patient is False
    assert current(sent).invisible_to_patient is False
    change = AuditEvent.objects.get(action=AuditEvent.Action.DOCUMENT_CHANGE, change="dmp_visibility")
    assert (change.actor, change.after) == (user, {"invisible_to_patient": False})


def test_a_visibility_change_the_dmp_refuses_is_traced_and_not_audited_as_done(live_dmp):
    consultation = live_dmp.consultation()
    live_dmp.add_document(consultation.dmp, LETTER, days_ago=3, invisible_to_patient=True)
    context = consultation.context()
    entry = load_panel(consultation.request, context).entries[0]
    consultation.dmp.authorisations.all().delete()  # the patient withdrew the authorisation meanwhile

    with pytest.raises(DmpRefused) as raised:
        make_visible(consultation.request, context, entry, to_patient=True, to_legal_representatives=False)

    assert raised.value.code == "dmp:AccessNotAuthorized"
    trace = DmpTransaction.objects.get(kind=Kind.VISIBILITY)
    assert (trace.outcome, trace.error_code) == (Outcome.REFUSED, "dmp:AccessNotAuthorized")
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DMP_CHANGE).exists()
    assert not Document.objects.exists()


def test_the_web_ps_opens_the_patients_dmp_with_the_users_assertion(live_dmp):
    consultation = live_dmp.consultation()
    live_dmp.add_document(consultation.dmp, LETTER, days_ago=3)
    context = consultation.context()

    form = webps_form(consultation.request, context, "dossier")
    page = httpx.post(form.action, data=form.fields, timeout=5)

    assert form.action == live_dmp.server.webps_url
    assert page.status_code == 200
    (call,) = live_dmp.calls("TD0.10")
    assert (call.name_id, call.outcome) == (consultation.user.national_id, "ok")
    trace = DmpTransaction.objects.get()
    assert (trace.kind, trace.outcome, trace.detail) == (Kind.WEB_PS, Outcome.SUCCESS, "dossier du patient")
    opened = AuditEvent.objects.get(action=AuditEvent.Action.DMP_READ)
    assert opened.detail == {"view": "webps:dossier"}


def test_the_drimbox_opens_a_study_even_when_the_patient_opposed_dmp_consultation(live_dmp):
    consultation = live_dmp.consultation(consent=State.INFORMED_OPPOSED)
    report = live_dmp.add_document(consultation.dmp, IMAGING, days_ago=3)
    study = report.reference_ids[0].split("^")[0]
    context = consultation.context(dmp=False)

    form = drimbox_form(consultation.request, context, study=study)
    page = httpx.post(form.action, data=form.fields, timeout=5)

    assert page.status_code == 200 and study in page.text
    (call,) = live_dmp.calls("DRIMbox")
    assert call.name_id == consultation.user.national_id
    trace = DmpTransaction.objects.get()
    assert (trace.kind, trace.detail) == (Kind.DRIMBOX, f"examen {study}")
    assert AuditEvent.objects.get(action=AuditEvent.Action.DMP_READ).detail == {"view": "drimbox"}
