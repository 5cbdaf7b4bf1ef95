"""The HL7 journal in the Django admin: read-only, searchable, with a replay action."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.urls import URLPattern, path
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from dpi.admin import ReadOnlyAdmin
from dpi.hl7 import services, tasks
from dpi.hl7.models import Message
from dpi.hl7.parsing import split_segments


class SenderFilter(admin.SimpleListFilter):
    """Sending application and facility (MSH-3/MSH-4) together."""

    title = _("émetteur")
    parameter_name = "sender"
    separator = "|"  # the HL7 field separator: never inside MSH-3 or MSH-4

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        pairs = (
            Message.objects.order_by("sending_application", "sending_facility")
            .values_list("sending_application", "sending_facility")
            .distinct()
        )
        return [(f"{app}{self.separator}{facility}", f"{app} / {facility}") for app, facility in pairs]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Message]) -> QuerySet[Message]:
        if not self.value():
            return queryset
        app, _sep, facility = self.value().partition(self.separator)
        return queryset.filter(sending_application=app, sending_facility=facility)


MESSAGE_BYTES = ("raw", "text", "ack")


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    # The key columns fit a 1366 px screen: direction and type in one column, status and ACK in another;
    # the replay count and the peer are on the message's page.
    list_display = ["received", "kind", "control_id", "sender", "patient_ids", "outcome"]
    list_filter = ["direction", "status", "ack_code", "message_type", SenderFilter]
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Message]:
        """The list never loads the messages' bytes (an MDM carries a CDA of hundreds of KB); a detail page
        reads them when it shows them."""
        return super().get_queryset(request).defer(*MESSAGE_BYTES)

    date_hierarchy = "received_at"
    search_fields = ["patient_ids", "=control_id", "message_type"]
    readonly_fields = ["segments", "ack_segments"]
    actions = ["replay_selected"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("direction", "status", "ack_code"),
                    ("received_at", "processed_at"),
                    "peer",
                    ("sending_application", "sending_facility"),
                    ("receiving_application", "receiving_facility"),
                    ("message_type", "control_id", "charset"),
                    "patient_ids",
                    ("size", "replay_count"),
                    "duplicate_of",
                    "note",
                ]
            },
        ),
        (_("Message"), {"fields": ["segments"]}),
        (_("Acquittement"), {"fields": ["ack_segments"]}),
        (_("Erreur"), {"fields": ["error"]}),
    ]

    @admin.display(description=_("émetteur"))
    def sender(self, message: Message) -> str:
        return message.sender

    @admin.display(description=_("reçu le"), ordering="received_at")
    def received(self, message: Message) -> str:
        return date_format(localtime(message.received_at), "d/m/Y H:i:s")

    @admin.display(description=_("message"), ordering="message_type")
    def kind(self, message: Message) -> str:
        arrow = "←" if message.direction == Message.Direction.INBOUND else "→"
        return f"{arrow} {message.message_type}"

    @admin.display(description=_("état (ACK)"), ordering="status")
    def outcome(self, message: Message) -> str:
        status = message.get_status_display()
        return f"{status} ({message.ack_code})" if message.ack_code else status

    @admin.display(description=_("texte décodé"))
    def segments(self, message: Message) -> str:
        return _preformatted(message.text)

    @admin.display(description=_("acquittement envoyé ou reçu"))
    def ack_segments(self, message: Message) -> str:
        return _preformatted(message.ack_text)

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("hl7.replay_message")

    def get_urls(self) -> list[URLPattern]:
        replay = self.admin_site.admin_view(self.replay_view)
        return [path("<int:pk>/rejouer/", replay, name="hl7_message_replay"), *super().get_urls()]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        """The message page offers "Rejouer" to whoever may replay, for a message that can be."""
        message = self.get_object(request, object_id)
        replayable = message is not None and message.replayable and self.has_replay_permission(request)
        extra_context = {**(extra_context or {}), "replayable": replayable}
        return super().change_view(request, object_id, form_url, extra_context)

    def replay_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """POST from the message page: replayed at once (as one selected message is), back to its page."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_replay_permission(request):
            raise PermissionDenied
        self._replay_one(request, get_object_or_404(Message, pk=pk))
        return redirect("admin:hl7_message_change", pk)

    @admin.action(description=_("Rejouer les messages sélectionnés"), permissions=["replay"])
    def replay_selected(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        ids = list(queryset.order_by("pk").values_list("pk", flat=True))
        if len(ids) == 1:
            self._replay_one(request, queryset.get())
            return
        transaction.on_commit(lambda: tasks.replay_messages.delay(ids, request.user.pk))
        count = len(ids)
        self.message_user(
            request,
            ngettext(
                "%(count)d message mis en file d'attente pour être rejoué.",
                "%(count)d messages mis en file d'attente pour être rejoués.",
                count,
            )
            % {"count": count},
            messages.INFO,
        )

    def _replay_one(self, request: HttpRequest, message: Message) -> None:
        try:
            message = services.replay_message(message=message, acting_user=request.user)
        except services.ReplayRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        level = messages.SUCCESS if message.status == Message.Status.PROCESSED else messages.WARNING
        self.message_user(
            request,
            _("Message rejoué : %(status)s, acquittement %(ack)s.")
            % {"status": message.get_status_display(), "ack": message.ack_code},
            level,
        )


def _preformatted(text: str) -> str:
    return format_html('<pre style="white-space: pre-wrap">{}</pre>', "\n".join(split_segments(text)))
