"""REM SC.STAT/ES.01 and TBB/va1.01 in the browser: a manager opens the usage indicators' dashboard (the
figures arrive after the page), narrows it to one site, one type and the previous year, and downloads the
CSV of what is shown, opened as a spreadsheet would; screenshots under var/artefacts/rem/SC.STAT/ES.01/ and,
for the sendings with a qualified INS per channel (the dashboard's chart and the extract), TBB/va1.01/."""

from __future__ import annotations

import csv
import html
import io

import pytest
from django.contrib.auth.models import Permission

from stats.indicators.common import LETTER
from tests.browser.helpers import log_in, rem_shots
from tests.factories import CareUnitFactory, SiteFactory, UserFactory
from tests.stats.test_indicators import generate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SITES = (("750000011", "Hôpital Saint-Louis"), ("690000022", "Hôpital Édouard-Herriot"))


def _manager():
    user = UserFactory(is_staff=True, username="direction.qualite", first_name="Claire", last_name="MOREAU")
    user.user_permissions.add(Permission.objects.get(codename="view_indicators", content_type__app_label="stats"))
    return user


def _wait_for_figures(page) -> None:
    page.wait_for_selector("[data-testid=indicators-table]")
    page.wait_for_function("[...document.querySelectorAll('canvas[data-chart]')].every(canvas => canvas.dataset.drawn)")


def _as_spreadsheet(page, text: str) -> None:
    """The downloaded file shown as a table, as a spreadsheet opens it (UTF-8 with BOM, ';', decimal comma)."""
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    cells = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows[:40])
    page.set_content(
        "<html lang='fr'><body style='font:12px sans-serif'><h1>indicateurs.csv</h1>"
        f"<table border='1' cellspacing='0' cellpadding='3'>{cells}</table></body></html>"
    )


def test_a_manager_reads_the_indicators_narrows_them_and_downloads_what_is_shown(page, live_server):
    shots, wave_one = rem_shots("SC.STAT/ES.01"), rem_shots("TBB/va1.01")
    units = [CareUnitFactory(site=SiteFactory(finess_eg=finess, name=name)) for finess, name in SITES]
    generate(units)
    log_in(page, live_server, _manager())

    page.get_by_test_id("indicators-link").click()  # the menu's "Indicateurs"
    _wait_for_figures(page)
    assert page.locator("tr[data-code=DMP_OK]").count() >= 1
    assert page.locator("canvas[data-chart]").count() == 6
    shots(page, "dashboard-current-year")
    assert page.get_by_text("Envois avec INS qualifiée, par canal (documents)").is_visible()
    wave_one(page, "dashboard-qualified-ins-per-channel")

    form = page.get_by_test_id("indicators-form")
    form.get_by_label("Période").select_option("annee_precedente")
    form.get_by_label("Site (FINESS géographique)").select_option(SITES[0][0])
    form.get_by_label("Type de document").select_option(LETTER)
    form.get_by_role("button", name="Afficher").click()
    page.wait_for_url("**finess=750000011**")
    _wait_for_figures(page)
    assert page.get_by_role("heading", name="Du 01/01/2025 au 31/12/2025").is_visible()
    types = set(page.locator("table.indicators tbody td:nth-child(2)").all_inner_texts())
    assert types == {"Lettre de liaison à la sortie d'un établissement de soins"}
    shots(page, "filtered-site-type-previous-year")

    with page.expect_download() as download:
        page.get_by_test_id("indicators-csv-shown").click()
    assert download.value.suggested_filename == "indicateurs-20250101-20251231.csv"
    text = open(download.value.path(), encoding="utf-8").read()
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    assert rows[0][0] == "indicateur" and len(rows) > 1
    assert {row[2] for row in rows[1:]} == {SITES[0][0]} and {row[3] for row in rows[1:]} == {LETTER}
    assert {row[6][:4] for row in rows[1:]} == {"2025"}
    assert {"MSS_PRO_INS_OK", "MSS_PATIENT_INS_KO"} <= {row[0] for row in rows[1:]}  # TBB/va1.01's extract
    _as_spreadsheet(page, text)
    shots(page, "csv-opened")
    wave_one(page, "extract-opened")
