"""Recovery contact (REM SC.SSI/IE.31, IE.32): an e-mail address becomes the account's contact only once the
code sent to it is typed back; each change of contact or identity is told to the previous address."""

from __future__ import annotations

import logging
import secrets
import smtplib
from datetime import timedelta

from allauth.account.forms import ResetPasswordForm as AllauthResetPasswordForm
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from dpi.models import AuditEvent, ContactVerification, User
from dpi.services import audit

logger = logging.getLogger(__name__)
IDENTITY_FIELDS = ("first_name", "last_name", "email", "rpps", "adeli", "profession")


def _hash(user: User, code: str) -> str:
    """Keyed with the secret key: six digits alone would be found at once from a copy of the table."""
    return salted_hmac("dpi.accounts.contact-code", f"{user.pk}:{code}", algorithm="sha256").hexdigest()


def pending_verification(user: User) -> ContactVerification | None:
    """The code waiting to be typed back, if any (not expired, not used up, not replaced)."""
    return (
        user.contact_verifications.filter(
            verified_at__isnull=True,
            cancelled=False,
            expires_at__gt=timezone.now(),
            attempts__lt=settings.CONTACT_CODE_MAX_ATTEMPTS,
        )
        .order_by("-created_at")
        .first()
    )


@transaction.atomic
def start_contact_verification(
    *, user: User, email: str, acting_user: User | None, request: HttpRequest | None = None
) -> ContactVerification:
    """Send a one-time code to ``email``; until it is typed back the address is not the account's contact."""
    since = timezone.now() - timedelta(hours=1)
    if user.contact_verifications.filter(created_at__gte=since).count() >= settings.CONTACT_CODES_PER_HOUR:
        raise ValidationError(_("Trop de codes demandés en une heure : réessayez plus tard."), code="too_many_codes")
    user.contact_verifications.filter(verified_at__isnull=True).update(cancelled=True)
    code = f"{secrets.randbelow(1_000_000):06d}"
    verification = ContactVerification.objects.create(
        user=user,
        email=email,
        code_hash=_hash(user, code),
        expires_at=timezone.now() + timedelta(minutes=settings.CONTACT_CODE_MINUTES),
    )
    audit(
        action=AuditEvent.Action.CONTACT_CHANGE,
        actor=acting_user,
        request=request,
        obj=user,
        detail={"step": "code_sent", "email": email},
    )
    body = _(
        "Bonjour,\n\nVoici le code de vérification de cette adresse pour votre compte DPI (%(username)s) : "
        "%(code)s\n\nIl est valable %(minutes)d minutes. Si vous n'êtes pas à l'origine de cette demande, "
        "prévenez le support informatique de l'établissement."
    ) % {"username": user.get_username(), "code": code, "minutes": settings.CONTACT_CODE_MINUTES}
    try:  # sent before the commit: an address the relay refuses leaves nothing pending, and the user is told
        send_mail(_("DPI : code de vérification de votre adresse"), body, None, [email])
    except (OSError, smtplib.SMTPException) as error:
        logger.warning("verification code to %s not sent: %s", email, error)
        raise ValidationError(
            _("Le code n'a pas pu être envoyé à cette adresse (%(error)s). Vérifiez-la ou réessayez plus tard.")
            % {"error": error.__class__.__name__},
            code="mail_not_sent",
        ) from error
    return verification


def confirm_contact(*, user: User, code: str, request: HttpRequest | None = None) -> User:
    """Check the code typed back; on success the address becomes the account's verified contact and the
    previous address, if any, is told. A wrong code counts as one try (committed, then refused): the
    transaction is this function's own (``durable``), so no caller's rollback can give the try back."""
    with transaction.atomic(durable=True):
        verification = pending_verification(user)
        if verification is None:
            raise ValidationError(_("Aucun code en attente : demandez un nouveau code."), code="no_pending_code")
        verification = ContactVerification.objects.select_for_update().get(pk=verification.pk)
        if secrets.compare_digest(verification.code_hash, _hash(user, code.strip())):
            return _verified(user, verification, request)
        verification.attempts += 1
        verification.save(update_fields=["attempts"])
        audit(action=AuditEvent.Action.CONTACT_CHANGE, actor=user, request=request, obj=user,
              detail={"step": "wrong_code", "email": verification.email, "result": "failure"})  # fmt: skip
    raise ValidationError(_("Code incorrect."), code="wrong_code")


def _verified(user: User, verification: ContactVerification, request: HttpRequest | None) -> User:
    previous = user.email
    verification.verified_at = timezone.now()
    verification.save(update_fields=["verified_at"])
    user.email = verification.email
    user.email_verified_at = verification.verified_at
    user.save(update_fields=["email", "email_verified_at"])
    audit(action=AuditEvent.Action.CONTACT_CHANGE, actor=user, request=request, obj=user,
          change=AuditEvent.Change.CHANGED, before={"email": previous}, after={"email": user.email},
          detail={"step": "verified", "email": user.email, "result": "success"})  # fmt: skip
    if previous and previous.lower() != user.email.lower():
        notify_previous_contact(user=user, address=previous, changes={"email": (previous, user.email)})
    return user


def identity_changes(before: dict[str, object], user: User) -> dict[str, tuple[object, object]]:
    """The identity attributes of ``user`` that differ from ``before`` (field -> (old, new))."""
    return {
        field: (before.get(field), getattr(user, field))
        for field in IDENTITY_FIELDS
        if field in before and (before.get(field) or "") != (getattr(user, field) or "")
    }


def notify_previous_contact(*, user: User, address: str, changes: dict[str, tuple[object, object]]) -> None:
    """Tell ``address`` (the contact on file before the change) which attributes of the account changed,
    after the commit; the values themselves are not sent, only their names."""
    if not address or not changes:
        return
    labels = ", ".join(str(User._meta.get_field(field).verbose_name) for field in sorted(changes))
    body = _(
        "Bonjour,\n\nLes informations suivantes de votre compte DPI (%(username)s) ont été modifiées : "
        "%(labels)s.\n\nSi vous n'êtes pas à l'origine de cette modification, prévenez sans attendre le support "
        "informatique de l'établissement."
    ) % {"username": user.get_username(), "labels": labels}
    transaction.on_commit(  # robust: a relay down is logged, the change itself stays made
        lambda: send_mail(_("DPI : modification de votre compte"), body, None, [address]), robust=True
    )


class ResetPasswordForm(AllauthResetPasswordForm):
    """allauth's password reset by e-mail, for verified recovery addresses only: an address typed by an
    administrator or received from the directory serves for recovery once its owner confirmed the code."""

    def clean_email(self) -> str:
        email = super().clean_email()
        self.users = [
            user for user in self.users if user.email_verified_at and (user.email or "").lower() == email.lower()
        ]
        return email
