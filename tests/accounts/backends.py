"""An authentication backend standing for one the DPI does not drive through allauth (mozilla-django-oidc...)."""

from django.contrib.auth.backends import ModelBackend


class OtherProvider(ModelBackend):
    pass
