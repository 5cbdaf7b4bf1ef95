"""Patient identities, care episodes and emergency accesses."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dpi.models import CareUnit


class IdentityStatus(models.TextChoices):
    """The four identity statuses of the national identity-vigilance referential (RNIV)."""

    PROVISOIRE = "provisoire", _("Identité provisoire")
    RECUPEREE = "recuperee", _("Identité récupérée")
    VALIDEE = "validee", _("Identité validée")
    QUALIFIEE = "qualifiee", _("Identité qualifiée")


class Sex(models.TextChoices):
    FEMALE = "F", _("Féminin")
    MALE = "M", _("Masculin")
    UNKNOWN = "U", _("Inconnu")


class Patient(models.Model):
    """A patient identity, known locally by its IPP and, once qualified, by its INS."""

    ipp = models.CharField(_("IPP"), max_length=64)
    ipp_authority = models.CharField(_("autorité d'affectation de l'IPP"), max_length=100, blank=True)
    ins = models.CharField(_("matricule INS"), max_length=15, blank=True, db_index=True)
    ins_oid = models.CharField(_("OID de l'INS"), max_length=64, blank=True)
    identity_status = models.CharField(
        _("statut de l'identité"),
        max_length=12,
        choices=IdentityStatus.choices,
        default=IdentityStatus.PROVISOIRE,
    )
    birth_name = models.CharField(_("nom de naissance"), max_length=100)
    first_names = models.CharField(_("prénoms de naissance"), max_length=200, blank=True)
    used_name = models.CharField(_("nom utilisé"), max_length=100, blank=True)
    used_first_name = models.CharField(_("prénom utilisé"), max_length=100, blank=True)
    birth_date = models.DateField(_("date de naissance"), null=True, blank=True)
    sex = models.CharField(_("sexe"), max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    birth_place_insee = models.CharField(_("code INSEE du lieu de naissance"), max_length=5, blank=True)
    merged_into = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="absorbed")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        ordering = ["birth_name", "first_names"]
        constraints = [
            models.UniqueConstraint(fields=["ipp_authority", "ipp"], name="patient_ipp_unique"),
            models.CheckConstraint(
                condition=~Q(identity_status="qualifiee") | ~Q(ins=""),
                name="patient_qualified_has_ins",
            ),
        ]
        indexes = [
            models.Index(fields=["birth_name", "birth_date"], name="patient_name_birth"),
            models.Index(fields=["used_name"], name="patient_used_name"),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.ipp})"

    @property
    def first_name(self) -> str:
        """First given name: the first item of the birth first-names list."""
        return self.first_names.split(" ")[0] if self.first_names else ""

    @property
    def display_name(self) -> str:
        name = self.used_name or self.birth_name
        first = self.used_first_name or self.first_name
        return f"{name.upper()} {first}".strip()


class Episode(models.Model):
    """A care episode (venue), identified by its visit number (PV1-19)."""

    class Kind(models.TextChoices):
        INPATIENT = "hospitalisation", _("Hospitalisation complète")
        AMBULATORY = "ambulatoire", _("Ambulatoire")
        OUTPATIENT = "consultation", _("Consultation externe")
        EMERGENCY = "urgence", _("Urgences")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="episodes")
    visit_number = models.CharField(_("numéro de venue"), max_length=64)
    visit_authority = models.CharField(_("autorité du numéro de venue"), max_length=100, blank=True)
    kind = models.CharField(_("type de prise en charge"), max_length=20, choices=Kind.choices)
    care_unit = models.ForeignKey(
        CareUnit, on_delete=models.PROTECT, related_name="episodes", verbose_name=_("unité responsable")
    )
    admitted_at = models.DateTimeField(_("entrée"), null=True, blank=True)
    discharged_at = models.DateTimeField(_("sortie"), null=True, blank=True)
    cancelled = models.BooleanField(_("annulé"), default=False)

    class Meta:
        verbose_name = _("séjour")
        verbose_name_plural = _("séjours")
        ordering = ["-admitted_at"]
        constraints = [models.UniqueConstraint(fields=["visit_authority", "visit_number"], name="episode_visit_unique")]
        indexes = [models.Index(fields=["care_unit", "patient"], name="episode_unit_patient")]

    def __str__(self) -> str:
        return f"{self.visit_number} ({self.get_kind_display()})"

    @property
    def finess_eg(self) -> str:
        return self.care_unit.site.finess_eg


class EmergencyAccess(models.Model):
    """A time-limited access to a patient file outside the user's care relationships ("bris de glace")."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="emergency_accesses")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="emergency_accesses")
    reason = models.TextField(_("motif"))
    started_at = models.DateTimeField(_("début"), auto_now_add=True)
    expires_at = models.DateTimeField(_("fin"))

    class Meta:
        verbose_name = _("accès d'urgence")
        verbose_name_plural = _("accès d'urgence")
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["user", "patient", "expires_at"], name="emergency_user_patient")]
        constraints = [models.CheckConstraint(condition=~Q(reason=""), name="emergency_reason_required")]

    def __str__(self) -> str:
        return f"{self.user} → {self.patient} ({self.started_at:%Y-%m-%d %H:%M})"
