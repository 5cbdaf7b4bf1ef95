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


class DirectoryPerson(models.Model):
    """A health professional of the national directory (Annuaire Santé), as the last extract loaded said."""

    rpps = models.CharField(_("RPPS"), max_length=11, unique=True)
    national_id = models.CharField(_("identification nationale"), max_length=12)
    civility = models.CharField(_("civilité"), max_length=3, blank=True)
    title = models.CharField(_("civilité d'exercice"), max_length=3, blank=True)
    family_name = models.CharField(_("nom d'exercice"), max_length=100)
    given_name = models.CharField(_("prénom d'exercice"), max_length=100, blank=True)
    profession_code = models.CharField(_("code profession"), max_length=4, blank=True)
    profession = models.CharField(_("profession"), max_length=100, blank=True)
    specialty_code = models.CharField(_("code savoir-faire"), max_length=10, blank=True)
    specialty = models.CharField(_("savoir-faire"), max_length=150, blank=True)
    row_hash = models.CharField(max_length=32)
    active = models.BooleanField(_("présent dans le dernier extrait"), default=True)
    updated_at = models.DateTimeField(_("mis à jour le"))

    class Meta:
        verbose_name = _("professionnel de l'Annuaire Santé")
        verbose_name_plural = _("professionnels de l'Annuaire Santé")
        indexes = [models.Index(fields=["family_name", "given_name"], name="directory_person_name")]

    def __str__(self) -> str:
        return f"{self.given_name} {self.family_name} ({self.rpps})"


class PracticeSituation(models.Model):
    """One line of the extract: a professional's activity in a structure (situation d'exercice)."""

    key = models.CharField(max_length=32, unique=True, help_text=_("empreinte de la personne et de l'activité"))
    person = models.ForeignKey(
        DirectoryPerson, on_delete=models.CASCADE, to_field="rpps", db_column="rpps", related_name="situations"
    )
    mode = models.CharField(_("mode d'exercice"), max_length=60, blank=True)
    role = models.CharField(_("rôle"), max_length=100, blank=True)
    structure_id = models.CharField(_("identifiant de structure"), max_length=20, blank=True)
    finess_site = models.CharField(_("FINESS du site"), max_length=9, blank=True)
    finess_ej = models.CharField(_("FINESS juridique"), max_length=9, blank=True)
    siret = models.CharField(_("SIRET"), max_length=14, blank=True)
    organization = models.CharField(_("raison sociale"), max_length=200, blank=True)
    address = models.CharField(_("adresse"), max_length=200, blank=True)
    postal_code = models.CharField(_("code postal"), max_length=5, blank=True)
    city = models.CharField(_("commune"), max_length=100, blank=True)
    phone = models.CharField(_("téléphone"), max_length=20, blank=True)
    email = models.CharField(_("e-mail"), max_length=254, blank=True)
    row_hash = models.CharField(max_length=32)
    active = models.BooleanField(_("présente dans le dernier extrait"), default=True)
    updated_at = models.DateTimeField(_("mis à jour le"))

    class Meta:
        verbose_name = _("situation d'exercice")
        verbose_name_plural = _("situations d'exercice")

    def __str__(self) -> str:
        return f"{self.person_id} — {self.organization}"


class StagedLine(models.Model):
    """A valid line of the extract being loaded, copied here before the set-based merge (no constraint, no
    index: the merge joins it whole; emptied when a new load starts). Keys are unique (duplicates are
    refused while reading) and the first line of each RPPS is flagged, so the merge needs no grouping."""

    line_no = models.IntegerField()
    first_line = models.BooleanField(help_text="first line of this RPPS in the file")
    key = models.CharField(max_length=32)
    person_hash = models.CharField(max_length=32)
    row_hash = models.CharField(max_length=32)
    rpps = models.CharField(max_length=11)
    national_id = models.CharField(max_length=12)
    civility = models.CharField(max_length=3)
    title = models.CharField(max_length=3)
    family_name = models.CharField(max_length=100)
    given_name = models.CharField(max_length=100)
    profession_code = models.CharField(max_length=4)
    profession = models.CharField(max_length=100)
    specialty_code = models.CharField(max_length=10)
    specialty = models.CharField(max_length=150)
    mode = models.CharField(max_length=60)
    role = models.CharField(max_length=100)
    structure_id = models.CharField(max_length=20)
    finess_site = models.CharField(max_length=9)
    finess_ej = models.CharField(max_length=9)
    siret = models.CharField(max_length=14)
    organization = models.CharField(max_length=200)
    address = models.CharField(max_length=200)
    postal_code = models.CharField(max_length=5)
    city = models.CharField(max_length=100)
    phone = models.CharField(max_length=20)
    email = models.CharField(max_length=254)

    def __str__(self) -> str:
        return f"ligne {self.line_no}"


class DirectoryLoad(models.Model):
    """One load of the extract: a background job the admin follows (progress, report, refused lines)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("en attente")
        RUNNING = "running", _("en cours")
        DONE = "done", _("terminé")
        FAILED = "failed", _("échec")

    class Trigger(models.TextChoices):
        MANUAL = "manual", _("lancé par un administrateur")
        SCHEDULE = "schedule", _("planifié")

    path = models.CharField(_("fichier"), max_length=500)
    status = models.CharField(_("état"), max_length=10, choices=Status.choices, default=Status.PENDING)
    trigger = models.CharField(_("origine"), max_length=10, choices=Trigger.choices, default=Trigger.MANUAL)
    requested_by = models.ForeignKey(
        "dpi.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("demandé par")
    )
    created_at = models.DateTimeField(_("demandé le"), auto_now_add=True)
    started_at = models.DateTimeField(_("commencé le"), null=True, blank=True)
    finished_at = models.DateTimeField(_("terminé le"), null=True, blank=True)
    lines_read = models.IntegerField(
        _("lignes lues"), default=0, help_text=_("dernière ligne traitée : une reprise repart de la suivante")
    )
    refused = models.IntegerField(_("lignes refusées"), default=0)
    ignored = models.IntegerField(_("lignes ignorées (identifiant ADELI)"), default=0)
    added = models.IntegerField(_("situations ajoutées"), default=0)
    changed = models.IntegerField(_("situations modifiées"), default=0)
    deactivated = models.IntegerField(_("situations désactivées"), default=0)
    persons = models.JSONField(_("professionnels (ajoutés, modifiés, désactivés)"), default=dict, blank=True)
    refused_lines = models.JSONField(_("lignes refusées (numéro, motif, contenu)"), default=list, blank=True)
    updates = models.JSONField(_("mises à jour des utilisateurs et correspondants"), default=list, blank=True)
    error = models.TextField(_("erreur"), blank=True)
    job = models.OneToOneField(
        "dpi.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("tâche de fond")
    )

    class Meta:
        verbose_name = _("chargement de l'Annuaire Santé")
        verbose_name_plural = _("chargements de l'Annuaire Santé")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["status"], condition=Q(status="running"), name="one_directory_load_running")
        ]

    def __str__(self) -> str:
        return f"{self.path} ({self.get_status_display()})"

    @property
    def seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class DirectorySchedule(models.Model):
    """How often the extract is loaded (ANN/va1.04): one row, set by an administrator."""

    enabled = models.BooleanField(_("chargement planifié"), default=False)
    every_hours = models.PositiveIntegerField(_("toutes les (heures)"), default=24)
    path = models.CharField(
        _("fichier à charger"), max_length=500, help_text=_("chemin de l'extrait déposé sur le serveur")
    )

    class Meta:
        verbose_name = _("planification du chargement de l'Annuaire Santé")
        verbose_name_plural = _("planification du chargement de l'Annuaire Santé")

    def __str__(self) -> str:
        return f"{self.path} / {self.every_hours} h"
