"""The administrator's side of the national directory: users created from an RPPS (ANN/va1.02), loads
started and reported in the admin, the schedule of loads (ANN/va1.04)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from directory.models import DirectoryLoad, DirectoryPerson, DirectorySchedule
from directory.services.directory_load import run_load
from directory.services.directory_schedule import start_due_load
from directory.services.directory_users import UserNotCreated, create_user_from_directory
from dpi.models import AuditEvent, User
from sandbox.annuaire.extract import write_extract
from sandbox.annuaire.people import person
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user():
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def loaded(tmp_path):
    path = tmp_path / "extract.txt"
    write_extract(path, 30)
    return run_load(DirectoryLoad.objects.create(path=str(path)))


def test_a_user_created_from_an_rpps_takes_names_profession_and_specialty_from_the_directory(loaded, admin_user):
    cardiologist = next(
        person(i) for i in range(30) if person(i).profession[3] and person(i).profession[3][0] == "SM04"
    )

    user = create_user_from_directory(rpps=cardiologist.rpps, acting_user=admin_user)

    assert (user.first_name, user.last_name, user.profession, user.specialty) == (
        cardiologist.given_name, cardiologist.family_name, "10", "SM04",
    )  # fmt: skip
    assert (user.national_id_type, user.has_usable_password()) == ("RPPS", False)
    event = AuditEvent.objects.get(action=AuditEvent.Action.USER_CHANGE, object_id=str(user.pk))
    assert (event.actor, event.detail["source"]) == (admin_user, "annuaire")


def test_an_rpps_unknown_to_the_directory_is_refused_never_created(loaded, admin_user):
    with pytest.raises(UserNotCreated, match="n'est pas dans l'Annuaire Santé"):
        create_user_from_directory(rpps="10000999995", acting_user=admin_user)
    assert not User.objects.filter(rpps="10000999995").exists()


def test_an_rpps_already_used_by_a_user_is_refused(loaded, admin_user):
    create_user_from_directory(rpps=person(0).rpps, acting_user=admin_user)

    with pytest.raises(UserNotCreated, match="déjà celui de l'utilisateur"):
        create_user_from_directory(rpps=person(0).rpps, acting_user=admin_user)


def test_the_admin_action_creates_the_selected_professionals_as_users(loaded, admin_user, client):
    client.force_login(admin_user)
    chosen = DirectoryPerson.objects.order_by("rpps")[:2]

    response = client.post(
        reverse("admin:directory_directoryperson_changelist"),
        {"action": "create_users", "_selected_action": [p.pk for p in chosen]},
        follow=True,
    )

    assert response.status_code == 200
    assert set(User.objects.filter(rpps__isnull=False).values_list("rpps", flat=True)) >= {p.rpps for p in chosen}
    assert "créé" in response.content.decode()


def test_the_admin_shows_the_last_load_report_with_its_refused_lines(tmp_path, admin_user, client):
    path = tmp_path / "extract.txt"
    write_extract(path, 10)
    path.write_text(path.read_text() + "8|cassée|\n")
    report = run_load(DirectoryLoad.objects.create(path=str(path)))
    client.force_login(admin_user)

    page = client.get(reverse("admin:directory_directoryload_change", args=[report.pk])).content.decode()

    assert "2 champs au lieu de 56" in page and "8|cassée" in page


def test_an_administrator_starts_a_load_by_naming_the_file(
    tmp_path, admin_user, client, django_capture_on_commit_callbacks
):
    path = tmp_path / "extract.txt"
    write_extract(path, 10)
    client.force_login(admin_user)

    with django_capture_on_commit_callbacks(execute=False) as queued:
        client.post(reverse("admin:directory_directoryload_add"), {"path": str(path)})

    load = DirectoryLoad.objects.get()
    assert (load.status, load.requested_by, load.trigger, len(queued)) == ("pending", admin_user, "manual", 1)


def test_the_schedule_starts_a_load_once_its_interval_has_passed(tmp_path, django_capture_on_commit_callbacks):
    DirectorySchedule.objects.create(enabled=True, every_hours=24, path=str(tmp_path / "extract.txt"))

    with django_capture_on_commit_callbacks(execute=False):
        first = start_due_load()
        assert start_due_load() is None  # one is pending
        first.status = DirectoryLoad.Status.DONE
        first.save()
        assert start_due_load() is None  # not yet 24 hours
        DirectoryLoad.objects.filter(pk=first.pk).update(created_at=first.created_at - timedelta(hours=25))
        second = start_due_load()

    assert (first.trigger, second.trigger) == ("schedule", "schedule")


def test_a_disabled_schedule_starts_nothing(tmp_path):
    DirectorySchedule.objects.create(enabled=False, every_hours=1, path=str(tmp_path / "extract.txt"))

    assert start_due_load() is None
