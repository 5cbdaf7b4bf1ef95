from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MssConfig(AppConfig):
    name = "mss"
    verbose_name = _("MSSanté")

    def ready(self) -> None:
        from mss import (
            hl7,  # noqa: F401  (MDM^T02/T10/T04 handlers of the volet "LPS courriel MSSanté")
            views,  # noqa: F401  (the MSSanté section of the patient file)
        )
