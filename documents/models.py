"""Health documents: versions (CDA id, setId, versionNumber, relatedDocument), provenance, export status."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from documents.types import SEGUR_TYPES
from dpi.codes import Profession

TYPE_CHOICES = [(segur.code, segur.label) for segur in SEGUR_TYPES.values()]


class Provenance(models.TextChoices):
    PRODUCED = "produced", _("Produit dans le DPI")
    DMP = "dmp", _("Importé du DMP")
    MSS = "mss", _("Reçu par MSSanté")
    MANUAL = "manual", _("Importé manuellement")


class Status(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    VALIDATED = "validated", _("Validé")
    REPLACED = "replaced", _("Remplacé")
    DELETED = "deleted", _("Supprimé")


class Channel(models.TextChoices):
    DMP = "dmp", _("DMP")
    MSS_PRO = "mss_pro", _("MSSanté professionnels")
    MSS_PATIENT = "mss_patient", _("MSSanté patient")


class ExportState(models.TextChoices):
    NOT_SENT = "not_sent", _("Non envoyé")
    HELD = "held", _("Bloqué")
    PENDING = "pending", _("En attente")
    SENT = "sent", _("Envoyé")
    ACKNOWLEDGED = "acknowledged", _("Accusé de réception")
    READ = "read", _("Lu")
    WITHDRAWN = "withdrawn", _("Supprimé")
    FAILED = "failed", _("Échec")


class Document(models.Model):
    """A document of a patient's file; its content lives in its versions."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="documents")
    episode = models.ForeignKey(
        "patients.Episode",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="documents",
        verbose_name=_("venue"),
    )
    set_id = models.CharField(_("setId"), max_length=128, db_index=True)
    type_code = models.CharField(_("type (LOINC)"), max_length=20)
    type_label = models.CharField(_("libellé du type"), max_length=200)
    title = models.CharField(_("titre"), max_length=250)
    act_date = models.DateTimeField(_("date de l'acte"))
    act_end = models.DateTimeField(_("fin de l'acte"), null=True, blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    provenance = models.CharField(_("provenance"), max_length=10, choices=Provenance.choices)
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("auteur"),
    )
    author_name = models.CharField(_("auteur"), max_length=200, blank=True)
    author_national_id = models.CharField(_("identifiant national de l'auteur"), max_length=20, blank=True)
    author_role = models.CharField(_("profession / spécialité"), max_length=100, blank=True)
    author_organization = models.CharField(_("structure de l'auteur"), max_length=200, blank=True)
    care_unit = models.ForeignKey(
        "dpi.CareUnit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("unité fonctionnelle"),
    )
    finess_eg = models.CharField(_("FINESS géographique"), max_length=9, blank=True)
    masked_to_professionals = models.BooleanField(_("masqué aux professionnels"), default=False)
    invisible_to_patient = models.BooleanField(_("invisible pour le patient"), default=False)
    invisible_to_legal_representatives = models.BooleanField(
        _("invisible pour les représentants légaux"), default=False
    )
    hold_sending = models.BooleanField(_("envoi bloqué par l'utilisateur"), default=False)
    mss_recipients = models.JSONField(_("destinataires MSSanté (professionnels)"), default=list, blank=True)
    mss_to_patient = models.BooleanField(_("envoyer au patient par MSSanté"), default=False)
    patient_may_reply = models.BooleanField(
        _("le patient peut répondre"),
        default=False,
        help_text=_("Sinon le message envoyé à Mon espace santé ferme la réponse (NTE « FIN »)."),
    )
    recipients = models.JSONField(
        _("destinataires prévus"),
        default=list,
        blank=True,
        help_text=_("Les correspondants nommés dans le document (CDA et PDF), tels qu'à l'enregistrement."),
    )
    fields = models.JSONField(_("contenu structuré"), default=dict, blank=True)
    current_version = models.ForeignKey(
        "DocumentVersion",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("version actuelle"),
    )

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["-act_date", "-pk"]
        indexes = [
            models.Index(fields=["patient", "-act_date"], name="document_patient_act"),
            models.Index(fields=["patient", "type_code", "-act_date"], name="document_patient_type"),
        ]

    def __str__(self) -> str:
        return f"{self.type_label} — {self.title}"

    @property
    def is_locked(self) -> bool:
        return self.status != Status.DRAFT


class DocumentVersion(models.Model):
    """One version: CDA ``id`` (root, extension), ``versionNumber``, the version it replaces, its CDA and PDF."""

    class Level(models.TextChoices):
        N1 = "N1", _("CDA R2 niveau 1 (PDF)")
        N3 = "N3", _("CDA R2 niveau 3 (structuré)")

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="versions")
    version_number = models.PositiveIntegerField(_("versionNumber"))
    cda_id_root = models.CharField(_("id (root)"), max_length=128)
    cda_id_extension = models.CharField(_("id (extension)"), max_length=128, blank=True)
    replaces = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("remplace")
    )
    level = models.CharField(_("niveau"), max_length=2, choices=Level.choices, default=Level.N1)
    cda = models.BinaryField(_("CDA"), blank=True, default=b"")
    pdf = models.BinaryField(_("PDF"), blank=True, default=b"")
    stylesheet = models.BinaryField(_("feuille de style du producteur"), blank=True, default=b"")
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    validated_at = models.DateTimeField(_("validée le"), null=True, blank=True)
    validated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("validé par"),
    )

    class Meta:
        verbose_name = _("version de document")
        verbose_name_plural = _("versions de document")
        ordering = ["-version_number"]
        constraints = [
            models.UniqueConstraint(fields=["document", "version_number"], name="document_version_unique"),
            models.UniqueConstraint(fields=["cda_id_root", "cda_id_extension"], name="document_cda_id_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.document} v{self.version_number}"


class ExportStatus(models.Model):
    """Where a document stands on one channel (and recipient): filled by the feeding issues."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="exports")
    channel = models.CharField(_("canal"), max_length=12, choices=Channel.choices)
    recipient = models.CharField(_("destinataire"), max_length=254, blank=True)
    state = models.CharField(_("état"), max_length=14, choices=ExportState.choices, default=ExportState.NOT_SENT)
    reason = models.CharField(_("motif"), max_length=300, blank=True)
    updated_at = models.DateTimeField(_("mis à jour le"), auto_now=True)

    class Meta:
        verbose_name = _("état d'envoi")
        verbose_name_plural = _("états d'envoi")
        constraints = [
            models.UniqueConstraint(fields=["document", "channel", "recipient"], name="export_unique"),
            models.CheckConstraint(condition=~Q(state="failed") | ~Q(reason=""), name="export_failure_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} : {self.get_state_display()}"


class WritingRule(models.Model):
    """Who may draft and who may validate one Ségur document type: a profession or a role (REM HOP/va1.04).

    Configured in the admin; applied by ``documents.rules`` in every writing service. A user holds the
    rights of their profession and of the roles of their active memberships (in the document's unit)."""

    type_code = models.CharField(_("type de document"), max_length=20, choices=TYPE_CHOICES)
    profession = models.CharField(
        _("profession"), max_length=10, choices=Profession.choices, blank=True, help_text=_("ou un rôle")
    )
    role = models.ForeignKey(
        "dpi.Role",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("rôle"),
        help_text=_("ou une profession ; le rôle vaut dans les unités où l'utilisateur le tient"),
    )
    may_draft = models.BooleanField(_("peut rédiger"), default=False)
    may_validate = models.BooleanField(_("peut valider"), default=False)

    class Meta:
        verbose_name = _("règle de rédaction")
        verbose_name_plural = _("règles de rédaction (qui rédige, qui valide)")
        ordering = ["type_code", "profession", "role__label"]
        constraints = [
            models.CheckConstraint(
                condition=(~Q(profession="") & Q(role__isnull=True)) | (Q(profession="") & Q(role__isnull=False)),
                name="writing_rule_profession_or_role",
                violation_error_message=_("Choisissez une profession ou un rôle, pas les deux."),
            ),
            models.UniqueConstraint(
                fields=["type_code", "profession"], condition=~Q(profession=""), name="writing_rule_unique_profession"
            ),
            models.UniqueConstraint(fields=["type_code", "role"], name="writing_rule_unique_role"),
            models.CheckConstraint(
                condition=Q(may_draft=True) | Q(may_validate=False),
                name="writing_rule_validator_drafts",
                violation_error_message=_(
                    "Qui valide doit aussi pouvoir rédiger : la validation enregistre d'abord le brouillon."
                ),
            ),
        ]

    def __str__(self) -> str:
        who = self.get_profession_display() if self.profession else str(self.role)
        return f"{self.get_type_code_display()} — {who}"


class PortabilityExport(models.Model):
    """An export of documents out of the DPI (REM PORT/va1.01): what was asked, by whom, how far it went.

    Built in the background by ``documents.tasks.build_portability_export``; ``file_name`` is set once the
    archive is complete (under ``VAR_DIR / "exports"``), never for a half-written one. Restarting a failed
    export means asking for a new one."""

    class State(models.TextChoices):
        QUEUED = "queued", _("En attente")
        RUNNING = "running", _("En cours")
        DONE = "done", _("Terminé")
        FAILED = "failed", _("Échec")

    class Versions(models.TextChoices):
        CURRENT = "current", _("Dernière version de chaque document")
        ALL = "all", _("Toutes les versions")

    class Origin(models.TextChoices):
        ALL = "all", _("Produits et reçus")
        PRODUCED = "produced", _("Produits dans le DPI")
        RECEIVED = "received", _("Reçus (DMP, MSSanté, import)")

    state = models.CharField(_("état"), max_length=8, choices=State.choices, default=State.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("demandé par"),
    )
    period_start = models.DateField(_("du (date de l'acte)"))
    period_end = models.DateField(_("au (inclus)"))
    versions = models.CharField(_("versions"), max_length=8, choices=Versions.choices, default=Versions.CURRENT)
    origin = models.CharField(_("provenance"), max_length=8, choices=Origin.choices, default=Origin.ALL)
    type_codes = models.JSONField(_("types de documents"), default=list, blank=True, help_text=_("vide : tous"))
    total = models.PositiveIntegerField(_("versions à exporter"), default=0)
    done = models.PositiveIntegerField(_("versions exportées"), default=0)
    file_name = models.CharField(_("archive"), max_length=200, blank=True)
    size = models.PositiveBigIntegerField(_("taille (octets)"), null=True, blank=True)
    sha256 = models.CharField(_("empreinte SHA-256 de l'archive"), max_length=64, blank=True)
    error = models.TextField(_("motif de l'échec"), blank=True)
    created_at = models.DateTimeField(_("demandé le"), auto_now_add=True)
    started_at = models.DateTimeField(_("commencé le"), null=True, blank=True)
    progressed_at = models.DateTimeField(_("dernier progrès le"), null=True, blank=True)
    finished_at = models.DateTimeField(_("terminé le"), null=True, blank=True)
    job = models.OneToOneField(
        "dpi.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("tâche de fond")
    )

    class Meta:
        verbose_name = _("export de portabilité")
        verbose_name_plural = _("exports de portabilité")
        ordering = ["-created_at", "-pk"]
        permissions = [("run_portability_export", _("Peut exporter les documents hors du DPI (portabilité)"))]
        constraints = [
            models.CheckConstraint(condition=~Q(state="failed") | ~Q(error=""), name="portability_failure_has_reason"),
            models.CheckConstraint(condition=~Q(state="done") | ~Q(file_name=""), name="portability_done_has_file"),
            models.CheckConstraint(condition=Q(period_start__lte=models.F("period_end")), name="portability_period"),
        ]

    def __str__(self) -> str:
        return f"Export n° {self.pk} ({self.period_start:%d/%m/%Y} – {self.period_end:%d/%m/%Y})"

    @property
    def is_active(self) -> bool:
        return self.state in (self.State.QUEUED, self.State.RUNNING)


class DocumentTemplate(models.Model):
    """A writing template of a Ségur document type (REM HOP/va1.07), for one care unit or for all of them.

    ``sections`` holds, per field of the type (``documents.types``), ``{"text": ..., "carry_from": ...}``:
    a default text with placeholders (``documents.prefill.PLACEHOLDERS``), and optionally
    ``"<type code>:<field>"``, the field of the patient's latest validated document of that type to copy
    instead. The form is only pre-filled: the user edits everything before validating (HOP/va1.03)."""

    type_code = models.CharField(_("type de document"), max_length=20)
    care_unit = models.ForeignKey(
        "dpi.CareUnit",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("unité fonctionnelle"),
        help_text=_("vide : toutes les unités"),
    )
    name = models.CharField(_("nom du modèle"), max_length=100)
    active = models.BooleanField(_("actif"), default=True)
    sections = models.JSONField(_("contenu par rubrique"), default=dict, blank=True)

    class Meta:
        verbose_name = _("modèle de document")
        verbose_name_plural = _("modèles de document")
        ordering = ["type_code", "name", "pk"]

    def __str__(self) -> str:
        return self.name


class PatientReplyDefault(models.Model):
    """Whether the patient may reply to a document of this type sent to their Mon espace santé mailbox, by
    default (the author changes it per document); no row: the patient may not reply."""

    type_code = models.CharField(_("type de document (LOINC)"), max_length=20, unique=True)
    patient_may_reply = models.BooleanField(_("le patient peut répondre par défaut"), default=False)

    class Meta:
        verbose_name = _("réponse du patient par défaut")
        verbose_name_plural = _("réponses du patient par défaut (MSSanté)")
        ordering = ["type_code"]

    def __str__(self) -> str:
        return self.type_code
