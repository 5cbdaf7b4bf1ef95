"""The DPI's clients of the DMP (AIR simplifié), one module per transaction family.

Wire contract: docs/dmp-protocol.md. Data in and out: :mod:`~dmp.clients.types`; errors:
:mod:`~dmp.clients.errors`. Every public client function takes ``config=None`` (the settings)
or a :class:`~dmp.clients.config.DmpClientConfig`.

* ``patients``: TD0.2 existence and authorisation, TD0.3 set the authorisation;
* ``registry``: TD3.1 stored queries (ITI-18), TD3.3a/b visibility update (ITI-57);
* ``repository``: TD3.2 retrieve (ITI-43, MTOM);
* ``browser``: TD0.10 web PS and consumer DRIMbox forms posted by the user's browser;
* ``vihf``: the signed SAML assertion naming the professional and the patient;
* ``soap``: one SOAP 1.2 exchange (WS-Addressing, faults); ``transport``: HTTPS with mutual TLS;
  ``mtom``: multipart/related; ``ebrim``: XDS metadata; ``config``: the settings, typed.
"""
