from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = _("Information et opposition DMP")

    def ready(self) -> None:
        from consent import services, views  # noqa: F401  (views: the banner icons and the panel of the file)
        from patients.signals import pam_consent_received

        pam_consent_received.connect(services.apply_pam_consent, dispatch_uid="consent.apply_pam_consent")
