"""What the sandbox DMP holds: patients' DMPs, their XDS registry and repository, and every call it answered.

The registry is kept the way XDS thinks of it (``docs/dmp-protocol.md`` §6-8): a document entry is one
*metadata version* (its own ``entry_uuid``); a visibility update adds a version with the same logical id
(``lid``) and deprecates the previous one; a replacement (RPLC) is a new logical document. The content
is stored on each version row: the sandbox's documents are small and it keeps the queries simple.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sandbox.models.behaviour import SingletonBehaviour

APPROVED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
DEPRECATED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated"
DELETED = "urn:asip:ci-sis:2010:StatusType:Deleted"


class DmpBehaviour(SingletonBehaviour):
    """How the sandbox DMP answers (one row, pk 1): a demo user switches it to make the DMP fail."""

    class Mode(models.TextChoices):
        NORMAL = "normal", _("Normal")
        DOWN = "down", _("Hors service : connexions refusées")
        SLOW = "slow", _("Lent : réponse après un délai")
        FAULT = "fault", _("En erreur : faute SOAP dmp:ServiceUnavailable")

    mode = models.CharField(_("mode"), max_length=8, choices=Mode.choices, default=Mode.NORMAL)
    slow_seconds = models.FloatField(
        _("délai du mode lent (s)"), default=15.0, help_text=_("attente avant la réponse en mode « lent »")
    )

    class Meta:
        verbose_name = _("comportement du DMP simulé")
        verbose_name_plural = _("comportement du DMP simulé")
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="sandbox_dmpbehaviour_singleton"),
            models.CheckConstraint(condition=Q(slow_seconds__gte=0), name="sandbox_dmpbehaviour_slow_positive"),
        ]


class PatientDmp(models.Model):
    """A patient's DMP, keyed by INS; its identity traits are the ones its documents carry."""

    class Status(models.TextChoices):
        OPEN = "open", _("ouvert")
        CLOSED = "closed", _("fermé")

    ins = models.CharField(_("INS (matricule)"), max_length=15, unique=True)
    ins_oid = models.CharField(_("OID de l'INS"), max_length=64)
    status = models.CharField(_("statut"), max_length=6, choices=Status.choices, default=Status.OPEN)
    closed_at = models.DateTimeField(_("fermé le"), null=True, blank=True)
    closure_reason = models.CharField(_("motif de fermeture"), max_length=255, blank=True)
    linked_to_mes = models.BooleanField(_("rattaché à Mon espace santé"), default=True)
    birth_name = models.CharField(_("nom de naissance"), max_length=100)
    first_names = models.CharField(_("prénoms de naissance"), max_length=200)
    birth_date = models.DateField(_("date de naissance"))
    sex = models.CharField(_("sexe"), max_length=1)
    birth_place_insee = models.CharField(_("lieu de naissance (INSEE)"), max_length=5, blank=True)
    blocked_professionals = models.JSONField(
        _("professionnels bloqués"), default=list, blank=True, help_text=_("identifiants nationaux (8 + RPPS...)")
    )
    attending_physician_id = models.CharField(
        _("médecin traitant DMP (identifiant national)"), max_length=12, blank=True
    )
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)

    class Meta:
        verbose_name = _("DMP simulé")
        verbose_name_plural = _("DMP simulés")
        ordering = ["birth_name", "first_names"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open") | Q(closed_at__isnull=False), name="sandbox_patientdmp_closed_has_date"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.birth_name} {self.first_names} ({self.ins})"

    @property
    def patient_id(self) -> str:
        """The XDS patientId (CX without the type)."""
        return f"{self.ins}^^^&{self.ins_oid}&ISO"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class DmpAuthorisation(models.Model):
    """A professional's individual access authorisation (TD0.3), valid until ``until``."""

    dmp = models.ForeignKey(PatientDmp, on_delete=models.CASCADE, related_name="authorisations", verbose_name=_("DMP"))
    national_id = models.CharField(_("identifiant national"), max_length=12)
    until = models.DateTimeField(_("valide jusqu'au"))
    created_at = models.DateTimeField(_("accordée le"), default=timezone.now)

    class Meta:
        verbose_name = _("autorisation d'accès")
        verbose_name_plural = _("autorisations d'accès")
        constraints = [models.UniqueConstraint(fields=["dmp", "national_id"], name="sandbox_dmpauth_unique")]

    def __str__(self) -> str:
        return f"{self.national_id} → {self.until:%d/%m/%Y}"


class DmpSubmissionSet(models.Model):
    """An XDS submission set (RegistryPackage): one feeding or one metadata update."""

    dmp = models.ForeignKey(PatientDmp, on_delete=models.CASCADE, related_name="submission_sets")
    entry_uuid = models.CharField(_("entryUUID"), max_length=64, unique=True)
    unique_id = models.CharField(_("uniqueId"), max_length=128)
    source_id = models.CharField(_("sourceId"), max_length=128)
    submission_time = models.DateTimeField(_("soumis le"), db_index=True)
    title = models.CharField(_("titre"), max_length=255, blank=True)
    author_person = models.CharField(_("auteur (XCN)"), max_length=255, blank=True)
    author_institution = models.CharField(_("structure de l'auteur (XON)"), max_length=255, blank=True)
    content_type_code = models.CharField(_("contentTypeCode"), max_length=64, default="04")
    content_type_label = models.CharField(_("libellé du contentTypeCode"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("lot de soumission")
        verbose_name_plural = _("lots de soumission")
        ordering = ["-submission_time"]

    def __str__(self) -> str:
        return f"{self.unique_id} ({self.submission_time:%d/%m/%Y %H:%M})"


class DmpDocument(models.Model):
    """One metadata version of an XDS DocumentEntry, with the document's bytes."""

    class Status(models.TextChoices):
        APPROVED = APPROVED, _("validé")
        DEPRECATED = DEPRECATED, _("obsolète")
        DELETED = DELETED, _("supprimé")

    dmp = models.ForeignKey(PatientDmp, on_delete=models.CASCADE, related_name="documents", verbose_name=_("DMP"))
    submission_set = models.ForeignKey(DmpSubmissionSet, on_delete=models.PROTECT, related_name="documents")
    entry_uuid = models.CharField(_("entryUUID"), max_length=64, unique=True)
    lid = models.CharField(_("identifiant logique (lid)"), max_length=64, db_index=True)
    unique_id = models.CharField(_("uniqueId"), max_length=128, db_index=True)
    version = models.PositiveIntegerField(_("version des métadonnées"), default=1)
    status = models.CharField(_("statut"), max_length=64, choices=Status.choices, default=Status.APPROVED)
    repository_unique_id = models.CharField(_("repositoryUniqueId"), max_length=64)
    title = models.CharField(_("titre"), max_length=255)
    type_code = models.CharField(_("typeCode (LOINC)"), max_length=32, db_index=True)
    type_label = models.CharField(_("libellé du type"), max_length=255)
    class_code = models.CharField(_("classCode"), max_length=32)
    class_label = models.CharField(_("libellé de la classe"), max_length=255)
    format_code = models.CharField(_("formatCode"), max_length=128)
    format_scheme = models.CharField(_("système du formatCode"), max_length=64)
    practice_setting_code = models.CharField(_("practiceSettingCode"), max_length=32)
    facility_type_code = models.CharField(_("healthcareFacilityTypeCode"), max_length=32)
    confidentiality = models.CharField(_("confidentialité du CDA"), max_length=1, default="N")
    masked_to_professionals = models.BooleanField(_("masqué aux professionnels"), default=False)
    invisible_to_patient = models.BooleanField(_("invisible au patient"), default=False)
    invisible_to_legal_representatives = models.BooleanField(_("invisible aux représentants légaux"), default=False)
    event_codes = models.JSONField(
        _("eventCodeList"), default=list, blank=True, help_text=_("[code, système, libellé]")
    )
    creation_time = models.DateTimeField(_("créé le"))
    service_start = models.DateTimeField(_("début de l'acte"))
    service_stop = models.DateTimeField(_("fin de l'acte"), null=True, blank=True)
    author_id = models.CharField(_("identifiant national de l'auteur"), max_length=12, db_index=True)
    author_person = models.CharField(_("auteur (XCN)"), max_length=255)
    author_institution = models.CharField(_("structure de l'auteur (XON)"), max_length=255)
    author_role = models.CharField(_("authorRole"), max_length=64, blank=True)
    author_specialty = models.CharField(_("authorSpecialty"), max_length=64, blank=True)
    language = models.CharField(_("langue"), max_length=8, default="fr-FR")
    reference_ids = models.JSONField(_("referenceIdList"), default=list, blank=True)
    source_patient_id = models.CharField(_("sourcePatientId"), max_length=128, blank=True)
    mime_type = models.CharField(_("type MIME"), max_length=64, default="text/xml")
    content = models.BinaryField(_("contenu"))
    hash = models.CharField(_("empreinte SHA-1"), max_length=40)
    size = models.PositiveIntegerField(_("taille (octets)"))

    class Meta:
        verbose_name = _("document du DMP simulé")
        verbose_name_plural = _("documents du DMP simulé")
        ordering = ["-creation_time", "lid", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["lid", "version"], name="sandbox_dmpdocument_lid_version"),
            models.UniqueConstraint(
                fields=["lid"], condition=Q(status=APPROVED), name="sandbox_dmpdocument_one_approved_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.unique_id} v{self.version})"

    @property
    def visibility_codes(self) -> list[str]:
        """The DMP visibility codes (TRE_A07) of this version, beside the CDA's N/R/V."""
        flags = (
            (self.masked_to_professionals, "MASQUE_PS"),
            (self.invisible_to_patient, "INVISIBLE_PATIENT"),
            (self.invisible_to_legal_representatives, "INVISIBLE_REPRESENTANTS_LEGAUX"),
        )
        return [code for present, code in flags if present]

    def visible_to(self, national_id: str) -> bool:
        """What a professional may see: never a deleted entry; a masked one only by its author."""
        if self.status == DELETED:
            return False
        return not self.masked_to_professionals or self.author_id == national_id


class DmpAssociation(models.Model):
    """An XDS association: HasMember (submission set → entry) or RPLC (new document → replaced one)."""

    HAS_MEMBER = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"
    REPLACES = "urn:ihe:iti:2007:AssociationType:RPLC"

    dmp = models.ForeignKey(PatientDmp, on_delete=models.CASCADE, related_name="associations")
    entry_uuid = models.CharField(_("entryUUID"), max_length=64, unique=True)
    type = models.CharField(_("type"), max_length=128)
    source = models.CharField(_("source"), max_length=64, db_index=True)
    target = models.CharField(_("cible"), max_length=64, db_index=True)
    status = models.CharField(_("statut"), max_length=64, default=APPROVED)
    submission_set_status = models.CharField(_("SubmissionSetStatus"), max_length=16, blank=True)
    previous_version = models.CharField(_("PreviousVersion"), max_length=16, blank=True)

    class Meta:
        verbose_name = _("association XDS")
        verbose_name_plural = _("associations XDS")

    def __str__(self) -> str:
        return f"{self.type.rsplit(':', 1)[-1]} {self.source} → {self.target}"


class DmpCall(models.Model):
    """A request the sandbox DMP received and how it answered: what the DPI sent, for the demo and the tests."""

    received_at = models.DateTimeField(_("reçu le"), default=timezone.now, db_index=True)
    endpoint = models.CharField(_("service"), max_length=32, db_index=True)
    action = models.CharField(_("action"), max_length=128, blank=True)
    transaction = models.CharField(_("transaction"), max_length=16, blank=True, db_index=True)
    client_certificate = models.CharField(_("certificat TLS du client"), max_length=255, blank=True)
    name_id = models.CharField(_("NameID du VIHF"), max_length=64, blank=True, db_index=True)
    subject_name = models.CharField(_("subject-id"), max_length=255, blank=True)
    roles = models.JSONField(_("rôles"), default=list, blank=True)
    structure_id = models.CharField(_("identifiant de structure"), max_length=32, blank=True)
    authentication_mode = models.CharField(_("mode d'authentification"), max_length=32, blank=True)
    authentication_class = models.CharField(_("classe d'authentification"), max_length=128, blank=True)
    purpose_of_use = models.CharField(_("finalité"), max_length=32, blank=True)
    patient_ins = models.CharField(_("INS du patient"), max_length=64, blank=True, db_index=True)
    query_id = models.CharField(_("requête stockée"), max_length=64, blank=True)
    query_parameters = models.JSONField(_("paramètres de la requête"), default=dict, blank=True)
    unique_ids = models.JSONField(_("documents renvoyés (uniqueId)"), default=list, blank=True)
    outcome = models.CharField(_("résultat"), max_length=64, default="ok", db_index=True)
    outcome_text = models.TextField(_("texte du résultat"), blank=True)
    raw_request = models.TextField(_("requête reçue"), blank=True)

    class Meta:
        verbose_name = _("appel reçu par le DMP simulé")
        verbose_name_plural = _("appels reçus par le DMP simulé")
        ordering = ["-received_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.transaction or self.endpoint} {self.name_id or '-'} : {self.outcome}"
