from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DmpConfig(AppConfig):
    name = "dmp"
    verbose_name = _("DMP / Mon espace santé")
