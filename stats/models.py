"""No table: the app's permission only (``stats.view_indicators``), given to the administrators and the
management who read the usage indicators."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Indicators(models.Model):
    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_indicators", _("Peut consulter et exporter les indicateurs d'usage"))]
        verbose_name = _("indicateurs d'usage")
        verbose_name_plural = _("indicateurs d'usage")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)
