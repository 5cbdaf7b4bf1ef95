from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PatientsConfig(AppConfig):
    name = "patients"
    verbose_name = _("Patients, identités et séjours")

    def ready(self) -> None:
        from patients import checks, hl7  # noqa: F401  (registers the configuration checks, the PAM ADT handlers)
