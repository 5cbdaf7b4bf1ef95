from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DmpConfig(AppConfig):
    name = "dmp"
    verbose_name = _("DMP / Mon espace santé")

    def ready(self) -> None:
        from dmp import (
            hl7,  # noqa: F401  (registers the ZAM handlers)
            ins_traces,  # noqa: F401  (the sendings among the INS transmissions)
        )
        from dmp.services import feeding, sending
        from documents.signals import document_deleted, version_validated

        version_validated.connect(feeding.order_feeding, dispatch_uid="dmp.order_feeding")
        document_deleted.connect(sending.on_document_deleted, dispatch_uid="dmp.order_deletion")
