"""MSSanté inbound: mailbox -> care unit routing, per-document traces, per-user read marks, manual imports."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class MailboxRoute(models.Model):
    """Which care unit receives the documents arriving in an applicative MSSanté mailbox (PRT RCT PRT-15.4)."""

    address = models.EmailField(_("adresse de la BAL MSSanté"), max_length=254, blank=True)
    care_unit = models.ForeignKey(
        "dpi.CareUnit", on_delete=models.PROTECT, related_name="mss_routes", verbose_name=_("unité fonctionnelle")
    )
    is_default = models.BooleanField(
        _("routage par défaut"),
        default=False,
        help_text=_("Unité retenue quand la boîte destinataire n'a pas de routage (une seule ligne au plus)."),
    )

    class Meta:
        verbose_name = _("routage d'une BAL MSSanté")
        verbose_name_plural = _("routages des BAL MSSanté")
        ordering = ["address"]
        constraints = [
            models.UniqueConstraint(fields=["address"], condition=~Q(address=""), name="mss_route_address_unique"),
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="mss_route_one_default"),
            models.CheckConstraint(condition=~Q(address="") | Q(is_default=True), name="mss_route_address_or_default"),
        ]

    def __str__(self) -> str:
        return f"{self.address or _('(par défaut)')} → {self.care_unit}"

    def save(self, *args: object, **kwargs: object) -> None:
        self.clean()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        """Normalised before the form checks uniqueness: « Cardio@X » is the route « cardio@x »."""
        self.address = self.address.strip().lower()


class Trace(models.Model):
    """One flow or action on a document received by MSSanté (SC.MSS/UX.37): who, when, which message."""

    class Event(models.TextChoices):
        RECEIVED = "received", _("message reçu")
        MATCHED = "matched", _("patient reconnu")
        REFUSED = "refused", _("refusé")
        INTEGRATED = "integrated", _("intégré")
        REPLACED = "replaced", _("remplacé (nouvelle version)")
        DELETED = "deleted", _("supprimé")
        DUPLICATE = "duplicate", _("déjà intégré (doublon)")
        IMPORTED = "imported", _("importé manuellement (archive XDM)")
        IMPORT_REFUSED = "import_refused", _("import manuel refusé")
        READ = "read", _("lu")

    NOTIFYING = (Event.INTEGRATED, Event.REPLACED, Event.DELETED, Event.IMPORTED)

    event = models.CharField(_("événement"), max_length=16, choices=Event.choices, db_index=True)
    at = models.DateTimeField(_("date"), auto_now_add=True, db_index=True)
    document = models.ForeignKey(
        "documents.Document", on_delete=models.PROTECT, null=True, blank=True, related_name="mss_traces"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, null=True, blank=True, related_name="mss_traces"
    )
    care_unit = models.ForeignKey(
        "dpi.CareUnit", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("unité")
    )
    mailbox = models.CharField(_("BAL destinataire"), max_length=254, blank=True, db_index=True)
    sender = models.CharField(_("expéditeur"), max_length=254, blank=True)
    subject = models.CharField(_("objet du courriel"), max_length=300, blank=True)
    message = models.ForeignKey(
        "hl7.Message", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("message")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("utilisateur"),
    )
    cda_id = models.CharField(_("identifiant du CDA"), max_length=260, blank=True)
    error_code = models.CharField(_("code d'erreur"), max_length=3, blank=True)
    detail = models.JSONField(_("détail"), default=dict, blank=True)
    handled_at = models.DateTimeField(_("traité le"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("traité par"),
    )  # fmt: skip

    class Meta:
        verbose_name = _("trace MSSanté")
        verbose_name_plural = _("traces MSSanté")
        ordering = ["-at", "-pk"]
        permissions = [
            ("export_trace", _("Peut exporter les traces MSSanté")),
            ("identity_vigilance", _("Cellule d'identitovigilance : documents refusés pour l'identité, doublons")),
        ]
        indexes = [
            models.Index(fields=["patient", "-at"], name="mss_trace_patient_at"),
            models.Index(fields=["mailbox", "-at"], name="mss_trace_mailbox_at"),
            models.Index(fields=["care_unit", "event", "-at"], name="mss_trace_unit_event"),
            models.Index(fields=["document", "-at"], name="mss_trace_document_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.get_event_display()}"


class TraceRead(models.Model):
    """A notification (integrated/replaced/deleted/imported trace) marked read by one user."""

    trace = models.ForeignKey(Trace, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("utilisateur")
    )
    read_at = models.DateTimeField(_("lu le"), auto_now_add=True)

    class Meta:
        verbose_name = _("lecture d'une notification MSSanté")
        verbose_name_plural = _("lectures des notifications MSSanté")
        constraints = [models.UniqueConstraint(fields=["trace", "user"], name="mss_trace_read_unique")]

    def __str__(self) -> str:
        return f"{self.user} — {self.trace}"


class PendingImport(models.Model):
    """A CDA document taken from an IHE_XDM archive a user uploaded, waiting for the user to pick the patient."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("utilisateur")
    )
    created_at = models.DateTimeField(_("déposé le"), auto_now_add=True)
    archive_name = models.CharField(_("archive"), max_length=255)
    path = models.CharField(_("chemin dans l'archive"), max_length=255)
    cda = models.BinaryField(_("CDA"))
    title = models.CharField(_("titre"), max_length=250, blank=True)
    metadata_ins = models.CharField(
        _("INS de METADATA.XML (patientId)"),
        max_length=15,
        blank=True,
        help_text=_("Le matricule INS que l'archive donne au document : la recherche du patient part de lui."),
    )
    refused_trace = models.ForeignKey(
        Trace, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("refus MSSanté repris par l'identitovigilance"),
    )  # fmt: skip

    class Meta:
        verbose_name = _("import XDM en attente")
        verbose_name_plural = _("imports XDM en attente")
        ordering = ["-created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.archive_name} — {self.path}"
