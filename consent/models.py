"""The patient's information and opposition, per care episode, for DMP feeding and DMP consultation."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Subject(models.TextChoices):
    FEEDING = "dmp_feeding", _("Alimentation du DMP")
    CONSULTATION = "dmp_consultation", _("Consultation du DMP")


class State(models.TextChoices):
    NOT_INFORMED = "not_informed", _("Non informé")
    INFORMED_NOT_OPPOSED = "informed_not_opposed", _("Informé, non opposé")
    INFORMED_OPPOSED = "informed_opposed", _("Informé, opposé")


class Source(models.TextChoices):
    PAM = "pam", _("flux PAM")
    UI = "ui", _("saisie dans le DPI")
    API = "api", _("API (partenaire du SIH)")


class ConsentDecision(models.Model):
    """One recorded state of one subject for one visit. Never updated: the history is the table.

    The legitimate reason of an opposition is never stored (DSR 3.2.2 a).
    """

    episode = models.ForeignKey(
        "patients.Episode", on_delete=models.CASCADE, related_name="consent_decisions", verbose_name=_("venue")
    )
    subject = models.CharField(_("objet"), max_length=20, choices=Subject.choices)
    state = models.CharField(_("état"), max_length=24, choices=State.choices)
    collected_at = models.DateTimeField(_("recueilli le"))
    recorded_at = models.DateTimeField(_("enregistré le"), auto_now_add=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    message = models.ForeignKey(
        "hl7.Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("message PAM"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("professionnel"),
    )
    actor_rpps = models.CharField(_("RPPS"), max_length=11, blank=True)
    actor_name = models.CharField(_("nom"), max_length=200, blank=True)
    peer = models.CharField(_("partenaire"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("information / opposition")
        verbose_name_plural = _("informations / oppositions")
        ordering = ["-collected_at", "-recorded_at", "-pk"]
        indexes = [models.Index(fields=["episode", "subject", "-collected_at"], name="consent_episode_subject")]

    def __str__(self) -> str:
        return f"{self.get_subject_display()} : {self.get_state_display()}"
