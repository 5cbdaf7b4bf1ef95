"""Test support shared across the suite's folders, loaded as pytest plugins (``pytest_plugins`` in
``tests/conftest.py``): the fixtures defined here are visible to every test, and the plain helpers
(``wait_until``, ``adt_message``, ``LETTER_FIELDS``...) are imported from these modules, never from a
``conftest.py``. A folder's ``conftest.py`` holds only the fixtures of that folder.

- ``waiting``: :func:`wait_until`, synchronisation with other threads;
- ``browser``: Debian's chromium driven by Playwright, the screenshots of the scenarios;
- ``hl7``: the DPI's MLLP listener, a minimal ADT message, the national HL7 samples;
- ``engine``: one inbound message through the engine as a peer would send it, and its ACK;
- ``feeding``: a discharge letter, the sandbox PFI and a real Celery worker;
- ``sandbox_dmp``: the sandbox DMP over mutual TLS, and the DPI pointed at it (``live_dmp``).
"""
