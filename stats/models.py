"""The app's permission (``stats.view_indicators``), and the per-document outcome table the sending
indicators read.

``DocumentOutcome`` is derived, never edited: one row per produced Ségur document, with the moments of
its first success and last failure on each route, computed from its feeding orders and their business
acks (docs/statistics.md). A save of a document, an order or an ack marks the document stale
(``StaleOutcome``, by the receivers of :mod:`stats.receivers`); :func:`stats.services.refresh_outcomes`
recomputes the stale rows before every computation and in a background job, so the figures always equal
a direct count over the operational tables.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Indicators(models.Model):
    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_indicators", _("Peut consulter et exporter les indicateurs d'usage"))]
        verbose_name = _("indicateurs d'usage")
        verbose_name_plural = _("indicateurs d'usage")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)


class DocumentOutcome(models.Model):
    """What became of a produced Ségur document on each route (DMP, MSSanté professional, patient)."""

    # Derived rows, rebuilt from the operational tables: no foreign-key constraint to slow the rebuild;
    # a deleted document is marked stale and its row removed by the refresh.
    document = models.OneToOneField(
        "documents.Document", primary_key=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    episode = models.ForeignKey(
        "patients.Episode",
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    patient = models.ForeignKey("patients.Patient", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    finess = models.CharField(_("FINESS géographique"), max_length=9)
    type_code = models.CharField(_("type (LOINC)"), max_length=20)
    validated = models.BooleanField(_("validé (ou remplacé)"))
    dmp_ok_at = models.DateTimeField(null=True)
    dmp_ko_at = models.DateTimeField(null=True)
    dmp_historical = models.BooleanField(default=False)
    dmp_month = models.DateField(null=True)  # the Paris month of the success, else of the failure
    pro_ok_at = models.DateTimeField(null=True)
    pro_ko_at = models.DateTimeField(null=True)
    pro_historical = models.BooleanField(default=False)
    pro_month = models.DateField(null=True)  # the Paris month of the success, else of the failure
    patient_ok_at = models.DateTimeField(null=True)
    patient_ko_at = models.DateTimeField(null=True)
    patient_historical = models.BooleanField(default=False)
    patient_month = models.DateField(null=True)  # the Paris month of the success, else of the failure

    class Meta:
        default_permissions = ()
        # The stay rates fold the validated documents per visit and type from this index alone (an index-only
        # scan in visit order, no hash of two million rows); it also finds a visit's documents.
        indexes = [
            models.Index(
                fields=["episode", "type_code"], include=["dmp_ok_at", "pro_ok_at", "patient_ok_at"],
                condition=models.Q(validated=True), name="stats_outcome_visit",
            )
        ]  # fmt: skip
        verbose_name = _("devenir d'un document (indicateurs)")
        verbose_name_plural = _("devenir des documents (indicateurs)")

    def __str__(self) -> str:
        return f"{self.document_id} {self.type_code}"


class StaleOutcome(models.Model):
    """A document whose outcome row must be recomputed (saved since the last refresh)."""

    document_id = models.BigIntegerField(primary_key=True)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return str(self.document_id)
