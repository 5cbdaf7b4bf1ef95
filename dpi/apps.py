from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DpiConfig(AppConfig):
    name = "dpi"
    verbose_name = _("Établissement, utilisateurs et sécurité")

    def ready(self) -> None:
        from dpi import receivers  # noqa: F401  (connects the audit receivers)
        from dpi.accounts import checks, tasks  # noqa: F401  (registers the policy checks and the sync task)
