"""WSGI entry point: ``gunicorn dpi.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dpi.settings")

application = get_wsgi_application()
