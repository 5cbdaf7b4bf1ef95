"""The indicators' dashboard (its figures loaded after the page, htmx), its CSV download, for
administrators and management with ``stats.view_indicators``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dpi.csvexport import csv_response
from dpi.jobs import run_as_job
from dpi.models import AuditEvent, Job
from dpi.selectors import launched_jobs
from dpi.services import audit
from stats import dashboard
from stats.export import csv_rows, header
from stats.forms import IndicatorsForm
from stats.indicators import Period, Row, compute

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


def selected_rows(form: IndicatorsForm) -> tuple[Period, list[Row]]:
    """The indicators of the form's period, site and type (the form is valid)."""
    period = form.cleaned_data["period"]
    rows = dashboard.select(compute(period), finess=form.cleaned_data["finess"], type_code=form.cleaned_data["type"])
    return period, rows


def _query(form: IndicatorsForm) -> str:
    """The query string of what is shown (the CSV link, the figures' URL), without empty fields."""
    query = QueryDict(mutable=True)
    for name in form.fields:
        value = form.data.get(name, "") if form.is_bound else form.fields[name].initial or ""
        if value:
            query[name] = value
    return query.urlencode()


@require_GET
@indicators_reader
def index(request: HttpRequest) -> HttpResponse:
    """The filters at once; the figures come from :func:`figures` after the page (a year can take seconds)."""
    form = IndicatorsForm(request.GET or None)
    valid = form.is_valid() if form.is_bound else True
    status = 200 if valid else 400
    context = {"form": form, "valid": valid, "query": _query(form), "jobs": _exports(request)}
    return render(request, "stats/index.html", context, status=status)


@require_GET
@indicators_reader
def exports(request: HttpRequest) -> HttpResponse:
    """The user's last exports (an htmx fragment, polled while one is under way)."""
    return render(request, "dpi/_jobs.html", {"jobs": _exports(request), "poll": request.path})


def _exports(request: HttpRequest) -> list[Job]:
    return launched_jobs(request.user, Job.Kind.STATS_EXPORT)


@require_GET
@indicators_reader
def figures(request: HttpRequest) -> HttpResponse:
    """The table and charts of the chosen period, site and type (an htmx fragment)."""
    form = IndicatorsForm(request.GET)
    if not form.is_valid():
        return render(request, "stats/_errors.html", {"form": form})
    period, rows = selected_rows(form)
    context = {
        "period": period, "columns": dashboard.months(period), "lines": dashboard.table(rows, period),
        "charts": dashboard.charts(rows, period), "query": _query(form), "last_day": period.until - timedelta(days=1),
    }  # fmt: skip
    return render(request, "stats/_figures.html", context)


@require_GET
@indicators_reader
def indicators_csv(request: HttpRequest) -> HttpResponse:
    form = IndicatorsForm(request.GET)
    if not form.is_valid():
        return render(request, "stats/index.html", {"form": form, "valid": False, "query": ""}, status=400)
    with run_as_job(kind=Job.Kind.STATS_EXPORT, acting_user=request.user) as job:
        period, rows = selected_rows(form)
        first, last = period.since.date(), (period.until - timedelta(days=1)).date()
        filename = f"indicateurs-{first:%Y%m%d}-{last:%Y%m%d}.csv"
        job.result = {"file": filename, "rows": len(rows)}
    audit(
        action=AuditEvent.Action.TRACE_EXPORT,
        request=request,
        detail={"file": filename, "rows": len(rows), "since": period.since.isoformat(),
                "until": period.until.isoformat(), "finess": form.cleaned_data["finess"],
                "type": form.cleaned_data["type"], "view": "stats:indicators_csv", "path": request.path},
    )  # fmt: skip
    return csv_response(header(), csv_rows(rows), filename)
