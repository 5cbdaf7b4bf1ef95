from django import template

from dpi.oidc.selectors import enabled_providers

register = template.Library()


@register.simple_tag
def oidc_providers() -> list[dict]:
    """``{% oidc_providers as providers %}``: the enabled OpenID providers (login page)."""
    return enabled_providers()
