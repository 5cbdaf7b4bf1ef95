"""HL7 v2 message journal: every message received or sent, stored before it is processed."""

from __future__ import annotations

from django.db import connections, models, router, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dpi.hl7.parsing import Envelope, decode_leniently

# From this size on, a message's bytes and text are written by a statement of their own whose
# parameters travel apart from the SQL, the bytes in binary: inlined in the SQL (hex for the bytes,
# Django's default client-side binding), a 19 MiB message took about 130 MiB more while it was saved.
LARGE_PAYLOAD_BYTES = 256 * 1024


class Message(models.Model):
    """One HL7 v2 message as it went over the wire, with the acknowledgement that answered it.

    Inbound rows are written before the message is processed (journal first), so nothing
    received is ever lost; outbound rows are written before the message is sent.
    """

    class Direction(models.TextChoices):
        INBOUND = "in", _("entrant")
        OUTBOUND = "out", _("sortant")

    class Status(models.TextChoices):
        RECEIVED = "received", _("reçu, non traité")
        PENDING = "pending", _("envoyé, en attente d'acquittement")
        PROCESSED = "processed", _("traité")
        ERROR = "error", _("en erreur")
        DUPLICATE = "duplicate", _("doublon")

    class AckCode(models.TextChoices):
        ACCEPTED = "AA", _("AA — accepté")
        ERROR = "AE", _("AE — erreur")
        REJECTED = "AR", _("AR — rejeté")

    direction = models.CharField(
        _("sens"), max_length=3, choices=Direction.choices, default=Direction.INBOUND, db_index=True
    )
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, db_index=True)
    peer = models.CharField(_("partenaire"), max_length=255, blank=True, help_text=_("adresse:port"))
    received_at = models.DateTimeField(_("reçu le"), default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(_("traité le"), null=True, blank=True)

    raw = models.BinaryField(_("octets reçus"))
    size = models.PositiveBigIntegerField(
        _("taille"),
        help_text=_("octets reçus ; supérieure à la taille conservée si le message a été tronqué"),
    )
    text = models.TextField(_("texte décodé"), blank=True)
    charset = models.CharField(_("jeu de caractères (MSH-18)"), max_length=40, blank=True)

    sending_application = models.CharField(_("application émettrice (MSH-3)"), max_length=180, blank=True)
    sending_facility = models.CharField(_("établissement émetteur (MSH-4)"), max_length=180, blank=True)
    receiving_application = models.CharField(_("application destinataire (MSH-5)"), max_length=180, blank=True)
    receiving_facility = models.CharField(_("établissement destinataire (MSH-6)"), max_length=180, blank=True)
    message_type = models.CharField(_("type (MSH-9)"), max_length=40, blank=True, db_index=True)
    control_id = models.CharField(_("identifiant (MSH-10)"), max_length=199, blank=True, db_index=True)
    patient_ids = models.CharField(_("identifiants patient (PID-3)"), max_length=255, blank=True, db_index=True)

    ack_code = models.CharField(_("acquittement"), max_length=2, choices=AckCode.choices, blank=True, db_index=True)
    ack = models.BinaryField(_("octets de l'acquittement"), blank=True, default=b"")
    error = models.TextField(_("erreur"), blank=True)
    note = models.TextField(_("remarque"), blank=True)
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="duplicates",
        verbose_name=_("doublon de"),
    )
    replay_count = models.PositiveIntegerField(_("rejeux"), default=0)

    class Meta:
        verbose_name = _("message HL7")
        verbose_name_plural = _("journal des messages HL7")
        ordering = ["-received_at", "-id"]
        permissions = [("replay_message", _("Peut rejouer un message HL7"))]
        indexes = [models.Index(fields=["sending_application", "sending_facility"], name="hl7_message_sender")]
        constraints = [
            # The duplicate check: one original per sender and control id. Racing duplicates
            # from two connections cannot both insert an original.
            models.UniqueConstraint(
                fields=["sending_application", "sending_facility", "control_id"],
                condition=Q(direction="in") & ~Q(status="duplicate") & ~Q(control_id=""),
                name="hl7_message_inbound_control_id_unique",
            ),
            models.CheckConstraint(
                condition=Q(status="duplicate", duplicate_of__isnull=False)
                | (~Q(status="duplicate") & Q(duplicate_of__isnull=True)),
                name="hl7_message_duplicate_has_original",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.message_type or '?'} {self.control_id or '-'} ({self.get_status_display()})"

    @classmethod
    def from_envelope(cls, envelope: Envelope, *, direction: str, peer: str, size: int, **fields: object) -> Message:
        """An unsaved row for a message read by :func:`dpi.hl7.parsing.read_envelope`."""
        header = envelope.header
        message = cls(direction=direction, raw=envelope.raw, size=size, text=db_text(envelope.text), **fields)
        values = {
            "peer": peer,
            "charset": header.charset,
            "sending_application": header.sending_application,
            "sending_facility": header.sending_facility,
            "receiving_application": header.receiving_application,
            "receiving_facility": header.receiving_facility,
            "message_type": header.message_type,
            "control_id": header.control_id,
            "patient_ids": envelope.patient_ids,
        }
        for name, value in values.items():
            setattr(message, name, db_text(value)[: cls._meta.get_field(name).max_length])
        return message

    def save_new(self) -> None:
        """Insert the row; a large message's bytes and text follow in the same transaction (see
        ``LARGE_PAYLOAD_BYTES``), so that the listener does not hold several copies of them."""
        raw, text = self.raw, self.text
        if len(raw) < LARGE_PAYLOAD_BYTES or connections[router.db_for_write(Message)].vendor != "postgresql":
            self.save()
            return
        self.raw, self.text = b"", ""
        try:
            with transaction.atomic():
                self.save()
                self.store_payload(raw=raw, text=text, size=self.size)
        finally:
            self.raw, self.text = raw, text

    def store_payload(self, *, raw: bytes, text: str, size: int) -> None:
        """Write the bytes, decoded text and size of a saved row, the bytes as a binary parameter."""
        connection = connections[router.db_for_write(Message)]
        if connection.vendor != "postgresql":
            self.raw, self.text, self.size = raw, text, size
            self.save(update_fields=["raw", "text", "size"])
            return
        import psycopg  # the PostgreSQL driver, imported only where it is the database
        from psycopg import sql

        connection.ensure_connection()
        statement = sql.SQL("UPDATE {} SET raw = %b, text = %s, size = %s WHERE id = %s").format(
            sql.Identifier(self._meta.db_table)
        )
        with psycopg.Cursor(connection.connection) as cursor:  # server-side binding, whatever Django's default
            cursor.execute(statement, [raw, text, size, self.pk])
        self.raw, self.text, self.size = raw, text, size

    def record_outcome(
        self, *, status: str, ack_code: str, ack: bytes, error: str = "", note: str = "", insert: bool = False
    ) -> None:
        """Save what became of the message: status, the ACK answered or received, error and note.

        ``insert``: the row is not in the database (its first transaction was rolled back): insert it
        with its outcome, as a new row."""
        self.status = status
        self.ack_code = ack_code
        self.ack = ack
        self.error = db_text(error)
        self.note = db_text(note)
        self.processed_at = timezone.now()
        if insert:
            self.pk = None
            self._state.adding = True  # Django's documented way to insert an instance again
            self.save_new()
        else:
            self.save(update_fields=["status", "ack_code", "ack", "error", "note", "processed_at"])

    @property
    def sender(self) -> str:
        return f"{self.sending_application}/{self.sending_facility}"

    @property
    def truncated(self) -> bool:
        """The frame was larger than the limit: only its beginning was kept."""
        return self.size > len(self.raw)

    @property
    def ack_text(self) -> str:
        return decode_leniently(bytes(self.ack))

    @property
    def replayable(self) -> bool:
        return self.direction == self.Direction.INBOUND and self.status != self.Status.DUPLICATE


def db_text(value: str) -> str:
    """PostgreSQL text cannot hold NUL characters: they show as U+FFFD, the raw bytes keep them."""
    return value.replace("\x00", "\ufffd")
