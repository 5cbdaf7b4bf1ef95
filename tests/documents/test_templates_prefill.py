"""Templates pre-fill a new document (REM HOP/va1.07) per type and care unit, with what the care team already
entered; the user edits every field and nothing is validated for them (HOP/va1.03)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from documents.models import Document, DocumentTemplate, Provenance, Status
from dpi.models import AuditEvent
from tests.factories import CareUnitFactory, EpisodeFactory, UserFactory

pytestmark = pytest.mark.django_db

LETTER, PRESCRIPTION = "11490-0", "57833-6"
ADMITTED = datetime(2026, 11, 2, 9, 30, tzinfo=ZoneInfo("Europe/Paris"))
DISCHARGED = datetime(2026, 11, 9, 15, 0, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.fixture
def episode(care_unit):
    return EpisodeFactory(
        care_unit=care_unit, admitted_at=ADMITTED, discharged_at=DISCHARGED, patient__birth_name="Martin"
    )


def _new_form(client, user, episode, **params) -> dict:
    client.force_login(user)
    response = client.get(reverse("documents:new", args=[episode.patient.pk, LETTER]), params)
    assert response.status_code == 200
    return response.context["form"].initial


def _template(name: str, sections: dict, care_unit=None, type_code: str = LETTER) -> DocumentTemplate:
    return DocumentTemplate.objects.create(type_code=type_code, name=name, care_unit=care_unit, sections=sections)


def _validated(episode, fields: dict, type_code: str = PRESCRIPTION, **values) -> Document:
    defaults = {"patient": episode.patient, "episode": episode, "set_id": "1.2.3", "type_code": type_code,
                "type_label": "Ordonnance", "title": "Ordonnance", "act_date": timezone.now(),
                "provenance": Provenance.PRODUCED, "status": Status.VALIDATED, "fields": fields}  # fmt: skip
    return Document.objects.create(**{**defaults, **values})


def test_the_care_units_own_template_wins_over_the_general_one(client, doctor, episode):
    _template("Général", {"suites": {"text": "général"}})
    _template("Chirurgie", {"suites": {"text": "propre à l'unité"}}, care_unit=episode.care_unit)
    _template("Autre unité", {"suites": {"text": "autre unité"}}, care_unit=CareUnitFactory())
    initial = _new_form(client, doctor, episode)
    assert initial["suites"] == "propre à l'unité"


def test_the_user_may_pick_the_general_template_or_none(client, doctor, episode):
    general = _template("Général", {"suites": {"text": "général"}})
    _template("Chirurgie", {"suites": {"text": "propre à l'unité"}}, care_unit=episode.care_unit)
    other = _template("Autre unité", {"suites": {"text": "autre unité"}}, care_unit=CareUnitFactory())
    assert _new_form(client, doctor, episode, modele=general.pk)["suites"] == "général"
    assert _new_form(client, doctor, episode, modele=other.pk)["suites"] == "propre à l'unité"
    assert "suites" not in _new_form(client, doctor, episode, modele="0")
    page = client.get(reverse("documents:new", args=[episode.patient.pk, LETTER])).content.decode()
    assert 'data-testid="template-chooser"' in page and "Général (toutes unités)" in page
    assert "Autre unité" not in page


def test_placeholders_are_replaced_by_the_stay_unit_and_author(client, doctor, episode):
    text = "{patient.nom} {patient.prenom}, hospitalisé du {sejour.entree} au {sejour.sortie} en {unite}. {auteur}"
    _template("Général", {"synthese": {"text": text}})
    initial = _new_form(client, doctor, episode)
    expected = f"MARTIN JEAN, hospitalisé du 02/11/2026 au 09/11/2026 en {episode.care_unit.name}. "
    assert initial["synthese"] == expected + doctor.display_name


def test_a_section_is_carried_over_from_the_latest_validated_document_of_the_chosen_type(client, doctor, episode):
    _template("Général", {"traitements": {"text": "aucun", "carry_from": f"{PRESCRIPTION}:lignes"}})
    _validated(episode, {"lignes": "Ancienne ; 1/j ; 5 j"}, act_date=timezone.now() - timedelta(days=3))
    _validated(episode, {"lignes": "Amoxicilline 1 g ; 3/j ; 7 j"})
    _validated(episode, {"lignes": "Brouillon ; 1/j ; 1 j"}, status=Status.DRAFT, act_date=DISCHARGED.replace(2027))
    _validated(EpisodeFactory(), {"lignes": "Autre patient ; 1/j ; 1 j"}, act_date=DISCHARGED.replace(2027))
    assert _new_form(client, doctor, episode)["traitements"] == "Amoxicilline 1 g ; 3/j ; 7 j"


def test_without_a_validated_source_document_the_default_text_is_used(client, doctor, episode):
    _template("Général", {"traitements": {"text": "aucun", "carry_from": f"{PRESCRIPTION}:lignes"}})
    _validated(episode, {"lignes": "Brouillon ; 1/j ; 1 j"}, status=Status.DRAFT)
    _validated(EpisodeFactory(), {"lignes": "Autre patient ; 1/j ; 1 j"})
    assert _new_form(client, doctor, episode)["traitements"] == "aucun"


def test_unknown_and_hostile_placeholders_stay_as_written_and_are_escaped(client, doctor, episode):
    hostile = "{patient.__class__} {inconnu} {{ request.user }} {% debug %} <script>alert(1)</script>"
    _template("Général", {"synthese": {"text": hostile}})
    assert _new_form(client, doctor, episode)["synthese"] == hostile
    page = client.get(reverse("documents:new", args=[episode.patient.pk, LETTER])).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "{patient.__class__} {inconnu} {{ request.user }} {% debug %}" in page


def test_the_users_edits_are_what_is_saved_and_nothing_is_validated(client, doctor, episode):
    _template("Général", {"motif": {"text": "Motif du modèle"}, "modalite_entree": {"text": "urgence"}})
    initial = _new_form(client, doctor, episode)
    assert initial["motif"] == "Motif du modèle" and initial["modalite_entree"] == "urgence"
    assert not Document.objects.exists()  # opening the pre-filled form creates nothing
    url = reverse("documents:new", args=[episode.patient.pk, LETTER])
    client.post(url, {"title": "Lettre", "act_date": "2026-11-09T15:00", "motif": "Motif corrigé", "save": "1"})
    document = Document.objects.get()
    assert document.status == Status.DRAFT
    assert document.fields["motif"] == "Motif corrigé" and document.fields["modalite_entree"] == ""


def test_without_a_template_the_form_is_blank_as_before(client, doctor, episode):
    DocumentTemplate.objects.create(type_code=LETTER, name="Inactif", active=False, sections={"motif": {"text": "x"}})
    _template("Autre type", {"motif": {"text": "x"}}, type_code="11488-4")
    initial = _new_form(client, doctor, episode)
    assert set(initial) == {"title", "act_date", "correspondents", "patient_may_reply"}
    assert initial["correspondents"] == [] and initial["patient_may_reply"] is False
    page = client.get(reverse("documents:new", args=[episode.patient.pk, LETTER])).content.decode()
    assert 'data-testid="template-chooser"' not in page


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_an_admin_writes_a_template_section_by_section_and_the_change_is_audited(admin_client, care_unit):
    response = admin_client.post(
        reverse("admin:documents_documenttemplate_add"),
        {"type_code": LETTER, "care_unit": care_unit.pk, "name": "Sortie chirurgie", "active": "on",
         "text__suites": "RDV le {date} avec {auteur}", "carry__traitements": f"{PRESCRIPTION}:lignes",
         "text__modalite_entree": "urgence"},
    )  # fmt: skip
    assert response.status_code == 302
    template = DocumentTemplate.objects.get()
    assert template.sections["suites"] == {"text": "RDV le {date} avec {auteur}", "carry_from": ""}
    assert template.sections["traitements"]["carry_from"] == f"{PRESCRIPTION}:lignes"
    assert template.sections["modalite_entree"]["text"] == "urgence"
    event = AuditEvent.objects.get(action=AuditEvent.Action.STRUCTURE_CHANGE)
    assert event.change == "added" and "Sortie chirurgie" in event.after["name"]
    page = admin_client.get(reverse("admin:documents_documenttemplate_change", args=[template.pk])).content.decode()
    assert "{sejour.entree}" in page and "RDV le {date} avec {auteur}" in page


def test_the_admin_refuses_an_unknown_placeholder(admin_client):
    response = admin_client.post(
        reverse("admin:documents_documenttemplate_add"),
        {"type_code": LETTER, "name": "Faux", "active": "on", "text__suites": "{patient.__class__} {auteur}"},
    )
    assert response.status_code == 200 and not DocumentTemplate.objects.exists()
    assert "Champ de remplacement inconnu : {patient.__class__}" in response.content.decode()


def test_the_admin_add_page_shows_the_sections_of_the_type_once_chosen(admin_client):
    url = reverse("admin:documents_documenttemplate_add")
    assert "text__motif" not in admin_client.get(url).content.decode()
    page = admin_client.get(url, {"type_code": LETTER}).content.decode()
    assert 'name="text__motif"' in page and 'name="carry__traitements"' in page
    assert 'name="carry__modalite_entree"' not in page  # a list field takes a default value, not a copy
