"""The sandbox DMP: a strict peer of the national DMP for the AIR simplifié consultation.

SOAP 1.2 over HTTPS with mutual TLS, the VIHF checks, TD0.2/TD0.3, ITI-18/43/57 and the web pages of
``docs/dmp-protocol.md``; see ``docs/sandbox.md`` ("Sandbox DMP"). Start it with
:func:`sandbox.dmp.server.start_dmp_in_thread` (tests) or ``manage.py run_sandbox`` (demo).
"""
