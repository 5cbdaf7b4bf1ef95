"""Signals the apps above ``patients`` listen to (dependencies point one way: ``patients`` never imports ``consent``).

``pam_consent_received`` is sent by the PAM handler (``patients/hl7.py``), inside the message's transaction,
for a message about a visit that carries a ZFA segment, with ``episode`` (saved), ``consent``
(:class:`patients.pam.DmpConsent`), ``collected_at`` (the event's time, for a ZFA-10 or ZFA-12 left empty)
and ``message`` (the journal row). A receiver writes in that transaction and returns the notes to keep in
the journal (a list of strings, empty when there is nothing to say).
"""

from django.dispatch import Signal

pam_consent_received = Signal()
