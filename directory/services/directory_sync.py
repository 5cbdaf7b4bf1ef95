"""Bringing the DPI's users and correspondents up to date from the loaded directory (ANN/va1.03).

A user or correspondent with an RPPS takes the directory's names, profession and specialty; a
correspondent the directory no longer lists becomes inactive (no longer a planned recipient). Users are
never deactivated here: that is the hospital's decision. Each difference is kept in the load's report
and audited (before, after), in the load's transaction.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from directory.models import Civility, Correspondent, DirectoryLoad, DirectoryPerson, Title
from dpi import codes
from dpi.models import AuditEvent, User
from dpi.services import audit_row

AUDIT_USERNAME = "Annuaire Santé"


def correspondent_values(person: DirectoryPerson) -> dict[str, Any]:
    """What the directory says of a correspondent with this RPPS."""
    return {
        "civility": person.civility if person.civility in Civility.values else "",
        "title": person.title if person.title in Title.values else "",
        "family_name": person.family_name,
        "given_name": person.given_name,
        "profession": person.profession,
        "specialty": person.specialty,
        "active": person.active,
    }


def user_values(person: DirectoryPerson) -> dict[str, Any]:
    """What the directory says of a DPI user with this RPPS (codes the DPI does not know are left out)."""
    values: dict[str, Any] = {"first_name": person.given_name, "last_name": person.family_name}
    if person.profession_code in codes.Profession.values:
        values["profession"] = person.profession_code
    if person.specialty_code in codes.Specialty.values:
        values["specialty"] = person.specialty_code
    return values


def sync_users_and_correspondents(load: DirectoryLoad) -> list[dict[str, Any]]:
    """Update users and correspondents from the directory; return the differences applied."""
    updates: list[dict[str, Any]] = []
    rows: list[AuditEvent] = []
    targets = (
        (Correspondent.objects.exclude(rpps=""), correspondent_values, AuditEvent.Action.CORRESPONDENT_CHANGE),
        (User.objects.filter(rpps__isnull=False), user_values, AuditEvent.Action.USER_CHANGE),
    )
    for queryset, values_of, action in targets:
        for obj, before, after in _differences(queryset, values_of):
            updates.append(
                {"kind": obj._meta.model_name, "id": obj.pk, "name": str(obj), "before": before, "after": after}
            )
            rows.append(
                audit_row(
                    action=action,
                    obj=obj,
                    username=AUDIT_USERNAME,
                    change=AuditEvent.Change.DIRECTORY,
                    before=before,
                    after=after,
                    detail={"load": load.pk},
                )
            )
    AuditEvent.objects.bulk_create(rows)
    return updates


def _differences(queryset: models.QuerySet, values_of) -> list[tuple[models.Model, dict, dict]]:
    objects = list(queryset)
    persons = DirectoryPerson.objects.in_bulk([obj.rpps for obj in objects], field_name="rpps")
    found = []
    for obj in objects:
        person = persons.get(obj.rpps)
        if person is None:
            continue
        wanted = values_of(person)
        before = {name: getattr(obj, name) for name, value in wanted.items() if getattr(obj, name) != value}
        if before:
            after = {name: wanted[name] for name in before}
            for name, value in after.items():
                setattr(obj, name, value)
            obj.save(update_fields=[*after, *(["updated_at"] if isinstance(obj, Correspondent) else [])])
            found.append((obj, before, after))
    return found
