"""``{% password_rules user as rules %}``: the password rules that apply to this user, in French."""

from __future__ import annotations

from django import template
from django.contrib.auth.password_validation import get_default_password_validators

from dpi.accounts.passwords import PRIVILEGED_VALIDATORS, is_privileged_account

register = template.Library()


@register.simple_tag
def password_rules(user: object) -> list[str]:
    privileged = is_privileged_account(user)
    return [
        validator.get_help_text()
        for validator in get_default_password_validators()
        if privileged or not isinstance(validator, PRIVILEGED_VALIDATORS)
    ]
