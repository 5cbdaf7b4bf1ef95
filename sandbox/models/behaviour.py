"""What every simulator's behaviour row shares: one row (pk 1), read with ``current()``, switched with ``switch()``."""

from __future__ import annotations

from typing import Self

from django.db import models
from django.utils.translation import gettext_lazy as _


class SingletonBehaviour(models.Model):
    """How a simulator answers; a demo user switches its ``mode`` in the admin to make it fail."""

    SINGLETON_PK = 1

    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return str(self.get_mode_display())

    def save(self, *args: object, **kwargs: object) -> None:
        self.pk = self.SINGLETON_PK
        super().save(*args, **kwargs)

    @classmethod
    def current(cls) -> Self:
        behaviour, _created = cls.objects.get_or_create(pk=cls.SINGLETON_PK)
        return behaviour

    @classmethod
    def switch(cls, mode: str, **fields: object) -> Self:
        """Set the mode (and any other field) of the one row, as the admin does."""
        behaviour = cls.current()
        behaviour.mode = mode
        for name, value in fields.items():
            setattr(behaviour, name, value)
        behaviour.save()
        return behaviour
