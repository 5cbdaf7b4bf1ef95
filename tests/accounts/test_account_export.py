"""Account export for recertification (REM SC.SSI/IAM.94) and the account lifecycle traces (IAM.91)."""

from __future__ import annotations

import csv
import io
from html import unescape

import pytest

from dpi.models import AccountEvent, AuditEvent, User
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def _csv(response) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def test_the_export_lists_every_account_with_its_identity_and_permissions_and_is_audited(admin_client):
    membership = MembershipFactory()
    doctor = membership.user
    UserFactory(username="=HYPERLINK", is_active=False)
    ids = list(User.objects.values_list("pk", flat=True))

    response = admin_client.post("/admin/dpi/user/", {"action": "export_accounts", "_selected_action": ids})

    rows = {row["identifiant"]: row for row in _csv(response)}
    assert len(rows) == User.objects.count()
    row = rows[doctor.username]
    assert (row["RPPS"], row["nom"], row["actif"], row["origine"]) == (doctor.rpps, doctor.last_name, "oui", "local")
    unit = membership.care_unit
    assert (
        f"{membership.role.code} @ {unit.code} {unit.name} [{unit.site.finess_eg}]"
        in row["habilitations (rôle @ UF [FINESS EG] jusqu'au)"]
    )
    assert rows["'=HYPERLINK"]["actif"] == "non"  # formula-safe cell
    event = AuditEvent.objects.get(action=AuditEvent.Action.ACCOUNT_EXPORT)
    assert event.actor.username == "admin.test"
    assert event.detail["rows"] == len(rows)


def test_the_account_traces_page_lists_only_the_accounts_life_and_exports_it(admin_client, client):
    user = UserFactory()
    AuditEvent.objects.create(action=AuditEvent.Action.PATIENT_OPEN, actor=user, actor_username=user.username)
    AuditEvent.objects.create(action=AuditEvent.Action.LOGIN_FAILURE, actor_username="intrus",
                              detail={"provider": "local", "result": "failure"})  # fmt: skip
    AuditEvent.objects.create(action=AuditEvent.Action.PASSWORD_CHANGE, actor=user, actor_username=user.username,
                              detail={"result": "success", "by": "self"})  # fmt: skip

    page = unescape(admin_client.get("/admin/dpi/accountevent/").content.decode())
    assert "intrus" in page and "échec de connexion" in page and "changement de mot de passe" in page
    assert "ouverture d'un dossier patient" not in page  # neither a row nor a filter

    ids = list(AccountEvent.objects.filter(action__in=AccountEvent.ACTIONS).values_list("pk", flat=True))
    exported = _csv(admin_client.post("/admin/dpi/accountevent/", {"action": "export_csv", "_selected_action": ids}))
    assert {row["action"] for row in exported} == {"login.failure", "password.change"}


def _export_queries(admin_client, count: int) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ids = list(User.objects.values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.post("/admin/dpi/user/", {"action": "export_accounts", "_selected_action": ids})
        assert len(_csv(response)) == count
    return len(queries)


def test_the_export_costs_the_same_queries_for_twenty_accounts_as_for_two(admin_client):
    MembershipFactory()
    _export_queries(admin_client, 2)  # warms the caches of the first request (content types, permissions)
    two = _export_queries(admin_client, 2)
    for _ in range(18):
        MembershipFactory()
    assert _export_queries(admin_client, 20) == two
