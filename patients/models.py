"""Patient identities, care episodes and emergency accesses."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dpi.models import CareUnit
from patients.ins import INS_AUTHORITIES, InsAuthority
from patients.names import name_key


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


class DmpStatus(models.TextChoices):
    ACTIVE = "ACTIF", _("DMP ouvert")
    CLOSED = "FERME", _("DMP fermé")
    NONE = "INEXISTANT", _("pas de DMP")


# The names a search reads (REM INS/va1.25) and the key columns kept beside them (patients/names.py).
NAME_FIELDS = frozenset({"birth_name", "used_name", "first_names"})
NAME_KEY_FIELDS = ("birth_name_key", "used_name_key", "first_names_key", "first_name_key")


def name_keys(**names: str) -> dict[str, str]:
    """The key columns of the names given (``birth_name``, ``used_name``, ``first_names``);
    ``first_name_key`` is the key of the first birth first name, that homonyms share."""
    keys = {}
    if "birth_name" in names:
        keys["birth_name_key"] = name_key(names["birth_name"], 100)
    if "used_name" in names:
        keys["used_name_key"] = name_key(names["used_name"], 100)
    if "first_names" in names:
        keys["first_names_key"] = name_key(names["first_names"], 200)
        keys["first_name_key"] = name_key(names["first_names"].split(" ")[0], 100)
    return keys


class PatientQuerySet(models.QuerySet["Patient"]):
    """Writes that bypass :meth:`Patient.save` keep the name keys too, or refuse."""

    def bulk_create(self, objs: Iterable[Patient], *args: Any, **kwargs: Any) -> list[Patient]:
        objs = list(objs)
        for patient in objs:
            patient.refresh_name_keys()
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs: Iterable[Patient], fields: Sequence[str], *args: Any, **kwargs: Any) -> int:
        objs = list(objs)
        if NAME_FIELDS.intersection(fields):
            for patient in objs:
                patient.refresh_name_keys()
            fields = [*fields, *(key for key in NAME_KEY_FIELDS if key not in fields)]
        return super().bulk_update(objs, fields, *args, **kwargs)

    def update(self, **kwargs: Any) -> int:
        names = {name: kwargs[name] for name in NAME_FIELDS.intersection(kwargs)}
        if names and not kwargs.keys() >= name_keys(**dict.fromkeys(names, "")).keys():  # bulk_update gives both
            if not all(isinstance(value, str) for value in names.values()):
                raise TypeError("Patient names are updated with text values or by save(), so that their keys follow.")
            kwargs.update(name_keys(**names))
        return super().update(**kwargs)


class Patient(models.Model):
    """A patient identity, known locally by its IPP and, once qualified, by its INS.

    Beside each name a search reads, a key column (:func:`patients.names.name_key`) kept by
    :meth:`save` and :class:`PatientQuerySet`: searches compare keys, by prefix, through an index.
    """

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
    reliability_codes = models.CharField(
        _("fiabilité (PID-32)"), max_length=100, blank=True, help_text=_("codes reçus, séparés par des espaces")
    )
    acquisition_mode = models.CharField(_("mode d'obtention (ZFD-5)"), max_length=10, blank=True)
    insi_called_at = models.DateField(_("appel INSi (ZFD-6)"), null=True, blank=True)
    id_document = models.CharField(_("justificatif d'identité (ZFD-7)"), max_length=4, blank=True)
    dmp_status = models.CharField(_("statut du DMP (ZFA-1)"), max_length=12, choices=DmpStatus.choices, blank=True)
    dmp_status_at = models.DateTimeField(_("statut du DMP relevé le (ZFA-2)"), null=True, blank=True)
    dmp_closed_at = models.DateTimeField(_("DMP fermé le (ZFA-3)"), null=True, blank=True)
    refuses_patient_mailbox_since = models.DateTimeField(
        _("refuse l'envoi dans sa messagerie de Mon espace santé depuis"),
        null=True,
        blank=True,
        help_text=_("Recueilli dans le dossier (MSS/va1.20) : aucun document n'est alors envoyé sur ce canal."),
    )
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="absorbed",
        verbose_name=_("fusionné dans"),
    )
    birth_name_key = models.CharField(
        _("clé de recherche du nom de naissance"), max_length=100, blank=True, editable=False
    )
    used_name_key = models.CharField(_("clé de recherche du nom utilisé"), max_length=100, blank=True, editable=False)
    first_names_key = models.CharField(
        _("clé de recherche des prénoms de naissance"), max_length=200, blank=True, editable=False
    )
    first_name_key = models.CharField(
        _("clé de recherche du premier prénom de naissance"), max_length=100, blank=True, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("créé le"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("mis à jour le"))

    objects = PatientQuerySet.as_manager()

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
            # Prefix searches on the keys: LIKE 'KEY%' needs the pattern operator class on PostgreSQL
            # (whatever the database's collation); other databases ignore it.
            models.Index(fields=["birth_name_key"], name="patient_birth_name_key", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["used_name_key"], name="patient_used_name_key", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["first_names_key"], name="patient_first_names_key", opclasses=["varchar_pattern_ops"]),
            # Birth date alone or with initials (REM INS/va1.02), and the homonyms of an identity.
            models.Index(fields=["birth_date", "birth_name_key", "first_name_key"], name="patient_homonyms"),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.ipp})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.refresh_name_keys()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and NAME_FIELDS.intersection(update_fields):
            kwargs["update_fields"] = {*update_fields, *NAME_KEY_FIELDS}
        super().save(*args, **kwargs)

    def refresh_name_keys(self) -> None:
        keys = name_keys(birth_name=self.birth_name, used_name=self.used_name, first_names=self.first_names)
        for field, key in keys.items():
            setattr(self, field, key)

    @property
    def age(self) -> int | None:
        """Age in full years today (Europe/Paris), or None without a birth date."""
        if self.birth_date is None:
            return None
        today, born = timezone.localdate(), self.birth_date
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))

    @property
    def age_label(self) -> str:
        """The age as a clinician says it: years, or months then days for a baby."""
        if self.birth_date is None:
            return ""
        today = timezone.localdate()
        if self.age:
            return f"{self.age} an{'s' if self.age > 1 else ''}"
        months = (today.year - self.birth_date.year) * 12 + today.month - self.birth_date.month
        months -= today.day < self.birth_date.day
        if months >= 1:
            return f"{months} mois"
        days = (today - self.birth_date).days
        return f"{days} jour{'s' if days > 1 else ''}"

    @property
    def first_name(self) -> str:
        """First given name: the first item of the birth first-names list."""
        return self.first_names.split(" ")[0] if self.first_names else ""

    @property
    def birth_identity(self) -> str:
        """Birth name and first birth first name, the traits identity vigilance names a patient by."""
        return f"{self.birth_name.upper()} {self.first_name}".strip()

    @property
    def used_identity(self) -> str:
        """Used name and used first name where they differ from the birth traits (empty otherwise)."""
        name = self.used_name if self.used_name and self.used_name.upper() != self.birth_name.upper() else ""
        first = self.used_first_name if self.used_first_name and self.used_first_name != self.first_name else ""
        return f"{name.upper()} {first}".strip()

    @property
    def display_name(self) -> str:
        """Plain text (titles, audit, admin): the birth traits first, the used names beside them, never
        instead of them (REM INS/va1.36): ``DUPONT MARIE (utilisé : MARTIN)``."""
        used = self.used_identity
        return f"{self.birth_identity} (utilisé : {used})" if used else self.birth_identity

    @property
    def ins_authority(self) -> InsAuthority | None:
        return INS_AUTHORITIES.get(self.ins_oid) if self.ins else None


class Episode(models.Model):
    """A care episode (venue), identified by its visit number (PV1-19)."""

    class Kind(models.TextChoices):
        INPATIENT = "hospitalisation", _("Hospitalisation complète")
        AMBULATORY = "ambulatoire", _("Ambulatoire")
        OUTPATIENT = "consultation", _("Consultation externe")
        EMERGENCY = "urgence", _("Urgences")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="episodes")
    care_episode = models.ForeignKey(
        "CareEpisode",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="visits",
        verbose_name=_("épisode de soins"),
    )
    nda = models.CharField(_("numéro de dossier administratif (NDA)"), max_length=64, blank=True)
    visit_number = models.CharField(_("numéro de venue"), max_length=64)
    visit_authority = models.CharField(_("autorité du numéro de venue"), max_length=100, blank=True)
    kind = models.CharField(_("type de prise en charge"), max_length=20, choices=Kind.choices)
    care_unit = models.ForeignKey(
        CareUnit, on_delete=models.PROTECT, related_name="episodes", verbose_name=_("unité responsable")
    )
    admitted_at = models.DateTimeField(_("entrée"), null=True, blank=True)
    discharged_at = models.DateTimeField(_("sortie"), null=True, blank=True)
    pre_admission = models.BooleanField(_("pré-admission"), default=False)
    cancelled = models.BooleanField(_("annulé"), default=False)
    # The denominator of the operative report's indicators (DSR 3.2.7, NB 3; docs/statistics.md)
    surgical = models.BooleanField(_("activité chirurgicale"), default=False)

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

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="emergency_accesses",
        verbose_name=_("utilisateur"),
    )
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="emergency_accesses")
    reason = models.TextField(_("motif"))
    started_at = models.DateTimeField(_("début"), auto_now_add=True)
    expires_at = models.DateTimeField(_("fin"))
    reviewed_at = models.DateTimeField(_("revu le"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("revu par"),
    )  # fmt: skip

    class Meta:
        verbose_name = _("accès d'urgence")
        verbose_name_plural = _("accès d'urgence")
        ordering = ["-started_at"]
        permissions = [
            ("review_emergency_access", _("Revoit tous les accès d'urgence (délégué à la protection des données)")),
            ("review_unit_emergency_access", _("Revoit les accès d'urgence des membres de ses unités (chef d'unité)")),
        ]
        indexes = [models.Index(fields=["user", "patient", "expires_at"], name="emergency_user_patient")]
        constraints = [models.CheckConstraint(condition=~Q(reason=""), name="emergency_reason_required")]

    def __str__(self) -> str:
        return f"{self.user} → {self.patient} ({self.started_at:%Y-%m-%d %H:%M})"


class CareEpisode(models.Model):
    """An episode of care ("épisode de soins"): the visits the patient's information and
    opposition apply to. See docs/decisions.md for how visits are grouped."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="care_episodes")
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("créé le"))

    class Meta:
        verbose_name = _("épisode de soins")
        verbose_name_plural = _("épisodes de soins")

    def __str__(self) -> str:
        return f"Épisode de soins {self.pk}"


class Movement(models.Model):
    """A movement of a visit (ZBE segment): admission, transfer, discharge... with its history."""

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="movements", verbose_name=_("venue"))
    movement_id = models.CharField(_("identifiant du mouvement (ZBE-1)"), max_length=64)
    trigger = models.CharField(_("événement"), max_length=3)
    nature = models.CharField(_("nature (ZBE-9)"), max_length=5, blank=True)
    started_at = models.DateTimeField(_("date du mouvement (ZBE-2)"), null=True, blank=True)
    medical_unit = models.ForeignKey(
        CareUnit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("UF de responsabilité médicale"),
    )
    nursing_unit = models.ForeignKey(
        CareUnit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("UF de soins"),
    )
    cancelled = models.BooleanField(_("annulé"), default=False)
    message = models.ForeignKey(
        "hl7.Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("message"),
    )
    updated_by = models.ForeignKey(
        "hl7.Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dernière correction"),
    )

    class Meta:
        verbose_name = _("mouvement")
        verbose_name_plural = _("mouvements")
        ordering = ["started_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["episode", "movement_id"], name="movement_id_unique_per_episode")
        ]

    def __str__(self) -> str:
        return f"{self.trigger} {self.movement_id}"


class IdentityEvent(models.Model):
    """History of an identity: creation, updates, identifier changes, merges."""

    class Kind(models.TextChoices):
        CREATED = "created", _("création")
        UPDATED = "updated", _("mise à jour")
        INS_REMOVED = "ins_removed", _("INS supprimé")
        IDENTIFIER_CHANGED = "identifier_changed", _("changement d'identifiant")
        MERGED = "merged", _("fusion (identité conservée)")
        ABSORBED = "absorbed", _("fusion (identité absorbée)")

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="identity_events")
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    at = models.DateTimeField(_("date"), auto_now_add=True)
    message = models.ForeignKey("hl7.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("auteur"),
    )
    changes = models.JSONField(_("modifications"), default=dict, blank=True)
    note = models.CharField(_("remarque"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("événement d'identité")
        verbose_name_plural = _("historique des identités")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"
