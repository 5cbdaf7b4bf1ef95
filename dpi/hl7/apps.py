from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Hl7Config(AppConfig):
    name = "dpi.hl7"
    label = "hl7"
    verbose_name = _("Interfaces HL7 v2")
