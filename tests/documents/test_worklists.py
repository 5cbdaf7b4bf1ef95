"""Work lists of drafts (REM HOP/va1.08) and the create → validate workflow (HOP/va1.04): "Mes brouillons",
"À valider" per professional and care unit, their counts in the header, a senior validating a junior's draft
(the junior stays the author, the senior is the CDA's legal authenticator; such a CDA passes the national chain:
test_cda_conformance.py), each list audited."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from lxml import etree

from documents.models import Document, Status
from documents.services import create_draft, validate_document
from documents.worklists import awaiting_validation, counts, my_drafts
from dpi.codes import Profession
from dpi.models import AuditEvent
from tests.documents.test_cda_conformance import FIELDS
from tests.factories import CareUnitFactory, EpisodeFactory, MembershipFactory, RoleFactory

pytestmark = pytest.mark.django_db

LETTER, CONSULTATION = "11490-0", "11488-4"
H = {"h": "urn:hl7-org:v3"}


def _member(unit, profession: str, code: str):
    role = RoleFactory(code=code, label=code, may_break_glass=False)
    return MembershipFactory(care_unit=unit, role=role, user__profession=profession).user


@pytest.fixture
def team(care_unit):
    """A junior nurse and a senior physician of the same unit; a nurse and a physician of another unit."""
    other_unit = CareUnitFactory()
    return {
        "junior": _member(care_unit, Profession.INFIRMIER, "ide"),
        "senior": _member(care_unit, Profession.MEDECIN, "medecin"),
        "other_unit": other_unit,
        "other_junior": _member(other_unit, Profession.INFIRMIER, "ide"),
        "elsewhere": _member(other_unit, Profession.MEDECIN, "medecin"),
    }


def _draft(unit, user, type_code: str = LETTER, **patient) -> Document:
    episode = EpisodeFactory(care_unit=unit, **{f"patient__{k}": v for k, v in patient.items()})
    return create_draft(patient=episode.patient, episode=episode, type_code=type_code, acting_user=user,
                        title=f"Brouillon de {user.last_name}", fields=FIELDS[type_code],
                        act_date=timezone.now())  # fmt: skip


def test_a_juniors_draft_waits_for_the_seniors_of_its_unit_only(care_unit, team):
    junior, senior, elsewhere = team["junior"], team["senior"], team["elsewhere"]
    waiting = _draft(care_unit, junior)
    own = _draft(care_unit, senior)  # the senior may validate it: it waits for nobody else
    second = _draft(care_unit, junior)
    other_unit = _draft(team["other_unit"], team["other_junior"])  # another unit's: its own seniors only

    assert my_drafts(junior) == [second, waiting]  # the most recent act first
    assert awaiting_validation(senior) == [second, waiting]
    assert my_drafts(senior) == [own]
    assert awaiting_validation(junior) == [] and awaiting_validation(elsewhere) == [other_unit]
    assert (counts(junior).mine, counts(junior).to_validate) == (2, 0)
    assert (counts(senior).mine, counts(senior).to_validate) == (1, 2)
    assert (counts(elsewhere).mine, counts(elsewhere).to_validate) == (0, 1)


def test_a_validated_draft_leaves_both_lists(care_unit, team):
    draft = _draft(care_unit, team["junior"])
    validate_document(document=draft, acting_user=team["senior"])
    assert my_drafts(team["junior"]) == [] and awaiting_validation(team["senior"]) == []


def test_the_senior_validates_the_juniors_draft_and_becomes_its_legal_authenticator(care_unit, team):
    junior, senior = team["junior"], team["senior"]
    draft = _draft(care_unit, junior, CONSULTATION)
    version = validate_document(document=draft, acting_user=senior)

    draft.refresh_from_db()
    assert draft.status == Status.VALIDATED and draft.author == junior and version.validated_by == senior
    cda = etree.fromstring(bytes(version.cda))
    author = cda.xpath("/h:ClinicalDocument/h:author/h:assignedAuthor/h:id/@extension", namespaces=H)
    authenticator = cda.xpath("/h:ClinicalDocument/h:legalAuthenticator/h:assignedEntity/h:id/@extension", namespaces=H)
    assert author == [junior.national_id] and authenticator == [senior.national_id]
    validated = AuditEvent.objects.get(action=AuditEvent.Action.DOCUMENT_CHANGE, change="validated")
    assert validated.actor == senior


def test_the_pages_list_the_drafts_name_the_patients_and_audit_each_reading(client, care_unit, team):
    draft = _draft(care_unit, team["junior"], birth_name="LISTEDUPONT")
    _draft(team["other_unit"], team["other_junior"], birth_name="AILLEURS")
    client.force_login(team["senior"])

    page = client.get(reverse("documents:to_validate")).content.decode()

    assert "LISTEDUPONT" in page and "AILLEURS" not in page
    assert reverse("documents:edit", args=[draft.pk]) in page and draft.author_name in page
    assert escape(draft.type_label) in page
    [reading] = AuditEvent.objects.filter(action=AuditEvent.Action.PATIENT_OPEN, actor=team["senior"])
    assert reading.patient_id == draft.patient_id and reading.detail["list"] == "drafts_to_validate"
    empty = client.get(reverse("documents:my_drafts")).content.decode()
    assert 'data-testid="worklist-empty"' in empty


def test_the_header_counts_take_one_aggregate_query(client, care_unit, team):
    for _ in range(3):
        _draft(care_unit, team["junior"])
    client.force_login(team["senior"])
    client.get(reverse("documents:worklist_counts"))  # the session and the user loaded once
    with CaptureQueriesContext(connection) as queries:
        fragment = client.get(reverse("documents:worklist_counts"), HTTP_X_DPI_BACKGROUND="1").content.decode()
    assert "À valider 3" in fragment and "Brouillons 0" in fragment
    on_documents = [q["sql"] for q in queries if '"documents_document"' in q["sql"]]
    assert len(on_documents) == 1 and "COUNT(" in on_documents[0]
    assert 'data-testid="worklist-counts"' in client.get(reverse("documents:my_drafts")).content.decode()
