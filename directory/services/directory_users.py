"""DPI users created from the national directory (ANN/va1.02): names, profession and specialty come from
the Annuaire Santé by the RPPS; the account logs in with ProSanté Connect (no local password)."""

from __future__ import annotations

import unicodedata

from django.db import transaction
from django.http import HttpRequest

from directory.models import DirectoryPerson
from directory.services.directory_sync import user_values
from dpi import codes
from dpi.models import AuditEvent, User
from dpi.services import audit


class UserNotCreated(ValueError):
    """Why no user was created from this RPPS (said to the administrator)."""


@transaction.atomic
def create_user_from_directory(*, rpps: str, acting_user: User, request: HttpRequest | None = None) -> User:
    """A new DPI user for the professional ``rpps`` of the directory, audited."""
    person = DirectoryPerson.objects.filter(rpps=rpps, active=True).first()
    if person is None:
        raise UserNotCreated(f"Le RPPS {rpps} n'est pas dans l'Annuaire Santé chargé (ou n'y est plus actif).")
    existing = User.objects.filter(rpps=rpps).first()
    if existing is not None:
        raise UserNotCreated(f"Le RPPS {rpps} est déjà celui de l'utilisateur {existing.username}.")
    user = User(username=_free_username(person), national_id_type=codes.NationalIdType.RPPS, rpps=rpps)
    for name, value in user_values(person).items():
        setattr(user, name, value)
    user.set_unusable_password()
    user.save()
    audit(
        action=AuditEvent.Action.USER_CHANGE,
        actor=acting_user,
        request=request,
        obj=user,
        change=AuditEvent.Change.ADDED,
        after={"rpps": rpps, **user_values(person)},
        detail={"source": "annuaire"},
    )
    return user


def _free_username(person: DirectoryPerson) -> str:
    plain = unicodedata.normalize("NFKD", f"{person.given_name[:1]}{person.family_name}").encode("ascii", "ignore")
    base = "".join(char for char in plain.decode().lower() if char.isalnum())[:140] or person.rpps
    taken = set(User.objects.filter(username__startswith=base).values_list("username", flat=True))
    return next(name for name in (base, *(f"{base}{n}" for n in range(2, len(taken) + 3))) if name not in taken)
