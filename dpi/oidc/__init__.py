"""Sign-in through OpenID Connect providers: ProSanté Connect and the hospital's (``docs/identity.md``).

django-allauth's OpenID Connect machinery, with what sets PSC apart handled here and nowhere else:
the discovery file name, ``acr_values=eidas1`` and the ``acr`` check, userinfo as a signed JWT, the RPPS
(``SubjectNameID``) as the key of the account, RP-initiated logout with ``id_token_hint``, CIBA.
"""
