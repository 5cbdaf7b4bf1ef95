"""Bounded CDA renderings (issue 17): every stylesheet runs in a child process within the CDA_XSLT_* limits; one
that exceeds them on a document is shown as too costly with ours instead, and is never run on it again.

No timing is asserted: the limits are made small and the outcome is what is checked."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from documents import rendering
from documents.cda import InvalidCda, build_cda
from documents.models import Document
from documents.rendering import render_cda_html
from tests.documents.test_cda import TINY_PDF, make_content
from tests.documents.test_import import PRODUCER_XSL
from tests.documents.test_rendering import cda, page_text, stylesheet
from tests.factories import EpisodeFactory, PatientFactory

pytestmark = pytest.mark.django_db

EVERY_NODE_FOUR_TIMES = stylesheet(
    "<html><body><p>jamais affiché</p>"
    '<xsl:for-each select="//node()"><xsl:for-each select="//node()">'
    '<xsl:for-each select="//node()"><xsl:for-each select="//node()">'
    '<xsl:if test="false()">.</xsl:if>'
    "</xsl:for-each></xsl:for-each></xsl:for-each></xsl:for-each></body></html>"
)
GROWING = stylesheet(  # 2**40 elements in a variable: memory runs out long before
    '<xsl:variable name="tree"><xsl:call-template name="grow"><xsl:with-param name="depth" select="40"/>'
    '</xsl:call-template></xsl:variable><html><body><p><xsl:value-of select="string-length($tree)"/></p></body></html>'
).replace(
    "</xsl:stylesheet>",
    '<xsl:template name="grow"><xsl:param name="depth"/><xsl:if test="$depth &gt; 0"><i>'
    '<xsl:call-template name="grow"><xsl:with-param name="depth" select="$depth - 1"/></xsl:call-template>'
    '<xsl:call-template name="grow"><xsl:with-param name="depth" select="$depth - 1"/></xsl:call-template>'
    "</i></xsl:if></xsl:template></xsl:stylesheet>",
)
PRODUCER_COSTLY = "La feuille de style du producteur est trop coûteuse pour ce document"
AGENCY_COSTLY = "La feuille de style de l'ANS est trop coûteuse pour ce document"
DOCUMENT_COSTLY = "Ce document est trop volumineux ou trop complexe pour être affiché"
TITLE = "Lettre de liaison de sortie"  # make_content()'s title, written by our stylesheet


@pytest.fixture
def runs(monkeypatch) -> list[str]:
    """The kinds of stylesheet actually run in a child process, in order (the real runs, only recorded)."""
    kinds: list[str] = []
    real = rendering.run_xslt

    def recording(**arguments: object):
        kinds.append(arguments["kind"])
        return real(**arguments)

    monkeypatch.setattr(rendering, "run_xslt", recording)
    return kinds


@pytest.fixture(autouse=True)
def own_cache(settings) -> None:
    """The verdicts in a cache of this test alone: parallel workers clear the suite's shared Redis cache."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "xslt"}}


@pytest.fixture
def small_limits(settings) -> None:
    settings.CDA_XSLT_TIMEOUT_SECONDS = 3  # ours takes a tenth of it, even on a busy machine


def _imported_with(client, care_unit, doctor, xsl: bytes) -> Document:
    patient = PatientFactory(birth_name="X")
    EpisodeFactory(patient=patient, care_unit=care_unit)
    client.force_login(doctor)
    client.post(
        reverse("documents:import", args=[patient.pk]),
        {
            "cda": SimpleUploadedFile("d.xml", build_cda(make_content(), pdf=TINY_PDF, level="N1")),
            "stylesheet": SimpleUploadedFile("p.xsl", xsl),
            "accept_identity_differences": "on",
        },
    )
    return Document.objects.get()


def test_a_producer_stylesheet_looping_over_every_node_is_stopped_and_ours_shown_then_never_run_again(
    client, care_unit, doctor, small_limits, runs
):
    document = _imported_with(client, care_unit, doctor, EVERY_NODE_FOUR_TIMES.encode())
    url = reverse("documents:cda", args=[document.pk, 1])

    first = client.get(url, {"stylesheet": "producer"})
    assert runs == ["producer", "dpi"]  # stopped at the deadline, then ours
    runs.clear()
    second = client.get(url, {"stylesheet": "producer"})

    assert runs == ["dpi"]  # the verdict is remembered: the producer's stylesheet is not run again
    for response in (first, second):
        html = response.content.decode()
        assert response.status_code == 200 and response["Content-Security-Policy"].startswith("default-src 'none'")
        assert PRODUCER_COSTLY in html and TITLE in page_text(html) and "jamais affiché" not in html


def test_a_normal_producer_stylesheet_still_renders_within_the_limits(client, care_unit, doctor, small_limits, runs):
    document = _imported_with(client, care_unit, doctor, PRODUCER_XSL)

    html = client.get(reverse("documents:cda", args=[document.pk, 1]), {"stylesheet": "producer"}).content.decode()

    assert "Rendu du producteur" in html and "trop coûteuse" not in html and "<script" not in html
    assert runs == ["producer"]


def test_a_producer_stylesheet_that_eats_memory_is_stopped_at_the_memory_limit(settings):
    settings.CDA_XSLT_MAX_MEMORY_MB = 256
    html = render_cda_html(cda("<component><section><title>Motif</title></section></component>"),
                           stylesheet="producer", producer_xsl=GROWING.encode())  # fmt: skip
    assert PRODUCER_COSTLY in html and "Motif" in page_text(html)


def test_the_agency_stylesheet_is_bounded_too(tmp_path, settings, small_limits, runs):
    (tmp_path / "cda_asip.xsl").write_text(EVERY_NODE_FOUR_TIMES, encoding="utf-8")
    settings.CDA_AGENCY_STYLESHEET_DIR = str(tmp_path)
    data = build_cda(make_content(), pdf=TINY_PDF, level="N1")

    first = render_cda_html(data, stylesheet="agency")
    second = render_cda_html(data, stylesheet="agency")

    assert runs == ["agency", "dpi", "dpi"]
    for html in (first, second):
        assert AGENCY_COSTLY in html and TITLE in page_text(html) and "jamais affiché" not in html


def test_a_huge_document_that_makes_even_ours_exceed_the_limits_gets_a_note_and_is_not_rendered_again(
    settings, small_limits, runs
):
    settings.CDA_XSLT_MAX_OUTPUT_BYTES = 1024 * 1024
    paragraphs = "".join(f"<paragraph>Ligne {n} : {'x' * 100}</paragraph>" for n in range(20_000))
    data = cda(f"<component><section><title>Énorme</title><text>{paragraphs}</text></section></component>")

    first = render_cda_html(data)
    second = render_cda_html(data)

    assert runs == ["dpi"]
    for html in (first, second):
        assert DOCUMENT_COSTLY in html and "Ligne 1 " not in html and len(html) < 10_000


def test_a_deeply_nested_document_is_refused_before_any_stylesheet_runs(runs):
    nested = "<content>" * 5000 + "profond" + "</content>" * 5000
    data = cda(f"<component><section><title>T</title><text>{nested}</text></section></component>")
    with pytest.raises(InvalidCda):
        render_cda_html(data, stylesheet="producer", producer_xsl=EVERY_NODE_FOUR_TIMES.encode())
    assert runs == []


def test_raising_the_limits_gives_a_stylesheet_judged_too_costly_another_chance(settings, runs):
    settings.CDA_XSLT_MAX_OUTPUT_BYTES = 100
    data = cda("<component><section><title>Motif</title></section></component>")
    assert PRODUCER_COSTLY in render_cda_html(data, stylesheet="producer", producer_xsl=PRODUCER_XSL)
    settings.CDA_XSLT_MAX_OUTPUT_BYTES = 1024 * 1024
    assert "Rendu du producteur" in render_cda_html(data, stylesheet="producer", producer_xsl=PRODUCER_XSL)
