"""The indicators page and its CSV download, for administrators with ``stats.view_indicators``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dpi.csvexport import csv_response
from dpi.models import AuditEvent
from dpi.services import audit
from stats.export import csv_rows, header
from stats.forms import PeriodForm
from stats.indicators import compute

View = Callable[..., HttpResponse]


def indicators_reader(view: View) -> View:
    """Staff members with the dedicated permission only."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not (request.user.is_staff and request.user.has_perm("stats.view_indicators")):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


@require_GET
@indicators_reader
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "stats/index.html", {"form": PeriodForm()})


@require_GET
@indicators_reader
def indicators_csv(request: HttpRequest) -> HttpResponse:
    form = PeriodForm(request.GET)
    if not form.is_valid():
        return render(request, "stats/index.html", {"form": form}, status=400)
    period = form.cleaned_data["period"]
    rows = compute(period)
    first, last = period.since.date(), (period.until - timedelta(days=1)).date()
    filename = f"indicateurs-{first:%Y%m%d}-{last:%Y%m%d}.csv"
    audit(
        action=AuditEvent.Action.TRACE_EXPORT,
        request=request,
        detail={"file": filename, "rows": len(rows), "since": period.since.isoformat(),
                "until": period.until.isoformat(), "view": "stats:indicators_csv", "path": request.path},
    )  # fmt: skip
    return csv_response(header(), csv_rows(rows), filename)
