from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PatientsConfig(AppConfig):
    name = "patients"
    verbose_name = _("Patients, identités et séjours")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from dpi.models import CareUnit, Site
        from patients import checks, hl7  # noqa: F401  (registers the configuration checks, the PAM ADT handlers)
        from patients.feed import forget_care_units

        for model in (CareUnit, Site):  # the PAM feed's cache of care units follows the structure
            post_save.connect(forget_care_units, sender=model, dispatch_uid=f"patients.forget_units.save.{model}")
            post_delete.connect(forget_care_units, sender=model, dispatch_uid=f"patients.forget_units.delete.{model}")
