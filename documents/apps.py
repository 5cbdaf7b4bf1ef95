from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = _("Documents de santé")

    def ready(self) -> None:
        from documents import views  # noqa: F401  (contributes the documents section of the patient file)
