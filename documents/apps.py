from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = _("Documents de santé")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from documents import views  # noqa: F401  (contributes the documents section of the patient file)
        from documents.rules import reinstall_default_rules
        from documents.signals import version_validated
        from documents.surgical import mark_surgical_stay

        post_migrate.connect(reinstall_default_rules, sender=self)
        version_validated.connect(mark_surgical_stay, dispatch_uid="documents.mark_surgical_stay")
