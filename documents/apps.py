from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = _("Documents de santé")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from documents import views  # noqa: F401  (contributes the documents section of the patient file)
        from documents.rules import reinstall_default_rules

        post_migrate.connect(reinstall_default_rules, sender=self)
