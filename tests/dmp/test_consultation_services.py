"""Consultation of the DMP from the file (dmp.access, dmp.services.consultation), against the sandbox DMP
over mutual TLS: what the DPI asks, what it keeps, what it traces. ``live_dmp``: tests/dmp/live.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from consent.models import State
from dmp.clients.errors import DmpRefused, DmpUnavailable
from dmp.clients.types import INVISIBLE_TO_PATIENT, VISIBILITY_SYSTEM, Code, DocumentQuery
from dmp.models import DmpTransaction, IntegratedDmpDocument, NewDocumentsAcknowledgement, NewDocumentsRule
from dmp.models.consultation import Reference
from dmp.selectors.consultation import integrated_unique_ids
from dmp.services.consultation import (
    acknowledge_new_documents,
    check_access,
    entries_by_uuid,
    forget,
    integrate_documents,
    known_entries,
    load_panel,
    retrieve_document,
    search,
)
from dmp.services.visibility import make_visible
from documents.models import Document, Provenance
from dpi.models import AuditEvent
from patients.models import Episode
from patients.services import start_emergency_access
from sandbox.models import DmpBehaviour, DmpDocument
from tests.dmp.live import BIOLOGY, IMAGING, LETTER, ins_for
from tests.factories import EpisodeFactory

pytestmark = pytest.mark.django_db(transaction=True)
LOINC = "2.16.840.1.113883.6.1"
Kind = DmpTransaction.Kind
Outcome = DmpTransaction.Outcome


def current(document: DmpDocument) -> DmpDocument:
    """The approved metadata version of a sandbox document (a visibility change adds one)."""
    return DmpDocument.objects.get(lid=document.lid, status=DmpDocument.Status.APPROVED)


def by_unique_id(entries, document):
    return next(entry for entry in entries if entry.unique_id == document.unique_id)


# --- the gate: nothing leaves the DPI unless the patient, the identity and the user allow it ---------


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"consent": State.INFORMED_OPPOSED}, "opposed"),
        ({"consent": None}, "not_informed"),
        ({"qualified": False}, "ins_not_qualified"),
    ],
    ids=["opposed", "not-informed", "ins-not-qualified"],
)
def test_the_patients_choice_or_identity_blocks_consultation_before_any_request(live_dmp, options, reason):
    consultation = live_dmp.consultation(documents=4, **options)

    blocked = live_dmp.blocked(consultation)

    assert (blocked.allowed, blocked.reason) == (False, reason)
    assert blocked.message
    assert live_dmp.calls() == [] and not DmpTransaction.objects.exists()


def test_a_user_without_national_id_is_blocked_before_any_request(live_dmp):
    user = live_dmp.professional(national_id=False)
    consultation = live_dmp.consultation(user=user)

    blocked = live_dmp.blocked(consultation)

    assert blocked.reason == "no_national_id"
    assert "RPPS" in blocked.message
    assert live_dmp.calls() == []


def test_consultation_disabled_in_the_settings_blocks_everything(live_dmp, settings):
    consultation = live_dmp.consultation()
    settings.DMP_CONSULTATION_ENABLED = False

    assert live_dmp.blocked(consultation).reason == "disabled"


def test_the_drimbox_ignores_the_dmp_opposition_but_not_the_identity(live_dmp):
    opposed = live_dmp.consultation(consent=State.INFORMED_OPPOSED)
    not_qualified = live_dmp.consultation(qualified=False)

    assert opposed.context(dmp=False).allowed
    assert live_dmp.blocked(not_qualified, dmp=False).reason == "ins_not_qualified"


def test_the_vihf_names_the_user_their_unit_and_the_patient(live_dmp):
    consultation = live_dmp.consultation()
    user, unit = consultation.user, consultation.episode.care_unit

    check_access(consultation.request, consultation.context())

    (call,) = live_dmp.calls("TD0.2")
    assert call.name_id == user.national_id == f"8{user.rpps}"
    assert call.subject_name == f"{user.last_name.upper()} {user.first_name}"
    assert call.structure_id == f"1{unit.site.finess_eg}"
    assert call.patient_ins.startswith(consultation.patient.ins)
    assert (call.purpose_of_use, call.outcome) == ("normal", "ok")


def test_under_an_emergency_access_the_purpose_of_use_is_break_glass(live_dmp):
    consultation = live_dmp.consultation()
    stranger = live_dmp.professional()  # another unit: no care relationship with the patient
    start_emergency_access(user=stranger, patient=consultation.patient, reason="Arrêt cardiaque aux urgences")
    emergency = consultation.as_user(stranger)

    context = emergency.context()
    check_access(emergency.request, context)

    assert context.emergency
    assert [call.purpose_of_use for call in live_dmp.calls("TD0.2", "TD0.3")] == ["BRIS_DE_GLACE"] * 2


# --- TD0.2 and TD0.3: the four states, the automatic authorisation once per session -------------------


def test_an_open_dmp_where_the_user_is_authorised_needs_only_td02(live_dmp):
    consultation = live_dmp.consultation(authorised=True)

    access = check_access(consultation.request, consultation.context())

    assert (access.state, access.consultable, access.authorisation_set_now) == ("authorised", True, False)
    assert [call.transaction for call in live_dmp.calls()] == ["TD0.2"]


def test_a_missing_authorisation_is_set_at_once_then_not_asked_again_in_the_session(live_dmp):
    consultation = live_dmp.consultation(authorised=False)
    context = consultation.context()

    first = check_access(consultation.request, context)
    again = check_access(consultation.request, context)

    assert (first.state, first.authorisation_set_now) == ("authorised", True)
    assert first.existence.authorisation_until > timezone.now() + timedelta(days=170)
    assert (again.existence, again.authorisation_set_now) == (first.existence, False)  # not "just now" any more
    assert [call.transaction for call in live_dmp.calls()] == ["TD0.2", "TD0.3"]
    assert consultation.dmp.authorisations.get().national_id == consultation.user.national_id
    assert list(DmpTransaction.objects.order_by("pk").values_list("kind", "detail")) == [
        (Kind.EXISTENCE, ""),
        (Kind.AUTHORISATION, "AJOUT"),
    ]


def test_a_new_session_asks_td02_again_and_finds_the_authorisation(live_dmp):
    consultation = live_dmp.consultation(authorised=False)
    check_access(consultation.request, consultation.context())
    later = consultation.new_session()

    access = check_access(later.request, later.context())

    assert (access.state, access.authorisation_set_now) == ("authorised", False)
    assert [call.transaction for call in live_dmp.calls()] == ["TD0.2", "TD0.3", "TD0.2"]


def test_an_expired_authorisation_is_renewed(live_dmp):
    consultation = live_dmp.consultation(authorised=False)
    live_dmp.authorise(consultation.dmp, consultation.user, days=-1)

    access = check_access(consultation.request, consultation.context())

    assert (access.state, access.authorisation_set_now) == ("authorised", True)
    assert [call.transaction for call in live_dmp.calls()] == ["TD0.2", "TD0.3"]


def test_a_professional_blocked_by_the_patient_is_not_authorised_and_no_td03_is_sent(live_dmp):
    consultation = live_dmp.consultation(authorised=False)
    live_dmp.block(consultation.dmp, consultation.user)

    access = check_access(consultation.request, consultation.context())

    assert (access.state, access.consultable) == ("not_authorised", False)
    assert access.existence.refusal_reason == "Accès bloqué par le patient"
    assert [call.transaction for call in live_dmp.calls()] == ["TD0.2"]


def test_a_patient_without_dmp(live_dmp):
    consultation = live_dmp.consultation(with_dmp=False)

    access = check_access(consultation.request, consultation.context())

    assert (access.state, access.consultable) == ("none", False)
    assert [call.transaction for call in live_dmp.calls()] == ["TD0.2"]


def test_a_closed_dmp_is_closed_and_no_authorisation_is_asked(live_dmp):
    consultation = live_dmp.consultation(authorised=False)
    live_dmp.close_dmp(consultation.dmp, "Décès")

    access = check_access(consultation.request, consultation.context())

    assert (access.state, access.consultable) == ("closed", False)
    assert access.existence.closure_reason == "Décès"
    assert [call.transaction for call in live_dmp.calls()] == ["TD0.2"]


def test_two_users_each_send_their_own_vihf_and_get_their_own_authorisation(live_dmp):
    first = live_dmp.consultation(authorised=False)
    colleague = live_dmp.professional(first.episode.care_unit)
    second = first.as_user(colleague)

    check_access(first.request, first.context())
    check_access(second.request, second.context())

    sent = [(call.transaction, call.name_id) for call in live_dmp.calls()]
    ids = (first.user.national_id, colleague.national_id)
    assert sent == [("TD0.2", ids[0]), ("TD0.3", ids[0]), ("TD0.2", ids[1]), ("TD0.3", ids[1])]
    assert sorted(first.dmp.authorisations.values_list("national_id", flat=True)) == sorted(ids)
    traced = DmpTransaction.objects.values_list("user", "national_id").distinct()
    assert set(traced) == {(first.user.pk, ids[0]), (colleague.pk, ids[1])}


# --- the panel: the list, the new documents, the updates ----------------------------------------------


def test_the_panel_lists_the_last_two_years_newest_first(live_dmp):
    consultation = live_dmp.consultation()
    dmp = consultation.dmp
    old = live_dmp.add_document(dmp, LETTER, days_ago=3 * 365)
    last_year = live_dmp.add_document(dmp, BIOLOGY, days_ago=365)
    recent = live_dmp.add_document(dmp, IMAGING, days_ago=10)
    context = consultation.context()

    panel = load_panel(consultation.request, context)

    assert [entry.unique_id for entry in panel.entries] == [recent.unique_id, last_year.unique_id]
    assert old.unique_id not in {entry.unique_id for entry in panel.entries}
    find = next(call for call in live_dmp.calls("ITI-18") if live_dmp.queries([call]) == ["FindDocuments"])
    assert "$XDSDocumentEntryServiceStartTimeFrom" in find.query_parameters
    audit = AuditEvent.objects.get(action=AuditEvent.Action.DMP_READ)
    assert audit.detail == {"view": "dmp_panel", "documents": 2}


def test_the_panel_is_asked_once_per_stay_and_refreshing_asks_again(live_dmp):
    consultation = live_dmp.consultation(documents=4)
    context = consultation.context()

    first = load_panel(consultation.request, context)
    asked = len(live_dmp.calls())
    again = load_panel(consultation.request, context)
    assert again.entries == first.entries
    assert len(live_dmp.calls()) == asked

    forget(consultation.request, context)
    load_panel(consultation.request, context)
    assert len(live_dmp.calls()) == 2 * asked


def test_without_authorisation_the_panel_is_refused_in_french_and_traced(live_dmp):
    consultation = live_dmp.consultation(authorised=False, documents=4)

    with pytest.raises(DmpRefused) as raised:
        load_panel(consultation.request, consultation.context())

    assert raised.value.code == "dmp:AccessNotAuthorized"
    assert str(raised.value) == "Vous n'avez pas d'autorisation d'accès valide au DMP de ce patient."
    trace = DmpTransaction.objects.get()
    assert (trace.kind, trace.outcome, trace.error_code) == (Kind.SEARCH, Outcome.REFUSED, "dmp:AccessNotAuthorized")
    assert "autorisation" in trace.error_text


def test_new_documents_from_outside_since_the_last_visit_are_counted_per_category(live_dmp):
    consultation = live_dmp.consultation()
    unit = consultation.episode.care_unit
    now = timezone.now()
    EpisodeFactory(
        patient=consultation.patient,
        care_unit=unit,
        kind=Episode.Kind.INPATIENT,
        admitted_at=now - timedelta(days=20),
        discharged_at=now - timedelta(days=10),
    )
    dmp = consultation.dmp
    live_dmp.add_document(dmp, LETTER, days_ago=15)  # before the discharge: not new
    letter = live_dmp.add_document(dmp, LETTER, days_ago=5)
    biology = live_dmp.add_document(dmp, BIOLOGY, days_ago=3, invisible_to_patient=True)
    live_dmp.add_document(dmp, LETTER, days_ago=2, from_site=unit.site)  # the hospital's own
    live_dmp.add_document(dmp, IMAGING, days_ago=1, masked_to_professionals=True)  # not shown to this user

    new = load_panel(consultation.request, consultation.context()).new

    assert new.shown
    assert abs(new.since - (now - timedelta(days=10))) < timedelta(seconds=5)
    assert new.counts == (("ldl", "Lettres de liaison", 1), ("biology", "Biologie", 1))
    assert (new.total, new.invisible) == (2, 1)
    assert new.entry_uuids == {letter.entry_uuid, biology.entry_uuid}


def test_a_new_document_whose_visibility_changed_since_counts_once(live_dmp):
    consultation = live_dmp.consultation()
    hidden = live_dmp.add_document(consultation.dmp, BIOLOGY, days_ago=3, invisible_to_patient=True)
    context = consultation.context()
    entry = by_unique_id(load_panel(consultation.request, context).entries, hidden)
    make_visible(consultation.request, context, entry, to_patient=True, to_legal_representatives=False)

    new = load_panel(consultation.request, context).new

    assert (new.counts, new.invisible) == ((("biology", "Biologie", 1),), 0)
    assert new.entry_uuids == {current(hidden).entry_uuid}


def test_new_documents_are_not_counted_for_a_kind_of_care_the_rule_leaves_out(live_dmp):
    consultation = live_dmp.consultation(kind=Episode.Kind.INPATIENT)
    live_dmp.add_document(consultation.dmp, LETTER, days_ago=1)

    new = load_panel(consultation.request, consultation.context()).new

    assert (new.shown, new.total) == (False, 0)
    assert "FindSubmissionSets" not in live_dmp.queries(live_dmp.calls())


def test_acknowledging_resets_the_count_for_this_user(live_dmp):
    consultation = live_dmp.consultation()
    live_dmp.add_document(consultation.dmp, LETTER, days_ago=3)
    context = consultation.context()
    assert load_panel(consultation.request, context).new.total == 1

    acknowledge_new_documents(consultation.request, context)

    assert load_panel(consultation.request, context).new.total == 0  # the panel of the session
    forget(consultation.request, context)
    assert load_panel(consultation.request, context).new.total == 0  # asked again: since the acknowledgement
    seen = NewDocumentsAcknowledgement.objects.get(user=consultation.user, patient=consultation.patient)
    NewDocumentsAcknowledgement.objects.filter(pk=seen.pk).update(acknowledged_at=timezone.now() - timedelta(days=2))
    live_dmp.add_document(consultation.dmp, BIOLOGY, days_ago=1)
    forget(consultation.request, context)
    assert load_panel(consultation.request, context).new.counts == (("biology", "Biologie", 1),)


def test_acknowledging_keeps_the_count_hidden_where_the_rule_does_not_show_it(live_dmp):
    consultation = live_dmp.consultation(kind=Episode.Kind.INPATIENT)
    context = consultation.context()
    load_panel(consultation.request, context)

    acknowledge_new_documents(consultation.request, context)

    assert load_panel(consultation.request, context).new.shown is False


def test_a_rule_of_the_care_unit_chooses_the_counted_categories_and_the_period(live_dmp):
    consultation = live_dmp.consultation()
    NewDocumentsRule.objects.create(categories=["ldl", "biology"], reference=Reference.LAST_VISIT)  # everywhere
    NewDocumentsRule.objects.create(
        care_unit=consultation.episode.care_unit, categories=["biology"], reference=Reference.DAYS, days=4
    )
    dmp = consultation.dmp
    live_dmp.add_document(dmp, LETTER, days_ago=1)
    biology = live_dmp.add_document(dmp, BIOLOGY, days_ago=3)
    live_dmp.add_document(dmp, BIOLOGY, days_ago=6)

    new = load_panel(consultation.request, consultation.context()).new

    assert new.counts == (("biology", "Biologie", 1),)
    assert new.entry_uuids == {biology.entry_uuid}


def test_since_the_users_last_consultation_counts_what_came_after_it_for_the_whole_stay(live_dmp):
    consultation = live_dmp.consultation()
    NewDocumentsRule.objects.create(reference=Reference.LAST_CONSULTATION)
    live_dmp.add_document(consultation.dmp, LETTER, days_ago=8)
    earlier = consultation.new_session()
    load_panel(earlier.request, earlier.context())  # the user's previous consultation...
    DmpTransaction.objects.update(at=timezone.now() - timedelta(days=5))  # ...five days ago
    biology = live_dmp.add_document(consultation.dmp, BIOLOGY, days_ago=3)
    context = consultation.context()

    first = load_panel(consultation.request, context).new
    forget(consultation.request, context)  # "Actualiser" during the same stay on the file
    refreshed = load_panel(consultation.request, context).new

    assert first.entry_uuids == refreshed.entry_uuids == {biology.entry_uuid}


# --- search, the entries of the session, retrieve -------------------------------------------------------


def test_search_by_type_and_invisible_to_the_patient(live_dmp):
    consultation = live_dmp.consultation()
    dmp = consultation.dmp
    live_dmp.add_document(dmp, BIOLOGY, days_ago=40)
    hidden = live_dmp.add_document(dmp, BIOLOGY, days_ago=30, invisible_to_patient=True)
    live_dmp.add_document(dmp, LETTER, days_ago=20, invisible_to_patient=True)
    query = DocumentQuery(
        type_codes=(Code(BIOLOGY, LOINC),), confidentiality_codes=(Code(INVISIBLE_TO_PATIENT, VISIBILITY_SYSTEM),)
    )
    context = consultation.context()

    found = search(consultation.request, context, query)

    assert [entry.unique_id for entry in found] == [hidden.unique_id]
    assert found[0].invisible_to_patient
    (call,) = live_dmp.calls("ITI-18")
    assert {"$XDSDocumentEntryTypeCode", "$XDSDocumentEntryConfidentialityCode"} <= call.query_parameters.keys()
    assert set(known_entries(consultation.request, context)) == {found[0].entry_uuid}
    assert AuditEvent.objects.get(action=AuditEvent.Action.DMP_READ).detail == {"view": "dmp_search", "documents": 1}


def test_entries_come_from_what_the_session_was_shown_else_from_the_dmp(live_dmp):
    consultation = live_dmp.consultation()
    listed = live_dmp.add_document(consultation.dmp, LETTER, days_ago=10)
    old = live_dmp.add_document(consultation.dmp, BIOLOGY, days_ago=5 * 365)
    context = consultation.context()
    load_panel(consultation.request, context)
    asked = len(live_dmp.calls())

    shown = entries_by_uuid(consultation.request, context, [listed.entry_uuid])
    assert [entry.unique_id for entry in shown] == [listed.unique_id]
    assert len(live_dmp.calls()) == asked

    both = entries_by_uuid(consultation.request, context, [old.entry_uuid, listed.entry_uuid, "urn:uuid:unknown"])
    assert [entry.unique_id for entry in both] == [old.unique_id, listed.unique_id]
    assert live_dmp.queries(live_dmp.calls()[asked:]) == ["GetDocuments"]


def test_a_document_is_retrieved_once_for_the_session(live_dmp):
    consultation = live_dmp.consultation()
    document = live_dmp.add_document(consultation.dmp, LETTER, days_ago=10)
    context = consultation.context()
    entry = by_unique_id(load_panel(consultation.request, context).entries, document)

    first = retrieve_document(consultation.request, context, entry)
    again = retrieve_document(consultation.request, context, entry)

    assert first.content == again.content == bytes(document.content)
    assert len(live_dmp.calls("ITI-43")) == 1
    trace = DmpTransaction.objects.get(kind=Kind.RETRIEVE)
    assert (trace.documents, trace.document_count, trace.outcome) == ([document.unique_id], 1, Outcome.SUCCESS)


def test_a_document_deleted_meanwhile_is_not_retrieved_and_the_user_is_told_why(live_dmp):
    consultation = live_dmp.consultation()
    document = live_dmp.add_document(consultation.dmp, LETTER, days_ago=10)
    context = consultation.context()
    entry = by_unique_id(load_panel(consultation.request, context).entries, document)
    live_dmp.delete_document(consultation.dmp, document)

    with pytest.raises(DmpRefused) as raised:
        retrieve_document(consultation.request, context, entry)

    assert raised.value.code == "XDSDocumentUniqueIdError"
    assert str(raised.value).startswith("Ce document n'est pas ou plus accessible dans le DMP")
    trace = DmpTransaction.objects.get(kind=Kind.RETRIEVE)
    assert (trace.outcome, trace.documents) == (Outcome.REFUSED, [document.unique_id])


# --- integration ----------------------------------------------------------------------------------------


def test_several_documents_are_integrated_in_one_td32_in_the_users_unit_with_dmp_provenance(live_dmp):
    consultation = live_dmp.consultation()
    dmp, unit = consultation.dmp, consultation.episode.care_unit
    letter = live_dmp.add_document(dmp, LETTER, days_ago=10)
    biology = live_dmp.add_document(dmp, BIOLOGY, days_ago=20)
    context = consultation.context()
    entries = load_panel(consultation.request, context).entries
    chosen = [by_unique_id(entries, letter), by_unique_id(entries, biology), by_unique_id(entries, letter)]

    outcomes = integrate_documents(consultation.request, context, chosen)

    assert [(outcome.ok, outcome.message) for outcome in outcomes] == [
        (True, "intégré (version 1)"),
        (True, "intégré (version 1)"),
        (False, "Ce document est déjà dans le dossier (même identifiant)."),
    ]
    assert len(live_dmp.calls("ITI-43")) == 1
    documents = Document.objects.filter(patient=consultation.patient)
    assert documents.count() == 2
    assert {(d.provenance, d.care_unit_id, d.episode_id) for d in documents} == {
        (Provenance.DMP, unit.pk, consultation.episode.pk)
    }
    links = IntegratedDmpDocument.objects.order_by("document_id")
    assert [(link.unique_id, link.state) for link in links] == [
        (letter.unique_id, IntegratedDmpDocument.State.PRESENT),
        (biology.unique_id, IntegratedDmpDocument.State.PRESENT),
    ]
    assert {letter.unique_id, biology.unique_id} <= integrated_unique_ids(consultation.patient).keys()  # marked


def test_a_document_integrated_earlier_is_not_integrated_twice(live_dmp):
    consultation = live_dmp.consultation()
    letter = live_dmp.add_document(consultation.dmp, LETTER, days_ago=10)
    context = consultation.context()
    entry = by_unique_id(load_panel(consultation.request, context).entries, letter)
    integrate_documents(consultation.request, context, [entry])

    (outcome,) = integrate_documents(consultation.request, context, [entry])

    assert not outcome.ok and "déjà dans le dossier" in outcome.message
    assert Document.objects.filter(patient=consultation.patient).count() == 1


def test_integrating_entries_the_dmp_no_longer_knows_sends_nothing(live_dmp):
    consultation = live_dmp.consultation()
    context = consultation.context()
    entries = entries_by_uuid(consultation.request, context, ["urn:uuid:00000000-0000-4000-8000-000000000000"])

    assert integrate_documents(consultation.request, context, entries) == []
    assert live_dmp.calls("ITI-43") == []


def test_one_document_deleted_meanwhile_does_not_stop_the_others(live_dmp):
    consultation = live_dmp.consultation()
    dmp = consultation.dmp
    kept = live_dmp.add_document(dmp, LETTER, days_ago=10)
    gone = live_dmp.add_document(dmp, BIOLOGY, days_ago=20)
    context = consultation.context()
    entries = load_panel(consultation.request, context).entries
    live_dmp.delete_document(dmp, gone)

    outcomes = integrate_documents(
        consultation.request, context, [by_unique_id(entries, kept), by_unique_id(entries, gone)]
    )

    assert [outcome.ok for outcome in outcomes] == [True, False]
    assert outcomes[1].message == (
        "Non récupéré : Ce document n'est pas ou plus accessible dans le DMP (supprimé, masqué ou inconnu)."
    )
    assert Document.objects.filter(patient=consultation.patient).count() == 1


def test_a_document_whose_identity_differs_is_integrated_only_once_the_user_accepts(live_dmp):
    consultation = live_dmp.consultation()
    letter = live_dmp.add_document(consultation.dmp, LETTER, days_ago=10)
    patient = consultation.patient
    patient.first_names = "DOMINIQUE"  # the file's identity was corrected after the document was written
    patient.save()
    context = consultation.context()
    entry = by_unique_id(load_panel(consultation.request, context).entries, letter)

    (refused,) = integrate_documents(consultation.request, context, [entry])
    (accepted,) = integrate_documents(consultation.request, context, [entry], accept_identity_differences=True)

    assert (refused.ok, refused.identity_mismatch) == (False, True)
    assert "prénoms" in refused.message
    assert (accepted.ok, accepted.identity_mismatch) == (True, False)
    assert Document.objects.filter(patient=patient).count() == 1


def test_a_document_of_another_ins_is_never_integrated_even_when_the_user_accepts_the_differences(live_dmp):
    """A document misfiled in the patient's DMP names another person's INS: documents.services.integrate_cda
    refuses it whatever the user confirms (issue 17), and the outcome offers no confirmation."""
    consultation = live_dmp.consultation()
    letter = live_dmp.add_document(consultation.dmp, LETTER, days_ago=10)
    other_ins = ins_for(999)
    content = bytes(letter.content).replace(consultation.patient.ins.encode(), other_ins.encode())
    DmpDocument.objects.filter(pk=letter.pk).update(content=content, size=len(content))
    context = consultation.context()
    entry = by_unique_id(load_panel(consultation.request, context).entries, letter)

    (refused,) = integrate_documents(consultation.request, context, [entry], accept_identity_differences=True)

    assert (refused.ok, refused.identity_mismatch) == (False, False)
    assert "concerne un autre patient" in refused.message and other_ins in refused.message
    assert not Document.objects.filter(patient=consultation.patient).exists()


# --- DD.05: what became of the documents integrated from the DMP ---------------------------------------


def test_a_newer_version_in_the_dmp_is_reported_then_integrated_as_a_version_of_the_same_document(live_dmp):
    consultation = live_dmp.consultation()
    dmp = consultation.dmp
    first = live_dmp.add_document(dmp, LETTER, days_ago=10)
    context = consultation.context()
    entry = by_unique_id(load_panel(consultation.request, context).entries, first)
    (integrated,) = integrate_documents(consultation.request, context, [entry])
    forget(consultation.request, context)
    assert load_panel(consultation.request, context).updates == ()

    second = live_dmp.replace_document(dmp, first)
    forget(consultation.request, context)
    (update,) = load_panel(consultation.request, context).updates

    assert update.newer is not None and update.newer.unique_id == second.unique_id
    assert update.link.state == IntegratedDmpDocument.State.NEWER_VERSION
    assert update.link.newer_unique_id == second.unique_id
    assert update.newer.entry_uuid in known_entries(consultation.request, context)  # "Intégrer" may pick it

    (outcome,) = integrate_documents(consultation.request, context, [update.newer])

    assert (outcome.ok, outcome.message, outcome.document_id) == (
        True,
        "nouvelle version intégrée (version 2)",
        integrated.document_id,
    )
    document = Document.objects.get(pk=integrated.document_id)
    assert document.versions.count() == 2
    link = IntegratedDmpDocument.objects.get(document=document)
    assert (link.unique_id, link.state, link.newer_unique_id) == (second.unique_id, "present", "")
    forget(consultation.request, context)
    assert load_panel(consultation.request, context).updates == ()


def test_a_document_deleted_from_the_dmp_is_reported_as_gone(live_dmp):
    consultation = live_dmp.consultation()
    letter = live_dmp.add_document(consultation.dmp, LETTER, days_ago=10)
    context = consultation.context()
    entry = by_unique_id(load_panel(consultation.request, context).entries, letter)
    integrate_documents(consultation.request, context, [entry])
    live_dmp.delete_document(consultation.dmp, letter)
    forget(consultation.request, context)

    (update,) = load_panel(consultation.request, context).updates

    assert update.newer is None
    assert update.link.state == IntegratedDmpDocument.State.UNAVAILABLE
    assert Document.objects.filter(patient=consultation.patient).count() == 1  # the file keeps its copy


# --- traces and failures --------------------------------------------------------------------------------


def test_every_transaction_is_traced_with_the_user_the_patient_and_the_outcome(live_dmp):
    consultation = live_dmp.consultation(authorised=False)
    live_dmp.add_document(consultation.dmp, LETTER, days_ago=3)
    user, patient, unit = consultation.user, consultation.patient, consultation.episode.care_unit
    context = consultation.context()

    check_access(consultation.request, context)
    load_panel(consultation.request, context)

    traces = list(DmpTransaction.objects.order_by("pk"))
    assert len(traces) == len(live_dmp.calls())
    assert [trace.kind for trace in traces][:3] == [Kind.EXISTENCE, Kind.AUTHORISATION, Kind.SEARCH]
    assert {
        (t.user_id, t.user_name, t.national_id, t.profession, t.specialty, t.care_unit_id, t.finess_eg) for t in traces
    } == {(user.pk, user.display_name, user.national_id, "10", "SM26", unit.pk, unit.site.finess_eg)}
    assert {(t.patient_id, t.ins, t.outcome) for t in traces} == {(patient.pk, patient.ins, Outcome.SUCCESS)}


@pytest.mark.parametrize(
    ("mode", "code"),
    [
        (DmpBehaviour.Mode.DOWN, "connection"),
        (DmpBehaviour.Mode.SLOW, "timeout"),
        (DmpBehaviour.Mode.FAULT, "dmp:ServiceUnavailable"),
    ],
    ids=["down", "slow", "fault"],
)
def test_a_dmp_out_of_reach_is_a_transient_error_in_french_traced_as_unavailable(live_dmp, settings, mode, code):
    settings.DMP_TIMEOUT_SECONDS = 0.3  # the slow mode answers after 2 s
    consultation = live_dmp.consultation()
    context = consultation.context()
    live_dmp.set_mode(mode)

    with pytest.raises(DmpUnavailable) as raised:
        check_access(consultation.request, context)

    error = raised.value
    assert (error.permanent, error.code) == (False, code)
    assert "DMP" in str(error) and "Réessayez" in str(error)
    trace = DmpTransaction.objects.get()
    assert (trace.kind, trace.outcome, trace.error_code) == (Kind.EXISTENCE, Outcome.UNAVAILABLE, code)
    live_dmp.set_mode(DmpBehaviour.Mode.NORMAL)
    assert check_access(consultation.request, context).consultable  # nothing was kept of the failure
