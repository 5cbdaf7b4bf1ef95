"""Consultation of the patient's DMP from the file: traces, integrated documents, counted types.

* :class:`DmpTransaction` is the trace of every DMP transaction (SC.DMP/CONF.14-15) and the fact
  the usage indicators count (consultation transactions per user, profession and FINESS).
* :class:`IntegratedDmpDocument` keeps the DMP identifiers of a document integrated from the DMP,
  so that the file can tell when the DMP has a newer version or no longer shows it (SC.CDA/DD.05).
* :class:`NewDocumentsRule` says which document types the "new documents" count shows, for which
  kinds of care and since which event (SC.DMP/UX.15, UX.17); :class:`NewDocumentsAcknowledgement`
  is a user's "vu" that resets the count.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dmp.categories import CHOICES as CATEGORY_CHOICES


class DmpTransaction(models.Model):
    """One DMP transaction made for a user: who, about which patient, what, with which result."""

    class Kind(models.TextChoices):
        EXISTENCE = "TD0.2", _("TD0.2 existence du DMP et autorisation")
        AUTHORISATION = "TD0.3", _("TD0.3 autorisation d'accès")
        SEARCH = "TD3.1", _("TD3.1 recherche de documents")
        RETRIEVE = "TD3.2", _("TD3.2 consultation de documents")
        VISIBILITY = "TD3.3", _("TD3.3 modification de visibilité")
        WEB_PS = "TD0.10", _("TD0.10 accès web PS contextuel")
        DRIMBOX = "DRIMBOX", _("accès DRIMbox")

    class Outcome(models.TextChoices):
        SUCCESS = "success", _("réussie")
        REFUSED = "refused", _("refusée par le DMP")
        UNAVAILABLE = "unavailable", _("DMP injoignable")
        ERROR = "error", _("réponse illisible")

    at = models.DateTimeField(_("date"), auto_now_add=True, db_index=True)
    kind = models.CharField(_("transaction"), max_length=8, choices=Kind.choices)
    detail = models.CharField(_("détail"), max_length=120, blank=True, help_text=_("requête, action, page"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("utilisateur")
    )
    user_name = models.CharField(_("nom de l'utilisateur"), max_length=200)
    national_id = models.CharField(_("identifiant national (VIHF)"), max_length=12)
    profession = models.CharField(_("profession"), max_length=10, blank=True)
    specialty = models.CharField(_("spécialité"), max_length=10, blank=True)
    care_unit = models.ForeignKey(
        "dpi.CareUnit",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("unité fonctionnelle"),
    )
    finess_eg = models.CharField(_("FINESS géographique"), max_length=9, blank=True, db_index=True)
    patient = models.ForeignKey("patients.Patient", on_delete=models.SET_NULL, null=True, related_name="+")
    ins = models.CharField(_("INS"), max_length=15)
    documents = models.JSONField(_("documents (uniqueId)"), default=list, blank=True)
    document_count = models.PositiveIntegerField(_("nombre de documents"), default=0)
    outcome = models.CharField(_("résultat"), max_length=11, choices=Outcome.choices)
    error_code = models.CharField(_("code d'erreur"), max_length=80, blank=True)
    error_text = models.CharField(_("erreur"), max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(_("durée (ms)"), default=0)

    class Meta:
        verbose_name = _("transaction DMP")
        verbose_name_plural = _("traces des transactions DMP")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["patient", "-at"], name="dmp_transaction_patient"),
            models.Index(fields=["user", "-at"], name="dmp_transaction_user"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.national_id} {self.ins} ({self.get_outcome_display()})"


class IntegratedDmpDocument(models.Model):
    """The DMP identifiers of a document integrated from the DMP, and what the DMP last said of it."""

    class State(models.TextChoices):
        PRESENT = "present", _("présent dans le DMP")
        NEWER_VERSION = "newer_version", _("nouvelle version dans le DMP")
        UNAVAILABLE = "unavailable", _("n'apparaît plus dans le DMP")

    document = models.OneToOneField("documents.Document", on_delete=models.CASCADE, related_name="dmp_link")
    unique_id = models.CharField(_("uniqueId"), max_length=128)
    entry_uuid = models.CharField(_("entryUUID"), max_length=64)
    logical_id = models.CharField(_("logicalId"), max_length=64, blank=True)
    repository_unique_id = models.CharField(_("repositoryUniqueId"), max_length=64)
    state = models.CharField(_("état dans le DMP"), max_length=13, choices=State.choices, default=State.PRESENT)
    newer_unique_id = models.CharField(_("uniqueId de la nouvelle version"), max_length=128, blank=True)
    newer_entry_uuid = models.CharField(_("entryUUID de la nouvelle version"), max_length=64, blank=True)
    newer_title = models.CharField(_("titre de la nouvelle version"), max_length=250, blank=True)
    checked_at = models.DateTimeField(_("vérifié le"), null=True, blank=True)
    integrated_at = models.DateTimeField(_("intégré le"), auto_now_add=True)

    class Meta:
        verbose_name = _("document intégré du DMP")
        verbose_name_plural = _("documents intégrés du DMP")
        indexes = [models.Index(fields=["unique_id"], name="dmp_link_unique_id")]

    def __str__(self) -> str:
        return f"{self.unique_id} ({self.get_state_display()})"


class Reference(models.TextChoices):
    """Since when documents count as new."""

    LAST_VISIT = "last_visit", _("depuis la dernière venue du patient")
    LAST_CONSULTATION = "last_consultation", _("depuis la dernière consultation du DMP par l'utilisateur")
    DAYS = "days", _("sur les N derniers jours")


def default_categories() -> list[str]:
    return [key for key, _label in CATEGORY_CHOICES]


def default_episode_kinds() -> list[str]:
    return ["consultation", "urgence"]


class NewDocumentsRule(models.Model):
    """Which new DMP documents are counted, for whom: the most specific rule wins.

    A rule names a care unit, or a site, or a legal entity, or nothing (everywhere), and may be
    limited to a specialty. Without any rule: every category, consultations and emergencies,
    since the patient's last visit.
    """

    legal_entity = models.ForeignKey(
        "dpi.LegalEntity", on_delete=models.CASCADE, null=True, blank=True, verbose_name=_("entité juridique")
    )
    site = models.ForeignKey("dpi.Site", on_delete=models.CASCADE, null=True, blank=True)
    care_unit = models.ForeignKey(
        "dpi.CareUnit", on_delete=models.CASCADE, null=True, blank=True, verbose_name=_("unité fonctionnelle")
    )
    specialty = models.CharField(
        _("spécialité (TRE_R38)"), max_length=10, blank=True, help_text=_("vide : toutes les spécialités")
    )
    categories = models.JSONField(_("types de documents comptés"), default=default_categories)
    episode_kinds = models.JSONField(
        _("types de prise en charge"),
        default=default_episode_kinds,
        help_text=_("le compteur est affiché pour ces prises en charge (consultation, urgence, hospitalisation…)"),
    )
    reference = models.CharField(
        _("nouveaux depuis"), max_length=17, choices=Reference.choices, default=Reference.LAST_VISIT
    )
    days = models.PositiveSmallIntegerField(_("nombre de jours"), default=30, help_text=_("pour « N derniers jours »"))

    class Meta:
        verbose_name = _("compteur de nouveaux documents du DMP")
        verbose_name_plural = _("compteurs de nouveaux documents du DMP")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(care_unit__isnull=True, site__isnull=True)
                    | Q(care_unit__isnull=True, legal_entity__isnull=True)
                    | Q(site__isnull=True, legal_entity__isnull=True)
                ),
                name="new_documents_rule_one_scope",
            ),
            models.CheckConstraint(condition=Q(days__gte=1), name="new_documents_rule_days_positive"),
        ]

    def __str__(self) -> str:
        scope = self.care_unit or self.site or self.legal_entity or _("tout l'établissement")
        return f"{scope}{f' / {self.specialty}' if self.specialty else ''}"


class NewDocumentsAcknowledgement(models.Model):
    """A user marked the patient's new DMP documents as seen: the count starts again from here."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("utilisateur")
    )
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    acknowledged_at = models.DateTimeField(_("vu le"))

    class Meta:
        verbose_name = _("nouveaux documents vus")
        verbose_name_plural = _("nouveaux documents vus")
        constraints = [models.UniqueConstraint(fields=["user", "patient"], name="new_documents_ack_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} / {self.patient_id} {self.acknowledged_at:%Y-%m-%d %H:%M}"
