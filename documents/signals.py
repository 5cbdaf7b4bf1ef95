"""Signals other apps listen to (dependencies point one way: ``documents`` never imports ``dmp``).

``version_validated`` is sent inside the validation transaction with ``version`` and
``acting_user``; ``document_deleted`` inside the deletion transaction with ``document``, ``acting_user``
and ``notify_mss`` (the user asked that the document's MSSanté recipients be told).
Receivers that write must do so in the same transaction.
"""

from django.dispatch import Signal

version_validated = Signal()
document_deleted = Signal()
