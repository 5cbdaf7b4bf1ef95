"""Shell pages: care-unit switch, the mandatory notice, the idle clock of open pages (the home page, patients
of the current care unit, is ``patients.views.home``)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dpi.forms import NoticeAcknowledgementForm
from dpi.middleware import idle_seconds_left
from dpi.models import NoticeAcknowledgement
from dpi.selectors import SESSION_CARE_UNIT, user_care_units
from dpi.services import acknowledge_notice
from dpi.validators import is_database_id


@login_required
@require_POST
def select_care_unit(request: HttpRequest) -> HttpResponse:
    chosen = request.POST.get("care_unit", "")
    unit = user_care_units(request.user).filter(pk=chosen).first() if is_database_id(chosen) else None
    if unit is None:
        return HttpResponseBadRequest("Unité inconnue.")
    request.session[SESSION_CARE_UNIT] = unit.pk
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "home"
    return redirect(target)


def _safe_next(request: HttpRequest, target: str | None) -> str:
    """Where to go after the notice: a page of this site, never the notice itself; home otherwise."""
    if (
        not target
        or not url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        or target.split("?", 1)[0] == reverse("notice")
    ):
        return reverse("home")
    return target


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def notice(request: HttpRequest) -> HttpResponse:
    """The mandatory notice on the national identifier (REM SC.DMP/CONF.11) and its acknowledgement box.

    :class:`dpi.middleware.RequireNoticeAcknowledgementMiddleware` brings every signed-in user here
    until they acknowledged the current version; afterwards the page can still be reread.
    """
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    current = NoticeAcknowledgement.CURRENT
    acknowledgement = NoticeAcknowledgement.objects.filter(user=request.user, notice=current).first()
    form = NoticeAcknowledgementForm()
    if request.method == "POST":
        if acknowledgement is not None:
            return redirect(next_url)  # already acknowledged (a second tab, a double click)
        form = NoticeAcknowledgementForm(request.POST)
        if form.is_valid():
            acknowledge_notice(acting_user=request.user, notice=form.cleaned_data["notice"], request=request)
            return redirect(next_url)
    context = {"form": form, "acknowledgement": acknowledgement, "next": next_url, "notice_version": current}
    return render(request, "dpi/notice.html", context)


@never_cache
@require_GET
def idle_state(request: HttpRequest) -> JsonResponse:
    """Seconds left before the session ends for lack of activity, asked by open pages (static/js/idle.js,
    as a background request that does not restart the clock) when their own countdown runs out."""
    return JsonResponse({"remaining": idle_seconds_left(request)})
