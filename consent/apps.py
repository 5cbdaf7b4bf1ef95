from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = _("Information et opposition DMP")

    def ready(self) -> None:
        from consent import views  # noqa: F401  (contributes the banner icons and the panel of the file)
