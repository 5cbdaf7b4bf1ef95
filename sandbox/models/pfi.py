"""What the simulated PFI remembers: its behaviour, the messages it received, the ZAMs it sent."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sandbox.models.behaviour import SingletonBehaviour


class PfiBehaviour(SingletonBehaviour):
    """How the simulated PFI answers (one row, pk 1): a demo user switches it to make the PFI fail."""

    class Mode(models.TextChoices):
        NORMAL = "normal", _("Normal : accepte et envoie les accusés métier")
        REFUSE = "refuse", _("Hors service : connexions refusées")
        AE = "ae", _("Erreur : acquittement AE (207)")
        AR = "ar", _("Rejet : acquittement AR")
        DMP_REJECT = "dmp_reject", _("Refus du DMP : ZAM Z01 en erreur")
        MSS_REJECT = "mss_reject", _("Échec MSSanté : ZAM Z02 en erreur (SMTP 550)")
        SLOW = "slow", _("Lente : acquittement après un délai")

    mode = models.CharField(_("mode"), max_length=12, choices=Mode.choices, default=Mode.NORMAL)
    slow_seconds = models.FloatField(
        _("délai du mode lent (s)"), default=15.0, help_text=_("attente avant l'acquittement en mode « lente »")
    )
    zam_delay_seconds = models.FloatField(
        _("délai des accusés métier (s)"),
        null=True,
        blank=True,
        help_text=_("vide : la valeur de SANDBOX_PFI_ZAM_DELAY_SECONDS"),
    )

    class Meta:
        verbose_name = _("comportement de la PFI simulée")
        verbose_name_plural = _("comportement de la PFI simulée")
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="sandbox_pfibehaviour_singleton"),
            models.CheckConstraint(condition=Q(slow_seconds__gte=0), name="sandbox_pfibehaviour_slow_positive"),
            models.CheckConstraint(
                condition=Q(zam_delay_seconds__isnull=True) | Q(zam_delay_seconds__gte=0),
                name="sandbox_pfibehaviour_zam_delay_positive",
            ),
        ]


class PfiMessage(models.Model):
    """An MDM the simulated PFI received, what it understood of it and what it answered."""

    received_at = models.DateTimeField(_("reçu le"), default=timezone.now, db_index=True)
    peer = models.CharField(_("partenaire"), max_length=255, blank=True)
    control_id = models.CharField(_("identifiant (MSH-10)"), max_length=199, blank=True, db_index=True)
    trigger = models.CharField(_("événement"), max_length=10, blank=True, help_text=_("T02, T10 ou T04"))
    document_id = models.CharField(_("document (TXA-12)"), max_length=255, blank=True, db_index=True)
    parent_id = models.CharField(_("document remplacé (TXA-13)"), max_length=255, blank=True)
    ins = models.CharField(_("INS (PID-3)"), max_length=40, blank=True, db_index=True)
    to_dmp = models.BooleanField(_("vers le DMP"), default=False)
    mss_recipients = models.JSONField(_("destinataires MSSanté (PRT RCT)"), default=list, blank=True)
    to_patient = models.BooleanField(_("vers la messagerie du patient"), default=False)
    flags = models.JSONField(_("métadonnées DMP/MSSanté"), default=dict, blank=True)
    sender = models.CharField(_("émetteur (PRT SB)"), max_length=255, blank=True)
    ack_code = models.CharField(_("acquittement"), max_length=2, blank=True, db_index=True)
    duplicate = models.BooleanField(
        _("doublon"),
        default=False,
        help_text=_("même MSH-10 qu'un message déjà accepté : acquitté AA à nouveau, sans nouveau traitement"),
    )
    error = models.TextField(_("erreur"), blank=True)
    raw = models.TextField(_("message reçu"), blank=True)

    class Meta:
        verbose_name = _("message reçu par la PFI simulée")
        verbose_name_plural = _("messages reçus par la PFI simulée")
        ordering = ["-received_at", "-pk"]

    def __str__(self) -> str:
        return (
            f"{self.trigger or '?'} {self.control_id} ({self.ack_code or '-'}{', doublon' if self.duplicate else ''})"
        )


class PfiZam(models.Model):
    """A business acknowledgement (ZAM) the simulated PFI sent to the DPI, and how the DPI answered."""

    class Event(models.TextChoices):
        DMP_RECEIPT = "Z01", _("Z01 : accusé de réception DMP")
        MSS_RECEIPT = "Z02", _("Z02 : accusé de réception MSSanté")
        MSS_READ = "Z03", _("Z03 : accusé de lecture MSSanté")

    class Status(models.TextChoices):
        OK = "Y", _("succès")
        FAILED = "N", _("échec")

    message = models.ForeignKey(
        PfiMessage, on_delete=models.CASCADE, related_name="zams", verbose_name=_("message acquitté")
    )
    event = models.CharField(_("événement"), max_length=3, choices=Event.choices)
    recipient = models.CharField(_("destinataire"), max_length=255, blank=True)
    status = models.CharField(_("statut"), max_length=1, choices=Status.choices)
    control_id = models.CharField(_("identifiant (MSH-10)"), max_length=199, db_index=True)
    sent_at = models.DateTimeField(_("envoyé le"), default=timezone.now, db_index=True)
    outcome = models.CharField(
        _("réponse du DPI"), max_length=255, blank=True, help_text=_("code d'acquittement ou erreur de transport")
    )
    raw = models.TextField(_("message envoyé"), blank=True)

    class Meta:
        verbose_name = _("accusé métier envoyé par la PFI simulée")
        verbose_name_plural = _("accusés métier envoyés par la PFI simulée")
        ordering = ["-sent_at", "-pk"]

    def __str__(self) -> str:
        return f"ZAM^{self.event} {self.recipient or 'DMP'} {self.status}"
