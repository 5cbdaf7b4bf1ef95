"""Synchronisation with a real OpenLDAP directory (REM SC.SSI/IAM.83)."""

from __future__ import annotations

import pytest

from dpi.accounts.sync import run_directory_sync
from dpi.models import AuditEvent, DirectoryGroupMapping, DirectorySyncRun, Membership, User
from tests.factories import CareUnitFactory, RoleFactory, UserFactory, rpps_number

pytestmark = pytest.mark.django_db

RPPS_A = rpps_number(501)
RPPS_B = rpps_number(502)


@pytest.fixture
def surgery(db):
    unit = CareUnitFactory(code="6268", name="Chirurgie viscérale")
    role = RoleFactory(code="medecin", label="Médecin")
    return unit, role


def _mapped_group(directory, cn: str, members: list[str], unit, role) -> str:
    dn = directory.add_group(cn, members)
    DirectoryGroupMapping.objects.create(group_dn=dn, role=role, care_unit=unit)
    return dn


def test_a_person_of_the_directory_becomes_an_account_with_the_membership_of_her_group(directory, surgery):
    unit, role = surgery
    dn = directory.add_person("jdupont", "Dupont", "Jeanne", mail="j.dupont@hopital.test", employeeNumber=RPPS_A)
    _mapped_group(directory, "chirurgiens", [dn], unit, role)

    run = run_directory_sync()

    assert run.status == DirectorySyncRun.Status.DONE
    assert (run.created, run.updated, run.deactivated, run.rejected) == (1, 0, 0, 0)
    user = User.objects.get(username="jdupont")
    assert (user.first_name, user.last_name, user.rpps) == ("Jeanne", "Dupont", RPPS_A)
    assert user.email == "j.dupont@hopital.test"
    assert user.private_id == directory.entry_uuid(dn)
    assert user.national_id_type == "RPPS"
    assert user.email_verified_at is None  # verified by the person before it serves for recovery
    assert not user.has_usable_password()
    membership = user.memberships.get()
    assert (membership.care_unit, membership.role, membership.from_directory) == (unit, role, True)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.USER_CHANGE, object_id=str(user.pk)).exists()
    granted = AuditEvent.objects.filter(action=AuditEvent.Action.HABILITATION_CHANGE, detail__source="directory")
    assert granted.count() == 1


def test_changes_in_the_directory_change_the_account_and_its_memberships_audited(directory, surgery):
    unit, role = surgery
    other_unit = CareUnitFactory(code="8782", name="Urgences")
    dn = directory.add_person("jdupont", "Dupont", "Jeanne", employeeNumber=RPPS_A)
    group = _mapped_group(directory, "chirurgiens", [dn], unit, role)
    run_directory_sync()
    user = User.objects.get(username="jdupont")
    manual = Membership.objects.create(user=user, care_unit=CareUnitFactory(), role=role)  # granted by hand

    directory.modify(dn, sn="Durand-Dupont", mail="jeanne.durand@hopital.test")
    directory.delete(group)
    _mapped_group(directory, "urgentistes", [dn], other_unit, role)
    run = run_directory_sync()

    assert (run.created, run.updated, run.deactivated) == (0, 1, 0)
    user.refresh_from_db()
    assert (user.last_name, user.email) == ("Durand-Dupont", "jeanne.durand@hopital.test")
    assert set(user.memberships.values_list("care_unit__code", flat=True)) == {"8782", manual.care_unit.code}
    change = AuditEvent.objects.filter(action=AuditEvent.Action.USER_CHANGE, detail__run=run.pk).get()
    assert change.before["last_name"] == "Dupont"
    assert change.after["last_name"] == "Durand-Dupont"
    habilitations = AuditEvent.objects.filter(action=AuditEvent.Action.HABILITATION_CHANGE, detail__run=run.pk)
    assert sorted(event.change for event in habilitations) == ["added", "deleted"]


def test_a_person_removed_from_the_directory_is_deactivated_never_deleted(directory, surgery):
    dn = directory.add_person("jdupont", "Dupont", "Jeanne")
    directory.add_person("pmartin", "Martin", "Paul")
    run_directory_sync()
    local = UserFactory(username="local.admin")  # never synchronised: not the directory's to deactivate

    directory.delete(dn)
    run = run_directory_sync()

    assert run.deactivated == 1
    gone = User.objects.get(username="jdupont")
    assert gone.is_active is False
    assert User.objects.get(username="pmartin").is_active
    local.refresh_from_db()
    assert local.is_active
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.USER_CHANGE, object_id=str(gone.pk), change="deactivated"
    ).exists()


def test_a_local_account_of_the_same_login_is_linked_then_followed_by_the_directory(directory):
    local = UserFactory(username="jdupont", last_name="Dupond")
    dn = directory.add_person("jdupont", "Dupont", "Jeanne")
    directory.add_person("pmartin", "Martin", "Paul")

    run_directory_sync()
    local.refresh_from_db()
    assert (local.private_id, local.last_name) == (directory.entry_uuid(dn), "Dupont")
    assert local.has_usable_password()  # the local password stays
    link = AuditEvent.objects.get(action=AuditEvent.Action.USER_CHANGE, object_id=str(local.pk))
    assert link.before["private_id"] is None

    directory.delete(dn)
    run_directory_sync()
    local.refresh_from_db()
    assert local.is_active is False


def test_a_login_back_in_the_directory_under_a_new_entry_is_reported_not_merged_into_the_old_account(directory):
    dn = directory.add_person("jdupont", "Dupont", "Jeanne")
    run_directory_sync()
    directory.delete(dn)
    run_directory_sync()

    again = directory.add_person("jdupont", "Dupont", "Jeanne")  # a new entry (new entryUUID): maybe someone else
    run = run_directory_sync()

    assert run.rejected == 1
    assert run.report[0]["dn"] == again
    assert "l'identifiant jdupont appartient à un autre compte" in run.report[0]["problems"]
    assert User.objects.get(username="jdupont").is_active is False


def test_bad_entries_are_reported_one_by_one_and_never_stop_the_synchronisation(directory, surgery):
    unit, role = surgery
    UserFactory(username="autre", rpps=RPPS_B)
    good = directory.add_person("bon", "Bon", "Jean", employeeNumber=RPPS_A)
    bad_rpps = directory.add_person("mauvais.rpps", "Faux", "Paul", employeeNumber="12345678901")
    taken = directory.add_person("doublon", "Double", "Luc", employeeNumber=RPPS_B)
    directory.add_person("sans.mail", "Mail", "Léa", mail="pas-une-adresse")
    unknown = directory.add_group("groupe-inconnu", [good])

    run = run_directory_sync()

    assert run.status == DirectorySyncRun.Status.DONE
    assert (run.created, run.rejected) == (1, 3)
    by_dn = {line["dn"]: line for line in run.report}
    assert "RPPS invalide : 12345678901" in by_dn[bad_rpps]["problems"]
    assert f"le RPPS {RPPS_B} appartient à un autre compte" in by_dn[taken]["problems"]
    assert by_dn[good]["level"] == "warning"
    assert f"groupe sans correspondance : {unknown.lower()}" in by_dn[good]["problems"]
    assert set(User.objects.values_list("username", flat=True)) == {"autre", "bon"}


def test_an_entry_the_database_refuses_is_reported_and_the_others_are_synchronised(directory):
    too_long = directory.add_person("x" * 200, "Long", "Login")  # the DPI's logins have 150 characters at most
    directory.add_person("court", "Court", "Login")
    run = run_directory_sync()
    assert (run.status, run.created, run.rejected) == (DirectorySyncRun.Status.DONE, 1, 1)
    assert run.report[0]["dn"] == too_long
    assert run.report[0]["problems"] == ["refusée par la base : DataError"]


def test_ldaps_checks_the_directory_certificate_against_the_configured_authorities(directory, settings):
    directory.add_person("jdupont", "Dupont", "Jeanne")
    settings.DIRECTORY_LDAP_URL = directory.ldaps_url
    refused = run_directory_sync()  # the system's CAs do not know the test CA
    assert refused.status == DirectorySyncRun.Status.FAILED
    assert "CERTIFICATE_VERIFY_FAILED" in refused.error
    assert not User.objects.filter(username="jdupont").exists()

    settings.DIRECTORY_CA_FILE = directory.ca_file
    assert run_directory_sync().created == 1


def test_an_unreachable_directory_fails_the_run_visibly_and_changes_nothing(directory, settings):
    UserFactory(private_id="1234", username="deja.la")
    settings.DIRECTORY_LDAP_URL = "ldap://127.0.0.1:9"  # nothing listens there
    run = run_directory_sync()
    assert run.status == DirectorySyncRun.Status.FAILED
    assert run.error
    assert User.objects.get(username="deja.la").is_active


def test_an_empty_answer_deactivates_nobody(directory):
    UserFactory(private_id="1234", username="deja.la")
    run = run_directory_sync()
    assert run.status == DirectorySyncRun.Status.FAILED
    assert "aucun compte n'a été désactivé" in run.error
    assert User.objects.get(username="deja.la").is_active


def test_the_admin_asks_a_synchronisation_on_demand_queued_for_the_worker(
    admin_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post("/admin/dpi/directorysyncrun/synchroniser/")
    assert response.status_code == 302
    run = DirectorySyncRun.objects.get()
    assert run.status == DirectorySyncRun.Status.QUEUED
    assert len(callbacks) == 1  # the task is sent once the request commits
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DIRECTORY_SYNC, detail__step="requested").exists()


def test_the_task_runs_a_queued_synchronisation_once(directory):
    from dpi.accounts.tasks import sync_directory

    directory.add_person("jdupont", "Dupont", "Jeanne")
    run = DirectorySyncRun.objects.create()
    sync_directory(run_id=run.pk)
    sync_directory(run_id=run.pk)  # a duplicate delivery does nothing
    run.refresh_from_db()
    assert (run.status, run.created) == (DirectorySyncRun.Status.DONE, 1)
    assert User.objects.filter(username="jdupont").count() == 1


def _sync_queries() -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        run_directory_sync()
    return len(queries)


def test_an_unchanged_person_costs_two_reads_and_writes_nothing(directory, surgery):
    unit, role = surgery
    people = [directory.add_person(f"p{n}", f"Nom{n}", "P", employeeNumber=rpps_number(700 + n)) for n in range(10)]
    _mapped_group(directory, "tous", people, unit, role)
    run_directory_sync()
    baseline = _sync_queries()
    for n in range(10, 20):
        people.append(directory.add_person(f"p{n}", f"Nom{n}", "P", employeeNumber=rpps_number(700 + n)))
    run_directory_sync()
    # per person: the account (id, login and RPPS at once), its memberships, and its savepoint (open, release)
    assert _sync_queries() == baseline + 4 * 10


def test_the_directory_client_says_which_failures_a_later_run_may_cure(directory, settings):
    """As every client of an external service (dpi.integrations.TransportError): unreachable is transient,
    a refused bind or a missing configuration is permanent (an administrator must act)."""
    from dataclasses import replace

    from dpi.accounts.directory import DirectoryConfig, DirectoryError, read_people

    config = DirectoryConfig.from_settings()
    cases = {"ldap://127.0.0.1:9": False, "": True}  # nothing listens on port 9; no URL at all
    for url, permanent in cases.items():
        with pytest.raises(DirectoryError) as error:
            read_people(replace(config, url=url, timeout=2))
        assert error.value.permanent is permanent, url
    with pytest.raises(DirectoryError) as error:
        read_people(replace(config, bind_password="pas le bon"))
    assert error.value.permanent and "invalidCredentials" in str(error.value)
