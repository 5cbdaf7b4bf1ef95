#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dpi.settings")
    from django.core.management import execute_from_command_line

    from dpi.audit_context import bind

    with bind():  # one audit request id per command (the MLLP listener binds one per message)
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
