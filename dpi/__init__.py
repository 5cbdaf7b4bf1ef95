"""DPI module: hospital patient record sharing with the DMP and MSSanté (Ségur wave 2)."""

from dpi.celery import app as celery_app

__version__ = "0.1.0"

__all__ = ["__version__", "celery_app"]
