"""Extract of every account with its identity and permissions, for recertification (REM SC.SSI/IAM.94)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from django.db.models import Prefetch, QuerySet
from django.utils.formats import date_format
from django.utils.timezone import localtime

from dpi.models import Membership, User

HEADER = [
    "identifiant",
    "nom",
    "prénom",
    "identifiant privé",
    "type d'identifiant national",
    "RPPS",
    "ADELI",
    "profession",
    "spécialité",
    "adresse électronique",
    "adresse vérifiée",
    "actif",
    "administrateur",
    "super-utilisateur",
    "origine",
    "groupes",
    "habilitations (rôle @ UF [FINESS EG] jusqu'au)",
    "dernière connexion",
    "mot de passe changé le",
]


def _when(value: object) -> str:
    return date_format(localtime(value), "Y-m-d H:i") if value else ""


def _membership(membership: Membership) -> str:
    unit = membership.care_unit
    text = f"{membership.role.code} @ {unit.code} {unit.name} [{unit.site.finess_eg}]"
    return f"{text} jusqu'au {membership.valid_until:%Y-%m-%d}" if membership.valid_until else text


def account_rows(users: QuerySet[User]) -> Iterator[Sequence[object]]:
    """One line per account (two queries whatever the number of accounts, streamed)."""
    memberships = Prefetch(
        "memberships", queryset=Membership.objects.select_related("role", "care_unit__site").order_by("pk")
    )
    for user in users.order_by("username").prefetch_related(memberships, "groups").iterator(chunk_size=500):
        yield [
            user.username,
            user.last_name,
            user.first_name,
            user.private_id or "",
            user.national_id_type,
            user.rpps or "",
            user.adeli or "",
            user.get_profession_display(),
            user.get_specialty_display(),
            user.email,
            "oui" if user.email and user.email_verified_at else "non",
            "oui" if user.is_active else "non",
            "oui" if user.is_staff else "non",
            "oui" if user.is_superuser else "non",
            "annuaire" if user.private_id else "local",
            " | ".join(group.name for group in user.groups.all()),
            " | ".join(_membership(m) for m in user.memberships.all()),
            _when(user.last_login),
            _when(user.password_changed_at),
        ]
