from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DirectoryConfig(AppConfig):
    name = "directory"
    verbose_name = _("Correspondants et annuaire")

    def ready(self) -> None:
        from directory import views  # noqa: F401  (contributes the correspondents panel of the file)
