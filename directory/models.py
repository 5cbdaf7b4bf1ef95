"""Correspondents: the professionals and organisations documents are addressed to (HOP/va1.05, DOC/va1.06).

A correspondent is the hospital's own record of a recipient: entered by hand or filled from the national
directory (Annuaire Santé, ``docs/annuaire.md``), which keeps it up to date by its RPPS. A patient names some
of them: their general practitioner (médecin traitant) and referring doctor (médecin adresseur), planned as
recipients of every document written for them.
"""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dpi.validators import validate_rpps

postal_code_validator = RegexValidator(r"^\d[\dAB]\d{3}$", _("Un code postal compte 5 caractères."))


class Civility(models.TextChoices):
    """JDV_J245-Civilite-CISIS: the only prefixes a CDA name may carry."""

    NONE = "", "—"
    M = "M", _("Monsieur")
    MME = "MME", _("Madame")


class Title(models.TextChoices):
    """JDV_J246-Titre-CISIS: the only suffixes a CDA name may carry."""

    NONE = "", "—"
    DR = "DR", _("Docteur")
    PR = "PR", _("Professeur")


class Correspondent(models.Model):
    """A professional (with an RPPS when known) or an organisation that receives documents."""

    class Source(models.TextChoices):
        LOCAL = "local", _("saisi dans le DPI")
        DIRECTORY = "annuaire", _("Annuaire Santé")

    rpps = models.CharField(_("RPPS"), max_length=11, blank=True, db_index=True, validators=[validate_rpps])
    civility = models.CharField(_("civilité"), max_length=3, choices=Civility.choices, blank=True)
    title = models.CharField(_("titre"), max_length=2, choices=Title.choices, blank=True)
    family_name = models.CharField(_("nom d'exercice"), max_length=100, blank=True)
    given_name = models.CharField(_("prénom d'exercice"), max_length=100, blank=True)
    profession = models.CharField(_("profession"), max_length=100, blank=True)
    specialty = models.CharField(_("spécialité"), max_length=100, blank=True)
    organization = models.CharField(_("structure"), max_length=200, blank=True)
    organization_id = models.CharField(
        _("identifiant national de structure"),
        max_length=20,
        blank=True,
        help_text=_("« 1 » suivi du FINESS, ou « 3 » suivi du SIRET, comme dans l'Annuaire Santé."),
    )
    address = models.CharField(_("adresse"), max_length=200, blank=True)
    postal_code = models.CharField(_("code postal"), max_length=5, blank=True, validators=[postal_code_validator])
    city = models.CharField(_("commune"), max_length=100, blank=True)
    mss_address = models.EmailField(_("adresse MSSanté"), max_length=254, blank=True)
    phone = models.CharField(_("téléphone"), max_length=20, blank=True)
    source = models.CharField(_("origine"), max_length=10, choices=Source.choices, default=Source.LOCAL)
    active = models.BooleanField(_("actif"), default=True)
    updated_at = models.DateTimeField(_("mis à jour le"), auto_now=True)

    class Meta:
        verbose_name = _("correspondant")
        verbose_name_plural = _("correspondants")
        ordering = ["family_name", "given_name", "organization"]
        constraints = [
            models.CheckConstraint(condition=~Q(family_name="") | ~Q(organization=""), name="correspondent_named"),
        ]
        indexes = [models.Index(fields=["family_name", "given_name"], name="correspondent_name")]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """``Dr Claire MOREAU`` for a person, the structure's name for an organisation."""
        if not self.family_name:
            return self.organization
        title = self.get_title_display() if self.title == Title.PR else ("Dr" if self.title == Title.DR else "")
        return " ".join(part for part in (title, self.given_name, self.family_name.upper()) if part)


class PatientCorrespondent(models.Model):
    """A correspondent the patient named: planned recipient of every document written for the patient."""

    class Role(models.TextChoices):
        TREATING = "traitant", _("médecin traitant")
        REFERRING = "adresseur", _("médecin adresseur")
        OTHER = "autre", _("autre correspondant")

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.CASCADE, related_name="correspondents", verbose_name=_("patient")
    )
    correspondent = models.ForeignKey(
        Correspondent, on_delete=models.PROTECT, related_name="patients", verbose_name=_("correspondant")
    )
    role = models.CharField(_("rôle"), max_length=10, choices=Role.choices)
    since = models.DateTimeField(_("depuis"), auto_now_add=True)

    class Meta:
        verbose_name = _("correspondant du patient")
        verbose_name_plural = _("correspondants du patient")
        ordering = ["role", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "correspondent"], name="patient_correspondent_once"),
            models.UniqueConstraint(
                fields=["patient", "role"],
                condition=Q(role__in=["traitant", "adresseur"]),
                name="patient_one_treating_one_referring",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} : {self.correspondent}"
