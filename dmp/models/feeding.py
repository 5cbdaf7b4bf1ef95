"""Feeding orders: one row per document version, channel and purpose, run by Celery when due.

An order is the idempotency key of a sending: the unique constraint on (version, channel,
purpose) means a version is never ordered twice on a channel, and the order's ``control_id``
(MSH-10) is fixed once for all its attempts, so a retry after a crash is recognisable by the PFI
as the same message.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class FeedingChannel(models.TextChoices):
    DMP = "dmp", _("DMP")
    MSS = "mss", _("MSSanté")


class Purpose(models.TextChoices):
    PUBLISH = "publish", _("publication")
    DELETE = "delete", _("suppression")


class Trigger(models.TextChoices):
    """The MDM event, decided when the order is first sent and kept for its retries."""

    T02 = "T02", _("transmission initiale (MDM^T02)")
    T10 = "T10", _("remplacement (MDM^T10)")
    T04 = "T04", _("suppression (MDM^T04)")


class OrderKind(models.TextChoices):
    AUTOMATIC = "automatic", _("automatique (à la validation)")
    MANUAL = "manual", _("manuel")
    HISTORICAL = "historical", _("historique")
    ADDITIONAL = "additional", _("envoi MSSanté complémentaire")


class OrderState(models.TextChoices):
    SCHEDULED = "scheduled", _("programmé")
    HELD = "held", _("bloqué par l'utilisateur")
    CANCELLED = "cancelled", _("annulé")
    SENDING = "sending", _("envoi en cours")
    SENT = "sent", _("envoyé à la PFI")
    REFUSED = "refused", _("non envoyé")
    FAILED = "failed", _("échec")


class DeletionReason(models.TextChoices):
    ERROR = "error", _("document erroné")
    PATIENT_REQUEST = "patient_request", _("demande du patient")
    DELETED_HERE = "deleted_here", _("suppression dans le logiciel producteur")


class FeedingOrder(models.Model):
    """Send one version of a document on one channel (DMP, or MSSanté recipients) through the PFI."""

    document = models.ForeignKey("documents.Document", on_delete=models.CASCADE, related_name="feeding_orders")
    version = models.ForeignKey("documents.DocumentVersion", on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(_("canal"), max_length=3, choices=FeedingChannel.choices)
    purpose = models.CharField(_("objet"), max_length=7, choices=Purpose.choices, default=Purpose.PUBLISH)
    kind = models.CharField(_("origine"), max_length=10, choices=OrderKind.choices)
    state = models.CharField(_("état"), max_length=9, choices=OrderState.choices, db_index=True)
    due_at = models.DateTimeField(_("échéance"))
    reason = models.CharField(_("motif"), max_length=300, blank=True)
    deletion_reason = models.CharField(
        _("motif de suppression"), max_length=16, choices=DeletionReason.choices, blank=True
    )
    mss_recipients = models.JSONField(_("destinataires MSSanté (professionnels)"), default=list, blank=True)
    mss_patient = models.BooleanField(_("MSSanté du patient"), default=False)
    mss_patient_may_reply = models.BooleanField(_("le patient peut répondre"), default=False)
    ins_qualified = models.BooleanField(
        _("envoyé avec une INS qualifiée"),
        null=True,
        blank=True,
        help_text=_("Fixé au premier envoi : la version envoyée porte-t-elle l'INS (identité qualifiée) ?"),
    )
    control_id = models.CharField(_("MSH-10"), max_length=20, unique=True)
    trigger = models.CharField(_("événement"), max_length=3, choices=Trigger.choices, blank=True)
    replaced_version = models.ForeignKey(
        "documents.DocumentVersion",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("version remplacée"),
    )
    metadata = models.JSONField(_("métadonnées envoyées"), default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(_("tentatives"), default=0)
    lease_until = models.DateTimeField(_("envoi réservé jusqu'à"), null=True, blank=True)
    lease_token = models.CharField(_("jeton de l'envoi en cours"), max_length=32, blank=True)
    message = models.ForeignKey(
        "hl7.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("message")
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("créé par"),
    )
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)

    class Meta:
        verbose_name = _("ordre d'alimentation")
        verbose_name_plural = _("ordres d'alimentation")
        ordering = ["due_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "channel", "purpose"],
                condition=~Q(kind="additional"),
                name="feeding_order_once",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=["refused", "failed"]) | ~Q(reason=""), name="feeding_order_refusal_has_reason"
            ),
        ]
        indexes = [models.Index(fields=["state", "due_at"], name="feeding_order_due")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.document_id} v{self.version_id} ({self.get_state_display()})"


class BusinessAck(models.Model):
    """A ZAM received from the PFI for an order: DMP receipt (Z01), MSSanté delivery (Z02) or read (Z03)."""

    class Event(models.TextChoices):
        Z01 = "Z01", _("accusé de réception DMP")
        Z02 = "Z02", _("accusé de réception MSSanté")
        Z03 = "Z03", _("accusé de lecture MSSanté")

    order = models.ForeignKey(
        FeedingOrder, on_delete=models.CASCADE, related_name="acks", verbose_name=_("ordre d'alimentation")
    )
    event = models.CharField(_("événement"), max_length=3, choices=Event.choices)
    success = models.BooleanField(_("succès"))
    recipient = models.CharField(_("destinataire"), max_length=254, blank=True)
    error = models.CharField(_("erreur"), max_length=300, blank=True)
    event_at = models.DateTimeField(_("date de l'événement"), null=True, blank=True)
    message = models.ForeignKey("hl7.Message", on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField(_("reçu le"), auto_now_add=True)

    class Meta:
        verbose_name = _("accusé métier (ZAM)")
        verbose_name_plural = _("accusés métier (ZAM)")
        ordering = ["received_at", "pk"]

    def __str__(self) -> str:
        return f"{self.event} {'Y' if self.success else 'N'} {self.recipient}"


class FeedingDelay(models.Model):
    """How long a validated document waits before it is sent; the most specific rule wins."""

    type_code = models.CharField(_("type de document (LOINC)"), max_length=20, blank=True, help_text=_("vide : tous"))
    care_unit = models.ForeignKey(
        "dpi.CareUnit",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        help_text=_("vide : toutes"),
        verbose_name=_("unité fonctionnelle"),
    )
    delay_minutes = models.PositiveIntegerField(_("délai (minutes)"))

    class Meta:
        verbose_name = _("délai d'alimentation")
        verbose_name_plural = _("délais d'alimentation")
        constraints = [
            models.UniqueConstraint(
                fields=["type_code", "care_unit"], name="feeding_delay_unique", nulls_distinct=False
            ),
        ]

    def __str__(self) -> str:
        unit = self.care_unit or _("toutes les UF")
        return f"{self.type_code or _('tous types')} / {unit} : {self.delay_minutes} min"
