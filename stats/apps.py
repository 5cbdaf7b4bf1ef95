from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatsConfig(AppConfig):
    name = "stats"
    verbose_name = _("Indicateurs d'usage")

    def ready(self) -> None:
        from stats import receivers  # noqa: F401 (connects the receivers)
