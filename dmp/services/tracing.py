"""Every DMP transaction leaves one trace row (SC.DMP/CONF.14-15), whatever its outcome.

The trace is written outside the caller's transaction (autocommit): a refused or failed call is
traced even when the use case that made it rolls back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TypeVar

from dmp.access import Context
from dmp.clients.errors import DmpError, DmpProtocolError, DmpUnavailable
from dmp.models import DmpTransaction

T = TypeVar("T")
Outcome = DmpTransaction.Outcome


def traced(
    context: Context,
    kind: str,
    call: Callable[[], T],
    *,
    detail: str = "",
    documents: Callable[[T], Iterable[str]] | Iterable[str] = (),
) -> T:
    """Run one client call for ``context`` and trace it; ``documents`` names the documents it
    concerned (a list, or a function of the result)."""
    started = time.monotonic()
    try:
        result = call()
    except DmpError as error:
        named = [] if callable(documents) else list(documents)
        record(context, kind, detail, _outcome(error), started, named, error=error)
        raise
    named = list(documents(result) if callable(documents) else documents)
    record(context, kind, detail, Outcome.SUCCESS, started, named)
    return result


def record(
    context: Context,
    kind: str,
    detail: str,
    outcome: str,
    started: float,
    documents: list[str],
    *,
    error: DmpError | None = None,
) -> DmpTransaction:
    user = context.user
    return DmpTransaction.objects.create(
        kind=kind,
        detail=detail[:120],
        user=user,
        user_name=user.display_name[:200],
        national_id=context.actor.national_id,
        profession=user.profession,
        specialty=user.specialty,
        care_unit=context.care_unit,
        finess_eg=context.finess_eg,
        patient=context.patient,
        ins=context.patient.ins,
        documents=documents,
        document_count=len(documents),
        outcome=outcome,
        error_code=(error.code if error else "")[:80],
        error_text=(str(error) if error else "")[:500],
        duration_ms=int((time.monotonic() - started) * 1000),
    )


def _outcome(error: DmpError) -> str:
    if isinstance(error, DmpUnavailable):
        return Outcome.UNAVAILABLE
    if isinstance(error, DmpProtocolError):
        return Outcome.ERROR
    return Outcome.REFUSED
