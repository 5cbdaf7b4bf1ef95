from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MssConfig(AppConfig):
    name = "mss"
    verbose_name = _("MSSanté")
