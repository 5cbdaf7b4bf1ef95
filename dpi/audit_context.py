"""The request id that groups one action's audit rows.

One id per unit of work: an HTTP request (:class:`dpi.middleware.AuditContextMiddleware`), a Celery task
(``task_prerun``, :mod:`dpi.celery`), an HL7 message, a management command. :func:`bind` sets it for the
current thread or task (a ``contextvars`` variable, so concurrent requests never share one);
:func:`dpi.services.audit_row` reads it, so no caller passes it by hand. Outside any unit of work a row has
no request id.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_request_id: ContextVar[uuid.UUID | None] = ContextVar("dpi_request_id", default=None)


def current_request_id() -> uuid.UUID | None:
    """The id of the unit of work under way, or None outside any."""
    return _request_id.get()


@contextmanager
def bind(request_id: uuid.UUID | None = None) -> Iterator[uuid.UUID]:
    """Run the block as one unit of work: its audit rows carry ``request_id`` (a new one by default).

    Only entry points bind (the middleware, the task base class, the MLLP listener, ``manage.py``); the
    services they call never do, so one action's rows share its id. The previous id is restored on exit."""
    bound = request_id or uuid.uuid4()
    token = _request_id.set(bound)
    try:
        yield bound
    finally:
        _request_id.reset(token)
