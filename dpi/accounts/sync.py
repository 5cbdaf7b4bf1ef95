"""Synchronisation of the accounts with the hospital's directory (REM SC.SSI/IAM.83).

Each person of the directory is an account, found by the directory's immutable id (``private_id``), else by
its login when a local account of that login was never synchronised (its first synchronisation links it).
Names, e-mail and RPPS follow the directory; its groups give memberships through the mappings edited in the
admin (:class:`dpi.models.DirectoryGroupMapping`); memberships granted by hand are never touched. An account
that left the directory is deactivated and signed out, never deleted. Every change is audited.

Bad data never stops the run: an entry without id, login or name, with an invalid RPPS or e-mail, or whose
RPPS belongs to another account is refused and reported, and its account left as it was; a group without a
mapping is reported as a warning.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from celery import current_app
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from dpi import codes
from dpi.accounts.contacts import identity_changes, notify_previous_contact
from dpi.accounts.directory import DirectoryConfig, DirectoryError, Person, read_people
from dpi.jobs import fail_job, finish_job, queue_job, start_job
from dpi.models import AuditEvent, DirectoryGroupMapping, DirectorySyncRun, Job, Membership, User
from dpi.services import audit, close_sessions
from dpi.validators import validate_rpps

logger = logging.getLogger(__name__)
SYNCED_FIELDS = (
    "private_id",
    "username",
    "first_name",
    "last_name",
    "email",
    "rpps",
    "national_id_type",
    "is_active",
    "directory_dn",
)
Mappings = dict[str, list[tuple[int, int]]]  # group DN (lower case) -> (role id, care unit id)


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    deactivated: int = 0
    rejected: int = 0
    report: list[dict[str, Any]] = field(default_factory=list)
    synced: set[str] = field(default_factory=set)  # directory ids of the accounts brought in line

    def note(self, person: Person, level: str, problems: list[str]) -> None:
        self.report.append({"dn": person.dn, "login": person.username, "level": level, "problems": problems})


@transaction.atomic
def request_directory_sync(*, acting_user: User | None) -> DirectorySyncRun:
    """Queue a synchronisation now (the admin's button); the worker runs it."""
    run = _new_run(acting_user)
    audit(action=AuditEvent.Action.DIRECTORY_SYNC, actor=acting_user, obj=run, detail={"step": "requested"})
    transaction.on_commit(lambda: current_app.send_task("dpi.sync_directory", kwargs={"run_id": run.pk}))
    return run


def run_directory_sync(
    *, run: DirectorySyncRun | None = None, config: DirectoryConfig | None = None
) -> DirectorySyncRun:
    """Read the directory and bring the accounts in line; the run row says what happened."""
    run = run or _new_run(None)
    claimed = DirectorySyncRun.objects.filter(pk=run.pk, status=DirectorySyncRun.Status.QUEUED).update(
        status=DirectorySyncRun.Status.RUNNING
    )
    if not claimed:  # a duplicate delivery of the task
        return run
    start_job(run.job_id)
    try:
        people = read_people(config or DirectoryConfig.from_settings())
    except DirectoryError as error:
        logger.warning("directory synchronisation %s failed: %s", run.pk, error)
        return _finish(run, Tally(), error=str(error))
    tally = Tally()
    mappings = _mappings()
    seen: set[str] = set()
    for person in people:
        if person.directory_id:
            seen.add(person.directory_id)
        try:
            _sync_person(person, mappings, tally, run)
        except DatabaseError as error:  # a constraint the checks above did not foresee: this entry only
            logger.exception("directory entry %s refused by the database", person.dn)
            tally.rejected += 1
            tally.note(person, "error", [_("refusée par la base : %(error)s") % {"error": error.__class__.__name__}])
    User.objects.filter(private_id__in=tally.synced).update(directory_synced_at=timezone.now())
    error = ""
    if people:
        _deactivate_departed(seen, tally, run)
    else:
        error = _(
            "L'annuaire n'a renvoyé aucune personne : aucun compte n'a été désactivé (base ou filtre à vérifier)."
        )
    return _finish(run, tally, error=error)


def _new_run(acting_user: User | None) -> DirectorySyncRun:
    job = queue_job(kind=Job.Kind.DIRECTORY_SYNC, acting_user=acting_user)
    return DirectorySyncRun.objects.create(requested_by=acting_user, job=job)


def _finish(run: DirectorySyncRun, tally: Tally, *, error: str) -> DirectorySyncRun:
    run.status = DirectorySyncRun.Status.FAILED if error else DirectorySyncRun.Status.DONE
    run.finished_at = timezone.now()
    run.created, run.updated, run.deactivated, run.rejected = (
        tally.created, tally.updated, tally.deactivated, tally.rejected,
    )  # fmt: skip
    run.error = error
    run.report = tally.report
    run.save()
    summary = {"created": run.created, "updated": run.updated, "deactivated": run.deactivated, "rejected": run.rejected}
    if error:
        fail_job(run.job_id, error=error)
    else:
        finish_job(run.job_id, result=summary)
    audit(action=AuditEvent.Action.DIRECTORY_SYNC, obj=run,
          detail={"step": "finished", "status": run.status, **summary, "error": error})  # fmt: skip
    return run


def _mappings() -> Mappings:
    mappings: Mappings = {}
    for mapping in DirectoryGroupMapping.objects.all():
        mappings.setdefault(mapping.group_dn.lower(), []).append((mapping.role_id, mapping.care_unit_id))
    return mappings


def _problems(person: Person) -> list[str]:
    """Why an entry cannot be taken (empty: it can)."""
    problems = []
    required = (
        (person.directory_id, _("identifiant unique")),
        (person.username, _("identifiant de connexion")),
        (person.last_name, _("nom (sn)")),
    )
    for value, label in required:
        if not value:
            problems.append(_("attribut manquant : %(label)s") % {"label": label})
    if person.rpps:
        try:
            validate_rpps(person.rpps)
        except ValidationError:
            problems.append(_("RPPS invalide : %(rpps)s") % {"rpps": person.rpps})
    if person.email:
        try:
            validate_email(person.email)
        except ValidationError:
            problems.append(_("adresse électronique invalide : %(email)s") % {"email": person.email})
    return problems


def _account_for(person: Person) -> tuple[User | None, str]:
    """The account of this person, or why the entry cannot have one (one query: the accounts holding its
    directory id, its login or its RPPS)."""
    matches = Q(private_id=person.directory_id) | Q(username=person.username)
    if person.rpps:
        matches |= Q(rpps=person.rpps)
    candidates = list(User.objects.filter(matches))
    user = next((c for c in candidates if c.private_id == person.directory_id), None)
    by_login = next((c for c in candidates if c.username == person.username), None)
    taken = _("l'identifiant %(login)s appartient à un autre compte") % {"login": person.username}
    if user is None and by_login is not None:
        if by_login.private_id or by_login.is_superuser:
            return None, taken
        user = by_login
    elif by_login is not None and by_login != user:
        return None, taken
    if person.rpps and any(c.rpps == person.rpps and c != user for c in candidates):
        return None, _("le RPPS %(rpps)s appartient à un autre compte") % {"rpps": person.rpps}
    return user, ""


def _sync_person(person: Person, mappings: Mappings, tally: Tally, run: DirectorySyncRun) -> None:
    problems = _problems(person)
    user, conflict = _account_for(person) if not problems else (None, "")
    if problems or conflict:
        tally.rejected += 1
        tally.note(person, "error", problems or [conflict])
        return
    unmapped = sorted(group for group in person.groups if group not in mappings)
    if unmapped:
        tally.note(person, "warning", [_("groupe sans correspondance : %(dn)s") % {"dn": dn} for dn in unmapped])
    with transaction.atomic():
        created = user is None
        user, identity_changed = _apply_identity(user or User(), person, run)
        memberships_changed = _apply_memberships(user, person, mappings, run)
    tally.synced.add(person.directory_id)
    if created:
        tally.created += 1
    elif identity_changed or memberships_changed:
        tally.updated += 1


def _values(user: User) -> dict[str, Any]:
    return {name: getattr(user, name) for name in SYNCED_FIELDS}


def _apply_identity(user: User, person: Person, run: DirectorySyncRun) -> tuple[User, bool]:
    """Names, e-mail, RPPS and state from the directory; audited with before and after when anything changed."""
    created = user.pk is None
    before = {} if created else _values(user)
    user.private_id = person.directory_id  # links a local account of the same login at its first synchronisation
    user.username = person.username
    user.first_name = person.first_name
    user.last_name = person.last_name
    if (user.email or "").lower() != person.email.lower():
        user.email = person.email
        user.email_verified_at = None  # a new address is verified before it serves for recovery
    if person.rpps:
        user.rpps, user.national_id_type = person.rpps, codes.NationalIdType.RPPS
    elif user.national_id_type == codes.NationalIdType.RPPS:
        user.rpps, user.national_id_type = None, codes.NationalIdType.NONE
    user.is_active = True
    user.directory_dn = person.dn
    if created:
        user.set_unusable_password()  # signs in through the hospital's identity provider, or a password set later
    after = _values(user)
    changes = {name: (before.get(name), value) for name, value in after.items() if before.get(name) != value}
    if changes:  # an unchanged account is not written (its synchronisation date is stamped for all at the end)
        user.directory_synced_at = timezone.now()
        user.save()
        audit(action=AuditEvent.Action.USER_CHANGE, obj=user,
              change=AuditEvent.Change.ADDED if created else AuditEvent.Change.CHANGED,
              before={k: _text(v[0]) for k, v in changes.items()} if not created else None,
              after={k: _text(v[1]) for k, v in changes.items()},
              detail={"source": "directory", "run": run.pk})  # fmt: skip
    if not created and before.get("email"):
        notify_previous_contact(user=user, address=str(before["email"]), changes=identity_changes(before, user))
    return user, bool(changes) and not created


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _apply_memberships(user: User, person: Person, mappings: Mappings, run: DirectorySyncRun) -> bool:
    """The memberships granted by the person's groups: missing ones added, those of groups left removed."""
    wanted = {pair for group in person.groups for pair in mappings.get(group, [])}
    memberships = list(user.memberships.all())
    held = {(m.role_id, m.care_unit_id): m for m in memberships if m.from_directory}
    manual = {(m.role_id, m.care_unit_id) for m in memberships if not m.from_directory}
    changed = False
    for pair in sorted(wanted - held.keys() - manual):
        membership = Membership.objects.create(user=user, role_id=pair[0], care_unit_id=pair[1], from_directory=True)
        _audit_membership(membership, AuditEvent.Change.ADDED, run)
        changed = True
    for pair in sorted(held.keys() - wanted):
        _audit_membership(held[pair], AuditEvent.Change.DELETED, run)
        held[pair].delete()
        changed = True
    return changed


def _audit_membership(membership: Membership, change: AuditEvent.Change, run: DirectorySyncRun) -> None:
    audit(action=AuditEvent.Action.HABILITATION_CHANGE, obj=membership, change=change,
          detail={"source": "directory", "run": run.pk, "user": membership.user.username,
                  "role": str(membership.role), "care_unit": str(membership.care_unit)})  # fmt: skip


@transaction.atomic
def _deactivate_departed(seen: set[str], tally: Tally, run: DirectorySyncRun) -> None:
    """Accounts that came from the directory and are no longer in it: deactivated, signed out, kept."""
    departed = User.objects.filter(private_id__isnull=False, is_active=True).exclude(private_id__in=seen)
    for user in departed:
        user.is_active = False
        user.save(update_fields=["is_active"])
        audit(action=AuditEvent.Action.USER_CHANGE, obj=user, change=AuditEvent.Change.DEACTIVATED,
              before={"is_active": "True"}, after={"is_active": "False"},
              detail={"source": "directory", "run": run.pk})  # fmt: skip
        tally.deactivated += 1
    close_sessions(User.objects.filter(private_id__isnull=False, is_active=False).exclude(private_id__in=seen))
