"""Work lists of drafts (REM HOP/va1.08): the user's own drafts, and the drafts awaiting the user's validation.

A draft is *awaiting validation* when its author may not validate it (the writing rules, ``documents.rules``):
it waits for someone of its care unit who may. It is listed to every user who may validate its type in
that unit (by profession in any of their units, by a role where they hold it), never to its author.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from documents.models import Document, Provenance, Status, WritingRule
from dpi.models import User
from dpi.selectors import active_memberships

LIMIT = 200


@dataclass(frozen=True)
class Counts:
    mine: int
    to_validate: int


def _drafts() -> QuerySet[Document]:
    return Document.objects.filter(status=Status.DRAFT, provenance=Provenance.PRODUCED)


def _author_may_validate() -> Exists:
    """The draft's author may validate it: by profession, or by a role held in the draft's unit."""
    today = timezone.localdate()
    by_profession = Q(profession=OuterRef("author__profession")) & ~Q(profession="")
    by_role = Q(
        Q(role__memberships__valid_until__isnull=True) | Q(role__memberships__valid_until__gte=today),
        role__memberships__user=OuterRef("author_id"),
        role__memberships__care_unit=OuterRef("care_unit_id"),
    )
    rules = WritingRule.objects.filter(by_profession | by_role, type_code=OuterRef("type_code"), may_validate=True)
    return Exists(rules)


def _validatable_by(user: User) -> Q:
    """The drafts ``user`` may validate: (unit, type) pairs from their memberships and their rules."""
    memberships = list(active_memberships(user).values_list("care_unit_id", "role_id"))
    held = Q(role_id__in={role for _unit, role in memberships})
    if user.profession:
        held |= Q(profession=user.profession)
    rules = list(WritingRule.objects.filter(held, may_validate=True).values_list("type_code", "profession", "role_id"))
    by_profession = {code for code, profession, _role in rules if profession}
    allowed = Q(pk__in=[])
    if by_profession:
        allowed |= Q(care_unit_id__in={unit for unit, _role in memberships}, type_code__in=by_profession)
    for unit, role in memberships:
        by_role = {code for code, _profession, rule_role in rules if rule_role == role}
        if by_role:
            allowed |= Q(care_unit_id=unit, type_code__in=by_role)
    return allowed


def _awaiting(user: User) -> Q:
    return _validatable_by(user) & ~Q(author=user) & ~Q(_author_may_validate())


def my_drafts(user: User) -> list[Document]:
    """The drafts ``user`` wrote (corrections of their documents included), most recent act first."""
    return list(_listed(_drafts().filter(author=user)))


def awaiting_validation(user: User) -> list[Document]:
    """The drafts of the user's units that wait for a validator and that ``user`` may validate."""
    return list(_listed(_drafts().filter(_awaiting(user))))


def _listed(documents: QuerySet[Document]) -> QuerySet[Document]:
    related = documents.select_related("patient", "care_unit", "author").defer("fields")
    return related.order_by("-act_date", "-pk")[:LIMIT]


def counts(user: User) -> Counts:
    """Both lists' sizes in one aggregate query (after the user's memberships and rules)."""
    totals = _drafts().aggregate(
        mine=Count("pk", filter=Q(author=user)), to_validate=Count("pk", filter=_awaiting(user))
    )
    return Counts(mine=totals["mine"], to_validate=totals["to_validate"])
