"""System checks of the account policy: a configuration weaker than the REM refuses to start."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register

MAX_LOGIN_FAILURES = 10  # REM SC.SSI/IAM.92: lock-out after at most 10 consecutive failures


@register()
def check_account_policy(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    errors = []
    if not 1 <= settings.LOGIN_ATTEMPTS_LIMIT <= MAX_LOGIN_FAILURES:
        errors.append(
            Error(
                f"LOGIN_ATTEMPTS_LIMIT={settings.LOGIN_ATTEMPTS_LIMIT}: an account must lock after at most "
                f"{MAX_LOGIN_FAILURES} failed logins (REM SC.SSI/IAM.92).",
                id="dpi.E101",
            )
        )
    if not 1 <= settings.PRIVILEGED_PASSWORD_CHARACTER_CLASSES <= 4:
        errors.append(Error("PRIVILEGED_PASSWORD_CHARACTER_CLASSES must be between 1 and 4.", id="dpi.E102"))
    return errors
