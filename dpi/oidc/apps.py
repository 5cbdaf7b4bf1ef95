from django.apps import AppConfig


class OidcConfig(AppConfig):
    """An app so that allauth's provider registry finds :mod:`dpi.oidc.provider`."""

    name = "dpi.oidc"
    label = "dpi_oidc"
    verbose_name = "Connexion OpenID Connect"
