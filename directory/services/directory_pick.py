"""A professional found in the Annuaire Santé becomes a correspondent (SC.MSS/UX.10): one correspondent per
RPPS and MSSanté address, created or refreshed from what the API says, audited."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.forms.models import model_to_dict
from django.http import HttpRequest

from directory.clients.annuaire import Professional
from directory.models import Correspondent, Title
from dpi.models import AuditEvent, User
from dpi.services import audit


class NotAnAddressOfTheProfessional(ValueError):
    pass


@transaction.atomic
def correspondent_from_directory(
    *, professional: Professional, address: str, acting_user: User, request: HttpRequest | None = None
) -> Correspondent:
    """The correspondent for ``professional`` reached at ``address`` (one of their MSSanté boxes)."""
    found = next((pair for pair in professional.all_mailboxes() if pair[0].address == address), None)
    if found is None:
        raise NotAnAddressOfTheProfessional(f"{address} n'est pas une adresse MSSanté de ce professionnel.")
    values = _values(professional, address, found[1] or next(iter(professional.situations), None))
    correspondent = Correspondent.objects.filter(rpps=professional.rpps, mss_address=address).first()
    before = model_to_dict(correspondent, fields=list(values)) if correspondent else None
    if correspondent is None:
        correspondent = Correspondent.objects.create(**values)
    elif before != values:
        Correspondent.objects.filter(pk=correspondent.pk).update(**values)
        correspondent.refresh_from_db()
    if before != values:
        audit(
            action=AuditEvent.Action.CORRESPONDENT_CHANGE,
            actor=acting_user,
            request=request,
            obj=correspondent,
            change=AuditEvent.Change.DIRECTORY if before else AuditEvent.Change.ADDED,
            before=before,
            after=values,
            detail={"source": "annuaire"},
        )
    return correspondent


def _values(professional: Professional, address: str, situation: Any) -> dict[str, Any]:
    return {
        "rpps": professional.rpps,
        "title": professional.title if professional.title in Title.values else "",
        "family_name": professional.family_name[:100],
        "given_name": professional.given_name[:100],
        "profession": professional.profession[:100],
        "specialty": professional.specialty[:100],
        "organization": situation.organization[:200] if situation else "",
        "organization_id": situation.organization_id[:20] if situation else "",
        "address": situation.address[:200] if situation else "",
        "postal_code": situation.postal_code[:5] if situation else "",
        "city": situation.city[:100] if situation else "",
        "mss_address": address,
        "source": Correspondent.Source.DIRECTORY,
        "active": True,
    }
