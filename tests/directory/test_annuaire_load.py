"""Loading the Annuaire Santé's open-data extract (ANN/va1.01, va1.03): the sandbox writes the published
format, the DPI copies it into a staging table and merges it; changes and removals are applied exactly,
a broken line is reported with its number and the rest loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from directory.extract import COLUMNS, HEADER, parse_line
from directory.models import DirectoryLoad, DirectoryPerson, PracticeSituation
from directory.services.directory_load import run_load
from dpi.models import AuditEvent
from sandbox.annuaire.extract import write_extract
from sandbox.annuaire.people import person
from tests.factories import CorrespondentFactory

pytestmark = pytest.mark.django_db
LINES = 2000


def load(path: Path) -> DirectoryLoad:
    return run_load(DirectoryLoad.objects.create(path=str(path)))


def test_the_sandbox_extract_has_the_published_header_and_every_line_parses(tmp_path):
    path = tmp_path / "extract.txt"
    stats = write_extract(path, 300)

    lines = path.read_bytes().splitlines(keepends=True)
    assert lines[0].decode() == HEADER
    assert len(HEADER.split("|")) == len(COLUMNS) + 1 == 57
    assert [parse_line(number, raw).values["rpps"] for number, raw in enumerate(lines[1:], 2)][0] == person(0).rpps
    assert stats.lines == len(lines) - 1 == 300


def test_a_full_load_creates_every_person_and_practice_situation(tmp_path):
    path = tmp_path / "extract.txt"
    write_extract(path, LINES)

    report = load(path)

    assert (report.status, report.error) == (DirectoryLoad.Status.DONE, "")
    assert (report.lines_read, report.refused, report.added, report.changed, report.deactivated) == (
        LINES + 1, 0, LINES, 0, 0,
    )  # fmt: skip
    assert PracticeSituation.objects.filter(active=True).count() == LINES
    assert DirectoryPerson.objects.count() == report.persons["added"] == len(set(_rpps_of(path)))
    assert report.seconds is not None


def test_a_second_load_applies_exactly_the_changed_and_removed_lines(tmp_path):
    first, second = tmp_path / "day1.txt", tmp_path / "day2.txt"
    write_extract(first, LINES)
    stats = write_extract(second, LINES, change_percent=1, remove_percent=0.5)
    load(first)

    report = load(second)

    assert stats.changed > 0 and stats.removed > 0
    assert (report.added, report.changed, report.deactivated) == (0, stats.changed, stats.removed)
    assert PracticeSituation.objects.filter(active=True).count() == LINES - stats.removed
    assert load(second).changed == 0  # the same file again changes nothing


def test_broken_lines_are_reported_with_their_number_and_the_rest_loads(tmp_path):
    path = tmp_path / "extract.txt"
    write_extract(path, 50)
    lines = path.read_bytes().splitlines(keepends=True)
    lines[3] = b"8|123|bad\n"  # line 4 of the file: too few fields
    lines[10] = lines[10].replace(lines[10].split(b"|")[1], b"10000000000")  # line 11: wrong Luhn key
    lines[20] = b"\xff\xfe" + lines[20]  # line 21: not UTF-8
    lines.append(lines[30])  # line 52: the same situation as line 31
    path.write_bytes(b"".join(lines))

    report = load(path)

    assert report.status == DirectoryLoad.Status.DONE
    assert [(row["line"], row["reason"][:12]) for row in report.refused_lines] == [
        (4, "3 champs au "), (11, "Identifiant "), (21, "Encodage inv"), (52, "Situation en"),
    ]  # fmt: skip
    assert report.refused_lines[0]["text"] == "8|123|bad"
    assert report.refused == 4 and report.added == 47


def test_a_file_with_another_header_is_refused_and_changes_nothing(tmp_path):
    path = tmp_path / "extract.txt"
    write_extract(path, 20)
    path.write_text(path.read_text().replace("Nom d'exercice", "Nom", 1))

    report = load(path)

    assert report.status == DirectoryLoad.Status.FAILED
    assert "colonne 8 « Nom d'exercice » attendue, « Nom » trouvée" in report.error
    assert not DirectoryPerson.objects.exists()


def test_a_truncated_file_that_would_deactivate_most_of_the_directory_is_refused(tmp_path):
    full, truncated = tmp_path / "full.txt", tmp_path / "truncated.txt"
    write_extract(full, 200)
    write_extract(truncated, 100)
    load(full)

    report = load(truncated)

    assert report.status == DirectoryLoad.Status.FAILED
    assert "fichier tronqué" in report.error
    assert PracticeSituation.objects.filter(active=True).count() == 200


def test_a_stopped_load_resumes_after_the_last_committed_line(tmp_path, monkeypatch):
    path = tmp_path / "extract.txt"
    write_extract(path, 300)
    monkeypatch.setattr("directory.services.directory_load.BATCH_LINES", 100)
    stopped = DirectoryLoad.objects.create(path=str(path))
    calls = {"merge": 0}

    def crash(**kwargs):
        calls["merge"] += 1
        raise KeyboardInterrupt  # the worker dies before the merge

    monkeypatch.setattr("directory.services.directory_load.merge_staged_lines", crash)
    with pytest.raises(KeyboardInterrupt):
        run_load(stopped)
    stopped.refresh_from_db()
    assert (stopped.status, stopped.lines_read) == (DirectoryLoad.Status.RUNNING, 301)
    monkeypatch.undo()

    report = run_load(stopped)

    assert (report.status, report.added) == (DirectoryLoad.Status.DONE, 300)


def test_a_load_updates_correspondents_and_users_from_the_directory_and_audits_each_difference(tmp_path, doctor):
    someone = person(5)
    path = tmp_path / "extract.txt"
    write_extract(path, 20)
    stale = CorrespondentFactory(rpps=someone.rpps, family_name="ANCIEN", given_name=someone.given_name)
    doctor.rpps, doctor.last_name = person(6).rpps, "Autre"
    doctor.save()

    report = load(path)

    stale.refresh_from_db()
    doctor.refresh_from_db()
    assert stale.family_name == someone.family_name
    assert doctor.last_name == person(6).family_name
    changes = {row["kind"]: row for row in report.updates}
    assert changes["correspondent"]["before"]["family_name"] == "ANCIEN"
    event = AuditEvent.objects.get(action=AuditEvent.Action.CORRESPONDENT_CHANGE, object_id=str(stale.pk))
    assert (event.actor_username, event.after["family_name"]) == ("Annuaire Santé", someone.family_name)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.USER_CHANGE, object_id=str(doctor.pk)).exists()


def test_a_correspondent_the_directory_no_longer_lists_becomes_inactive(tmp_path):
    first, second = tmp_path / "day1.txt", tmp_path / "day2.txt"
    write_extract(first, 200)
    write_extract(second, 190)
    load(first)
    gone = (set(_rpps_of(first)) - set(_rpps_of(second))).pop()
    correspondent = CorrespondentFactory(rpps=gone)

    load(second)

    correspondent.refresh_from_db()
    assert not correspondent.active
    assert not DirectoryPerson.objects.get(rpps=gone).active


def _rpps_of(path: Path) -> list[str]:
    return [line.split("|")[1] for line in path.read_text().splitlines()[1:]]
