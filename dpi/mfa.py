"""allauth MFA adapter: the TOTP second factor is mandatory, so it cannot be removed by its owner."""

from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator


class MFAAdapter(DefaultMFAAdapter):
    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        return authenticator.type != Authenticator.Type.TOTP
