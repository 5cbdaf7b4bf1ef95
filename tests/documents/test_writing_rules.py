"""Who may write what (REM HOP/va1.04): the writing rules, their defaults, their admin, and their enforcement
in the services (refused and audited) and in the pages (the buttons a user may not use are hidden)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from documents.models import Document, Status, WritingRule
from documents.rules import DEFAULT_RULES, Operation, WritingRefused, may
from documents.services import create_draft, start_correction, update_draft, validate_document
from dpi.codes import Profession
from dpi.models import AuditEvent
from tests.documents.test_cda_conformance import FIELDS
from tests.factories import CareUnitFactory, EpisodeFactory, MembershipFactory, RoleFactory, UserFactory

pytestmark = pytest.mark.django_db

LETTER, OPERATIVE, PRESCRIPTION, CONSULTATION = "11490-0", "34874-8", "57833-6", "11488-4"


@pytest.fixture
def episode(care_unit):
    return EpisodeFactory(care_unit=care_unit)


@pytest.fixture
def ide(care_unit):
    """A nurse (profession 60) of ``care_unit``."""
    role = RoleFactory(code="ide", label="IDE", may_break_glass=False)
    return MembershipFactory(care_unit=care_unit, role=role, user__profession=Profession.INFIRMIER).user


def _draft(episode, user, type_code: str = LETTER) -> Document:
    return create_draft(patient=episode.patient, episode=episode, type_code=type_code, acting_user=user,
                        title="Brouillon", fields=FIELDS[type_code], act_date=timezone.now())  # fmt: skip


def _refusals() -> list[AuditEvent]:
    rows = AuditEvent.objects.filter(action=AuditEvent.Action.DOCUMENT_CHANGE, change="refused")
    return list(rows.order_by("pk"))


def test_the_default_rules_are_installed_and_say_who_drafts_and_validates(care_unit):
    rows = set(WritingRule.objects.values_list("type_code", "profession", "may_draft", "may_validate"))
    assert rows == {(code, str(profession), draft, validate) for code, profession, draft, validate in DEFAULT_RULES}
    physician, midwife, nurse = (UserFactory(profession=p) for p in ("10", "50", "60"))
    assert all(may(physician, op, code, care_unit) for op in Operation for code in (LETTER, OPERATIVE, PRESCRIPTION))
    assert may(midwife, Operation.VALIDATE, PRESCRIPTION, care_unit)
    assert not may(midwife, Operation.DRAFT, OPERATIVE, care_unit)
    assert may(nurse, Operation.DRAFT, LETTER, care_unit)
    assert not any(may(nurse, Operation.VALIDATE, code, care_unit) for code in (LETTER, OPERATIVE, PRESCRIPTION))


def test_a_nurse_drafts_a_letter_but_her_validation_is_refused_and_audited(episode, ide):
    document = _draft(episode, ide)
    assert document.author == ide and document.status == Status.DRAFT

    with pytest.raises(WritingRefused, match="ne permettent pas de valider"):
        validate_document(document=document, acting_user=ide)

    document.refresh_from_db()
    assert document.status == Status.DRAFT and document.current_version is None
    [refusal] = _refusals()
    assert refusal.actor == ide and refusal.patient_id == episode.patient_id
    assert refusal.object_id == str(document.pk)
    assert refusal.change == AuditEvent.Change.REFUSED
    assert refusal.detail | {"care_unit": ""} == {
        "operation": "validate", "step": "validated", "type_code": LETTER,
        "care_unit": "", "profession": "60", "reason": "writing_rule",
    }  # fmt: skip


def test_a_nurse_may_not_validate_a_physicians_operative_report_or_prescription(episode, ide, doctor):
    for type_code in (OPERATIVE, PRESCRIPTION):
        document = _draft(episode, doctor, type_code)
        with pytest.raises(WritingRefused):
            validate_document(document=document, acting_user=ide)
        assert Document.objects.get(pk=document.pk).status == Status.DRAFT
    assert [row.detail["type_code"] for row in _refusals()] == [OPERATIVE, PRESCRIPTION]


def test_a_nurse_may_not_even_draft_an_operative_report(episode, ide):
    with pytest.raises(WritingRefused, match="rédiger"):
        _draft(episode, ide, OPERATIVE)
    assert not Document.objects.exists()
    [refusal] = _refusals()
    assert refusal.detail["operation"] == "draft" and refusal.object_id == ""
    assert refusal.patient_id == episode.patient_id


def test_editing_or_correcting_needs_the_right_to_draft(episode, ide, doctor):
    document = _draft(episode, doctor, OPERATIVE)
    with pytest.raises(WritingRefused):
        update_draft(document=document, title="Autre", fields=FIELDS[OPERATIVE], act_date=timezone.now(),
                     acting_user=ide)  # fmt: skip
    validate_document(document=document, acting_user=doctor)
    with pytest.raises(WritingRefused):
        start_correction(document=document, acting_user=ide)
    assert Document.objects.get(pk=document.pk).status == Status.VALIDATED
    assert [row.detail["step"] for row in _refusals()] == ["draft_updated", "correction_started"]


def test_a_rule_changed_in_the_admin_takes_effect_and_is_audited(client, episode, ide):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    rule = WritingRule.objects.get(type_code=LETTER, profession=Profession.INFIRMIER)
    values = {"type_code": LETTER, "profession": "60", "role": "", "may_draft": "on", "may_validate": "on"}
    response = client.post(reverse("admin:documents_writingrule_change", args=[rule.pk]), values)
    assert response.status_code == 302

    version = validate_document(document=_draft(episode, ide), acting_user=ide)
    assert version.validated_by == ide
    change = AuditEvent.objects.get(action=AuditEvent.Action.HABILITATION_CHANGE)
    assert (change.before["may_validate"], change.after["may_validate"]) == ("False", "True")


def test_the_admin_refuses_a_rule_for_both_a_profession_and_a_role_or_a_validator_who_cannot_draft(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    role = RoleFactory(code="cadre", label="Cadre de santé")
    for values, message in (
        ({"profession": "70", "role": role.pk, "may_draft": "on"}, "pas les deux"),
        ({"profession": "70", "role": "", "may_validate": "on"}, "Qui valide doit aussi pouvoir rédiger"),
    ):
        response = client.post(reverse("admin:documents_writingrule_add"), {"type_code": LETTER, **values})
        assert response.status_code == 200 and message in response.content.decode()
    assert not WritingRule.objects.filter(profession="70").exists()


def test_a_role_rule_applies_in_the_units_where_the_user_holds_the_role(episode, care_unit):
    senior_role = RoleFactory(code="ide-referent", label="IDE référent", may_break_glass=False)
    WritingRule.objects.create(type_code=LETTER, role=senior_role, may_draft=True, may_validate=True)
    other_unit = CareUnitFactory()
    user = MembershipFactory(care_unit=care_unit, role=senior_role, user__profession=Profession.INFIRMIER).user
    assert may(user, Operation.VALIDATE, LETTER, care_unit)
    assert not may(user, Operation.VALIDATE, LETTER, other_unit)
    assert validate_document(document=_draft(episode, user), acting_user=user).validated_by == user


def test_the_pages_offer_only_what_the_rules_allow_and_a_refused_validation_keeps_the_draft(client, episode, ide):
    client.force_login(ide)
    panel = client.get(reverse("patients:file", args=[episode.patient.pk])).content.decode()
    assert reverse("documents:new", args=[episode.patient.pk, LETTER]) in panel
    assert reverse("documents:new", args=[episode.patient.pk, OPERATIVE]) not in panel
    form = client.get(reverse("documents:new", args=[episode.patient.pk, LETTER])).content.decode()
    assert 'name="validate"' not in form and 'data-testid="awaits-validator"' in form

    post = {"title": "Lettre", "act_date": "2026-11-20T10:00", **FIELDS[LETTER], "validate": "1"}
    response = client.post(reverse("documents:new", args=[episode.patient.pk, LETTER]), post, follow=True)
    document = Document.objects.get()
    assert document.status == Status.DRAFT and document.author == ide
    assert "ne permettent pas de valider" in response.content.decode()
    rows = AuditEvent.objects.filter(action=AuditEvent.Action.DOCUMENT_CHANGE, object_id=str(document.pk))
    steps = rows.values_list("change", flat=True)
    assert sorted(steps) == ["draft_created", "refused"]
