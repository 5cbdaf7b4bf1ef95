"""People, structures, habilitations, audit trail and API peers (REM chapters 4 and 5)."""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dpi import codes
from dpi.validators import validate_rpps

finess_validator = RegexValidator(r"^\d[\dAB]\d{7}$", _("Un FINESS compte 9 caractères."))
adeli_validator = RegexValidator(r"^\d{9}$", _("Un numéro ADELI compte 9 chiffres."))
PATIENT_NOTICE_MAX_LENGTH = 600  # printed in the footer of every page: a few lines at most


class LegalEntity(models.Model):
    """Entité juridique, identified by its FINESS EJ."""

    finess_ej = models.CharField(_("FINESS EJ"), max_length=9, unique=True, validators=[finess_validator])
    name = models.CharField(_("raison sociale"), max_length=200)
    accepts_test_ins = models.BooleanField(
        _("structure de test"),
        default=False,
        help_text=_("Accepte les INS aux OID de test et de démonstration (1.2.250.1.213.1.4.10 et .11)."),
    )
    patient_notice = models.TextField(
        _("information des patients (RGPD)"),
        max_length=PATIENT_NOTICE_MAX_LENGTH,
        blank=True,
        help_text=_("Imprimée en pied de page des documents produits : lettre de liaison, compte rendu…"),
    )

    class Meta:
        verbose_name = _("entité juridique")
        verbose_name_plural = _("entités juridiques")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.finess_ej})"


class Site(models.Model):
    """Entité géographique, identified by its FINESS EG: every document and statistic is attributed to one."""

    legal_entity = models.ForeignKey(
        LegalEntity, on_delete=models.PROTECT, related_name="sites", verbose_name=_("entité juridique")
    )
    finess_eg = models.CharField(_("FINESS EG"), max_length=9, unique=True, validators=[finess_validator])
    name = models.CharField(_("nom"), max_length=200)
    patient_notice = models.TextField(
        _("information des patients (RGPD) propre au site"),
        max_length=PATIENT_NOTICE_MAX_LENGTH,
        blank=True,
        help_text=_("Remplace, pour ce site, celle de l'entité juridique ; vide : celle de l'entité juridique."),
    )
    print_all_first_names = models.BooleanField(
        _("imprimer tous les prénoms de naissance"),
        default=True,
        help_text=_("Sinon, les documents imprimés ne portent que le premier prénom de naissance."),
    )
    print_used_names = models.BooleanField(_("imprimer le nom et le prénom utilisés"), default=True)
    print_birth_place = models.BooleanField(_("imprimer le lieu de naissance"), default=True)

    class Meta:
        verbose_name = _("site géographique")
        verbose_name_plural = _("sites géographiques")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.finess_eg})"


class CareUnit(models.Model):
    """Unité fonctionnelle (UF) of a site."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="care_units")
    code = models.CharField(_("code UF"), max_length=20)
    name = models.CharField(_("libellé"), max_length=200)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("unité fonctionnelle")
        verbose_name_plural = _("unités fonctionnelles")
        ordering = ["site__name", "name"]
        constraints = [models.UniqueConstraint(fields=["site", "code"], name="care_unit_code_unique_per_site")]

    def __str__(self) -> str:
        return f"{self.name} [{self.code}]"

    @property
    def finess_eg(self) -> str:
        return self.site.finess_eg


class User(AbstractUser):
    """A professional of the hospital.

    ProSanté Connect (OpenID Connect) links an account on the RPPS: its ``SubjectNameID``
    claim is the national identifier ``8`` + RPPS, see :attr:`national_id`.
    """

    national_id_type = models.CharField(
        _("type d'identifiant national"),
        max_length=10,
        choices=codes.NationalIdType.choices,
        default=codes.NationalIdType.NONE,
    )
    rpps = models.CharField(_("RPPS"), max_length=11, unique=True, null=True, blank=True, validators=[validate_rpps])
    adeli = models.CharField(_("ADELI"), max_length=9, unique=True, null=True, blank=True, validators=[adeli_validator])
    profession = models.CharField(_("profession"), max_length=10, choices=codes.Profession.choices, blank=True)
    specialty = models.CharField(_("spécialité"), max_length=10, choices=codes.Specialty.choices, blank=True)
    private_id = models.CharField(
        _("identifiant privé"),
        max_length=64,
        unique=True,
        null=True,
        blank=True,
        help_text=_("Identifiant unique et stable dans l'annuaire de l'établissement (entryUUID, objectGUID)."),
    )
    email_verified_at = models.DateTimeField(_("adresse électronique vérifiée le"), null=True, blank=True)
    password_changed_at = models.DateTimeField(_("mot de passe changé le"), null=True, blank=True)
    must_change_password = models.BooleanField(
        _("changement de mot de passe exigé"),
        default=False,
        help_text=_("Le mot de passe devra être changé à la prochaine connexion."),
    )
    directory_dn = models.CharField(_("entrée de l'annuaire"), max_length=500, blank=True)
    directory_synced_at = models.DateTimeField(_("synchronisé avec l'annuaire le"), null=True, blank=True)

    class Meta:
        verbose_name = _("utilisateur")
        verbose_name_plural = _("utilisateurs")
        constraints = [
            models.CheckConstraint(
                condition=~Q(national_id_type="RPPS") | Q(rpps__isnull=False),
                name="user_rpps_required_for_rpps_type",
            ),
            models.CheckConstraint(
                condition=~Q(national_id_type="ADELI") | Q(adeli__isnull=False),
                name="user_adeli_required_for_adeli_type",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        full = f"{self.first_name} {self.last_name.upper()}".strip()
        return full or self.username

    def save(self, *args: Any, **kwargs: Any) -> None:
        """A new password (``set_password``) stamps its date, lifts a forced change and joins the history."""
        new_password = self._password is not None
        if new_password:
            self.password_changed_at = timezone.now()
            self.must_change_password = False
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "password_changed_at", "must_change_password"}
        super().save(*args, **kwargs)
        if new_password and self.has_usable_password():
            PasswordHistory.objects.create(user=self, password=self.password)

    @property
    def national_id(self) -> str:
        """Identifiant national (IDNPS): ``8`` + RPPS or ``0`` + ADELI, empty otherwise."""
        if self.national_id_type == codes.NationalIdType.RPPS and self.rpps:
            return f"8{self.rpps}"
        if self.national_id_type == codes.NationalIdType.ADELI and self.adeli:
            return f"0{self.adeli}"
        return ""


class Role(models.Model):
    """What a membership in a care unit grants."""

    class Scope(models.TextChoices):
        CARE_UNIT = "care_unit", _("patients pris en charge dans l'unité")
        SITE = "site", _("patients pris en charge sur le site de l'unité")
        LEGAL_ENTITY = "legal_entity", _("tous les patients de l'établissement")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    label = models.CharField(_("libellé"), max_length=100)
    scope = models.CharField(_("portée"), max_length=20, choices=Scope.choices, default=Scope.CARE_UNIT)
    may_break_glass = models.BooleanField(_("accès d'urgence autorisé"), default=False)

    class Meta:
        verbose_name = _("rôle")
        verbose_name_plural = _("rôles")
        ordering = ["label"]

    def __str__(self) -> str:
        return self.label


class Membership(models.Model):
    """A user's role in a care unit: the basis of every habilitation."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("utilisateur"))
    care_unit = models.ForeignKey(
        CareUnit, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("unité fonctionnelle")
    )
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("rôle"))
    valid_until = models.DateField(_("valable jusqu'au"), null=True, blank=True)
    from_directory = models.BooleanField(
        _("issue de l'annuaire"),
        default=False,
        help_text=_(
            "Accordée par un groupe de l'annuaire : la synchronisation la retire quand le groupe n'y est plus."
        ),
    )

    class Meta:
        verbose_name = _("affectation")
        verbose_name_plural = _("affectations")
        constraints = [models.UniqueConstraint(fields=["user", "care_unit", "role"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} — {self.role} — {self.care_unit}"


class AuditEvent(models.Model):
    """One row of the audit trail: who (user and RPPS, or peer), what, when, from where; the request id
    that groups one action's rows; for a change, its kind and the values before and after.

    Rows are only ever inserted (see :func:`dpi.services.audit`): the admin is read-only and, on
    PostgreSQL, a trigger refuses UPDATE and DELETE (migration ``0011``), except the ``SET NULL`` of the
    actor when a user is deleted (the frozen login and RPPS stay).
    """

    class Action(models.TextChoices):
        LOGIN_SUCCESS = "login.success", _("connexion réussie")
        LOGIN_FAILURE = "login.failure", _("échec de connexion")
        LOGIN_MFA_FAILURE = "login.mfa_failure", _("échec du second facteur")
        LOGIN_LOCKED = "login.locked", _("compte temporairement verrouillé")
        LOGOUT = "logout", _("déconnexion")
        MFA_CHANGE = "mfa.change", _("second facteur modifié")
        PATIENT_OPEN = "patient.open", _("ouverture d'un dossier patient")
        PATIENT_REFUSED = "patient.refused", _("accès à un dossier refusé")
        EMERGENCY_ACCESS = "patient.emergency_access", _("accès d'urgence (bris de glace)")
        HABILITATION_CHANGE = "habilitation.change", _("modification d'habilitation")
        USER_CHANGE = "user.change", _("modification d'utilisateur")
        STRUCTURE_CHANGE = "structure.change", _("modification de structure")
        PEER_CHANGE = "peer.change", _("modification de partenaire API")
        IDENTITY_CHANGE = "identity.change", _("modification d'identité")
        CONSENT_CHANGE = "consent.change", _("modification d'information/opposition")
        DOCUMENT_CHANGE = "document.change", _("modification de document")
        MESSAGE_REPLAY = "hl7.replay", _("rejeu de message HL7")
        DMP_READ = "dmp.read", _("consultation du DMP")
        DMP_CHANGE = "dmp.change", _("action sur le DMP (autorisation, visibilité)")
        NOTICE_ACK = "notice.acknowledge", _("prise de connaissance d'une information obligatoire")
        TRACE_EXPORT = "trace.export", _("export de traces (journal d'audit, transactions DMP)")
        INS_READ = "ins.read", _("affichage de l'INS")
        INS_EXPORT = "ins.export", _("export de l'INS (PDF, CDA, CSV, API)")
        CORRESPONDENT_CHANGE = "correspondent.change", _("modification des correspondants d'un patient")
        PASSWORD_CHANGE = "password.change", _("changement de mot de passe")
        PASSWORD_CHANGE_FAILURE = "password.change_failure", _("échec de changement de mot de passe")
        CONTACT_CHANGE = "contact.change", _("vérification ou changement de l'adresse de récupération")
        DIRECTORY_SYNC = "directory.sync", _("synchronisation avec l'annuaire")
        ACCOUNT_EXPORT = "account.export", _("export des comptes (recertification)")

    class Change(models.TextChoices):
        """What a change did, within its action (``identity.change``, ``document.change``...)."""

        ADDED = "added", _("ajout")
        CHANGED = "changed", _("modification")
        DELETED = "deleted", _("suppression")
        REMOVED = "removed", _("retrait")
        DEACTIVATED = "deactivated", _("désactivation")
        LOGGED_OUT_EVERYWHERE = "logged_out_everywhere", _("déconnexion de toutes les sessions")
        NAMED = "named", _("désignation")
        DIRECTORY = "directory", _("mise à jour depuis l'annuaire")
        REVIEWED = "reviewed", _("revue d'un accès d'urgence")
        DRAFT_CREATED = "draft_created", _("brouillon créé")
        DRAFT_UPDATED = "draft_updated", _("brouillon modifié")
        VALIDATED = "validated", _("validation")
        CORRECTION_STARTED = "correction_started", _("correction commencée")
        INTEGRATED_NEW_DOCUMENT = "integrated_new_document", _("intégration d'un nouveau document")
        INTEGRATED_NEW_VERSION = "integrated_new_version", _("intégration d'une nouvelle version")
        IDENTITY_DIFFERENCES_CONFIRMED = "identity_differences_confirmed", _("écarts d'identité confirmés")
        FILE_INTEGRATED = "file_integrated", _("fichier intégré")
        REFUSED = "refused", _("refus (règle de rédaction)")
        IDENTITY_REFUSAL_HANDLED = "identity_refusal_handled", _("refus d'identité traité")
        DMP_VISIBILITY = "dmp_visibility", _("visibilité dans le DMP")
        MADE_VISIBLE = "made_visible", _("rendu visible")
        HISTORICAL_FEEDING_ORDERED = "historical_feeding_ordered", _("alimentation historique demandée")
        FEEDING_SENT_BY_HAND = "feeding_sent_by_hand", _("envoi manuel au DMP")
        MSS_SENT_BY_HAND = "mss_sent_by_hand", _("envoi manuel par MSSanté")
        FEEDING_CANCELLED = "feeding_cancelled", _("envoi annulé")
        FEEDING_RELEASED = "feeding_released", _("envoi libéré")
        DMP_WITHDRAWAL_ORDERED = "dmp_withdrawal_ordered", _("retrait du DMP demandé")
        REQUESTED = "requested", _("demande")
        DOWNLOADED = "downloaded", _("téléchargement")

    at = models.DateTimeField(_("date"), auto_now_add=True, db_index=True)
    action = models.CharField(_("action"), max_length=40, choices=Action.choices, db_index=True)
    change = models.CharField(_("nature du changement"), max_length=40, choices=Change.choices, blank=True)
    request_id = models.UUIDField(_("requête"), null=True, blank=True, db_index=True)
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("utilisateur")
    )
    actor_username = models.CharField(_("identifiant"), max_length=150, blank=True)
    actor_rpps = models.CharField(_("RPPS"), max_length=11, blank=True)
    peer = models.CharField(_("partenaire"), max_length=100, blank=True)
    ip_address = models.GenericIPAddressField(_("adresse"), null=True, blank=True)
    object_type = models.CharField(_("type d'objet"), max_length=60, blank=True)
    object_id = models.CharField(_("identifiant d'objet"), max_length=64, blank=True)
    object_repr = models.CharField(_("objet"), max_length=200, blank=True)
    patient_id = models.BigIntegerField(_("patient"), null=True, blank=True, db_index=True)
    emergency = models.BooleanField(_("accès d'urgence"), default=False)
    before = models.JSONField(_("avant"), null=True, blank=True)
    after = models.JSONField(_("après"), null=True, blank=True)
    detail = models.JSONField(_("détail"), default=dict, blank=True)

    class Meta:
        verbose_name = _("événement d'audit")
        verbose_name_plural = _("journal d'audit")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["actor", "-at"], name="audit_actor_at"),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} {self.actor_username}"


class Peer(models.Model):
    """A system of the hospital information system calling the REST API with a token."""

    class Scope(models.TextChoices):
        PATIENTS_READ = "patients:read", _("lecture des patients et séjours")
        CONSENT_WRITE = "consent:write", _("enregistrement de l'information/opposition")
        DOCUMENTS_READ = "documents:read", _("lecture des documents")
        STATS_READ = "stats:read", _("lecture des indicateurs d'usage (aide à la décision)")

    name = models.SlugField(_("nom"), max_length=100, unique=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False, verbose_name=_("empreinte du jeton"))
    token_prefix = models.CharField(_("début du jeton"), max_length=8, editable=False)
    scopes = models.JSONField(_("portées"), default=list, blank=True)
    active = models.BooleanField(_("actif"), default=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("dernier usage"), null=True, blank=True)

    class Meta:
        verbose_name = _("partenaire API")
        verbose_name_plural = _("partenaires API")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def has_scope(self, scope: str) -> bool:
        return self.active and scope in self.scopes


class NoticeAcknowledgement(models.Model):
    """A user's acknowledgement of a versioned mandatory notice: who, which version, when, from where.

    The notice tells every user how their national identifier is used by the DMP (REM SC.DMP/CONF.11);
    its text is the template ``dpi/_mandatory_notice.html`` and :attr:`CURRENT` names its version.
    Change ``CURRENT`` whenever that text changes: every user is then asked again
    (:class:`dpi.middleware.RequireNoticeAcknowledgementMiddleware`). Rows are only ever inserted, one per
    user and version (:func:`dpi.services.acknowledge_notice`, which also writes the audit row).
    """

    CURRENT = "dmp-rpps-2026-12"

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="notice_acknowledgements", verbose_name=_("utilisateur")
    )
    notice = models.CharField(_("information (version)"), max_length=40)
    acknowledged_at = models.DateTimeField(_("date"), auto_now_add=True)
    ip_address = models.GenericIPAddressField(_("adresse"), null=True, blank=True)

    class Meta:
        verbose_name = _("prise de connaissance d'une information")
        verbose_name_plural = _("prises de connaissance des informations")
        ordering = ["-acknowledged_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "notice"], name="notice_ack_unique_per_user")]

    def __str__(self) -> str:
        return f"{self.user} — {self.notice}"


class PasswordHistory(models.Model):
    """The hashes of a user's passwords, newest first: a new password may not be one of the last N
    (``PASSWORD_HISTORY_COUNT``, :class:`dpi.accounts.passwords.PasswordHistoryValidator`)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(_("empreinte"), max_length=128)
    created_at = models.DateTimeField(_("date"), auto_now_add=True)

    class Meta:
        verbose_name = _("ancien mot de passe")
        verbose_name_plural = _("anciens mots de passe")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user} — {self.created_at:%Y-%m-%d}"


class ContactVerification(models.Model):
    """A code sent to an e-mail address before it becomes the account's recovery contact (REM IE.31, IE.32).

    Only the code's hash is kept; a code expires after ``CONTACT_CODE_MINUTES`` and after
    ``CONTACT_CODE_MAX_ATTEMPTS`` wrong tries.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="contact_verifications")
    email = models.EmailField(_("adresse à vérifier"))
    code_hash = models.CharField(max_length=64, editable=False)  # HMAC with the secret key, never the code
    created_at = models.DateTimeField(_("envoyé le"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expire le"))
    attempts = models.PositiveSmallIntegerField(_("essais"), default=0)
    verified_at = models.DateTimeField(_("vérifiée le"), null=True, blank=True)
    cancelled = models.BooleanField(_("remplacée"), default=False)

    class Meta:
        verbose_name = _("vérification d'adresse")
        verbose_name_plural = _("vérifications d'adresse")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user} — {self.email}"


class DirectoryGroupMapping(models.Model):
    """A group of the hospital's directory (LDAP, Active Directory) granting a role in a care unit."""

    group_dn = models.CharField(
        _("groupe de l'annuaire (DN)"), max_length=500, help_text=_("Ex. cn=med-chir,ou=groups,dc=hopital,dc=fr")
    )
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="+", verbose_name=_("rôle"))
    care_unit = models.ForeignKey(
        CareUnit, on_delete=models.CASCADE, related_name="+", verbose_name=_("unité fonctionnelle")
    )

    class Meta:
        verbose_name = _("correspondance de groupe d'annuaire")
        verbose_name_plural = _("correspondances des groupes d'annuaire")
        ordering = ["group_dn"]
        constraints = [
            models.UniqueConstraint(fields=["group_dn", "role", "care_unit"], name="directory_mapping_unique")
        ]

    def __str__(self) -> str:
        return f"{self.group_dn} → {self.role} / {self.care_unit}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.group_dn = self.group_dn.strip().lower()  # DNs compare case-insensitively
        super().save(*args, **kwargs)


class DirectorySyncRun(models.Model):
    """One synchronisation with the directory: when, why, what changed, and each entry it could not take."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("en attente")
        RUNNING = "running", _("en cours")
        DONE = "done", _("terminée")
        FAILED = "failed", _("échouée")

    requested_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("demandée par")
    )
    requested_at = models.DateTimeField(_("demandée le"), auto_now_add=True)
    finished_at = models.DateTimeField(_("terminée le"), null=True, blank=True)
    status = models.CharField(_("état"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    created = models.PositiveIntegerField(_("comptes créés"), default=0)
    updated = models.PositiveIntegerField(_("comptes modifiés"), default=0)
    deactivated = models.PositiveIntegerField(_("comptes désactivés"), default=0)
    rejected = models.PositiveIntegerField(_("entrées refusées"), default=0)
    error = models.TextField(_("erreur"), blank=True)
    report = models.JSONField(_("rapport par entrée"), default=list, blank=True)
    job = models.OneToOneField(
        "Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("tâche de fond")
    )

    class Meta:
        verbose_name = _("synchronisation avec l'annuaire")
        verbose_name_plural = _("synchronisations avec l'annuaire")
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"{timezone.localtime(self.requested_at):%Y-%m-%d %H:%M} {self.get_status_display()}"


class Job(models.Model):
    """One piece of long work that is not a feeding order (a directory load, an LDAP synchronisation, a
    statistics or portability export): what the UI shows of it, never the broker's state.

    The work's own row (:class:`directory.models.DirectoryLoad`, :class:`DirectorySyncRun`,
    :class:`documents.models.PortabilityExport`) keeps what is particular to it and points here; the
    lifecycle (queued -> running -> done | failed, attempts, last error, progress) is written by
    :mod:`dpi.jobs`.
    """

    class Kind(models.TextChoices):
        DIRECTORY_LOAD = "directory_load", _("chargement de l'Annuaire Santé")
        DIRECTORY_SYNC = "directory_sync", _("synchronisation avec l'annuaire (LDAP)")
        STATS_EXPORT = "stats_export", _("export des indicateurs d'usage")
        PORTABILITY_EXPORT = "portability_export", _("export de portabilité")

    class Status(models.TextChoices):
        QUEUED = "queued", _("en attente")
        RUNNING = "running", _("en cours")
        DONE = "done", _("terminé")
        FAILED = "failed", _("échec")

    kind = models.CharField(_("nature"), max_length=20, choices=Kind.choices)
    status = models.CharField(_("état"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(_("tentatives"), default=0)
    last_error = models.TextField(_("dernière erreur"), blank=True)
    done = models.PositiveIntegerField(_("fait"), default=0)
    total = models.PositiveIntegerField(_("à faire"), null=True, blank=True, help_text=_("vide : inconnu"))
    acting_user = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("lancé par")
    )
    request_id = models.UUIDField(_("requête"), null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(_("demandé le"), auto_now_add=True)
    started_at = models.DateTimeField(_("commencé le"), null=True, blank=True)
    finished_at = models.DateTimeField(_("terminé le"), null=True, blank=True)
    result = models.JSONField(_("résultat"), default=dict, blank=True)

    class Meta:
        verbose_name = _("tâche de fond")
        verbose_name_plural = _("tâches de fond")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["acting_user", "kind", "-created_at"], name="job_user_kind")]
        constraints = [
            models.CheckConstraint(condition=~Q(status="failed") | ~Q(last_error=""), name="job_failure_has_error"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} n° {self.pk} ({self.get_status_display()})"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)


class AccountEvent(AuditEvent):
    """The audit rows of the accounts' life (REM SC.SSI/IAM.91): sign-ins per provider, passwords, identity,
    permissions, contacts, directory; browsed and exported by administrators."""

    ACTIONS = (
        AuditEvent.Action.LOGIN_SUCCESS,
        AuditEvent.Action.LOGIN_FAILURE,
        AuditEvent.Action.LOGIN_MFA_FAILURE,
        AuditEvent.Action.LOGIN_LOCKED,
        AuditEvent.Action.LOGOUT,
        AuditEvent.Action.MFA_CHANGE,
        AuditEvent.Action.PASSWORD_CHANGE,
        AuditEvent.Action.PASSWORD_CHANGE_FAILURE,
        AuditEvent.Action.USER_CHANGE,
        AuditEvent.Action.HABILITATION_CHANGE,
        AuditEvent.Action.CONTACT_CHANGE,
        AuditEvent.Action.DIRECTORY_SYNC,
        AuditEvent.Action.ACCOUNT_EXPORT,
    )

    class Meta:
        proxy = True
        verbose_name = _("trace du cycle de vie des comptes")
        verbose_name_plural = _("traces du cycle de vie des comptes")
