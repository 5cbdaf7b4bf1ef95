"""Who may write what (REM HOP/va1.04): per Ségur type, the professions and roles that may draft and validate.

The rules are rows of :class:`documents.models.WritingRule`, configured in the admin. A user holds the
rights of their profession, and of the roles of their active memberships (in the document's care unit
when it has one). The writing services call :func:`require`: a refusal leaves a ``document.change`` row
(``change="refused"``) and raises :class:`WritingRefused`; the pages only hide what :func:`allowed_types`
does not allow.
"""

from __future__ import annotations

import enum
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _

from documents.models import Document, WritingRule
from documents.types import SEGUR_TYPES
from dpi.codes import Profession
from dpi.models import AuditEvent, CareUnit, User
from dpi.selectors import active_memberships
from dpi.services import audit

LETTER, OPERATIVE, PRESCRIPTION, CONSULTATION = "11490-0", "34874-8", "57833-6", "11488-4"

# (type, profession, may draft, may validate): installed by migration 0005 and again whenever the table is
# empty (a test database's flush); see docs/documents.md, "Writing rules".
DEFAULT_RULES: tuple[tuple[str, str, bool, bool], ...] = (
    *((code, Profession.MEDECIN, True, True) for code in SEGUR_TYPES),
    *((code, Profession.CHIRURGIEN_DENTISTE, True, True) for code in SEGUR_TYPES),
    *((code, Profession.SAGE_FEMME, True, True) for code in (LETTER, PRESCRIPTION, CONSULTATION)),
    (LETTER, Profession.PHARMACIEN, True, False),
    (LETTER, Profession.INFIRMIER, True, False),
    (CONSULTATION, Profession.INFIRMIER, True, False),
)


class Operation(enum.StrEnum):
    DRAFT = "draft"
    VALIDATE = "validate"

    @property
    def flag(self) -> str:
        return "may_draft" if self is Operation.DRAFT else "may_validate"


class WritingRefused(PermissionDenied):
    """The user's profession and roles do not allow this writing act on this type (message in French)."""


def install_default_rules(model: type[WritingRule] = WritingRule) -> int:
    """Create the default rules when there is none at all; the number created."""
    if model.objects.exists():
        return 0
    rows = [
        model(type_code=code, profession=str(profession), may_draft=draft, may_validate=validate)
        for code, profession, draft, validate in DEFAULT_RULES
    ]
    return len(model.objects.bulk_create(rows))


def reinstall_default_rules(sender: object, apps: Any = None, **kwargs: Any) -> None:
    """``post_migrate`` receiver: a flushed database (tests) gets the defaults back, as a new one does."""
    try:
        model = apps.get_model("documents", "WritingRule") if apps is not None else WritingRule
    except LookupError:  # migrated back before the rules existed
        return
    install_default_rules(model)


def _user_rules(user: User, care_unit: CareUnit | None) -> QuerySet[WritingRule]:
    memberships = active_memberships(user)
    if care_unit is not None:
        memberships = memberships.filter(care_unit=care_unit)
    held = Q(role_id__in=memberships.values("role_id"))
    if user.profession:
        held |= Q(profession=user.profession)
    return WritingRule.objects.filter(held)


def allowed_types(user: User, operation: Operation, care_unit: CareUnit | None = None) -> frozenset[str]:
    """The type codes ``user`` may draft (or validate) in ``care_unit`` (any of their units when None)."""
    rules = _user_rules(user, care_unit).filter(**{operation.flag: True})
    return frozenset(rules.values_list("type_code", flat=True))


def may(user: User, operation: Operation, type_code: str, care_unit: CareUnit | None) -> bool:
    return _user_rules(user, care_unit).filter(type_code=type_code, **{operation.flag: True}).exists()


def refusal_message(operation: Operation, type_code: str) -> str:
    segur = SEGUR_TYPES.get(type_code)
    label = segur.label if segur else type_code
    if operation is Operation.VALIDATE:
        return _(
            "Votre profession et vos rôles ne permettent pas de valider un document « %(type)s » : "
            "enregistrez-le en brouillon, un professionnel habilité de l'unité le validera."
        ) % {"type": label}
    return _("Votre profession et vos rôles ne permettent pas de rédiger un document « %(type)s ».") % {"type": label}


def require(
    *,
    user: User,
    operation: Operation,
    type_code: str,
    patient_id: int,
    care_unit: CareUnit | None,
    document: Document | None = None,
    request: HttpRequest | None = None,
    step: str = "",
) -> None:
    """Return if ``user`` may; otherwise write the refusal's audit row and raise :class:`WritingRefused`.

    Call it outside the service's transaction, so that the row stays when the refusal propagates."""
    if may(user, operation, type_code, care_unit):
        return
    detail: dict[str, Any] = {
        "operation": str(operation),
        "step": step or str(operation),
        "type_code": type_code,
        "care_unit": care_unit.code if care_unit else "",
        "profession": user.profession,
        "reason": "writing_rule",
    }
    audit(
        action=AuditEvent.Action.DOCUMENT_CHANGE,
        actor=user,
        request=request,
        obj=document,
        patient_id=patient_id,
        change=AuditEvent.Change.REFUSED,
        detail=detail,
    )
    raise WritingRefused(refusal_message(operation, type_code))
