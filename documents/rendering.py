"""Human-readable display of any CDA R2 document (SC.CDA/VISU.01): ours, the agency's, or the producer's stylesheet.

* :func:`render_cda_html` parses the document with the hardened parser, applies our own XSLT 1.0 stylesheet
  (``documents/xslt/cda.xsl``) with no file or network access at all, or the agency's stylesheet when the hospital
  installed it (``settings.CDA_AGENCY_STYLESHEET_DIR``), reading only inside that folder, or the stylesheet the
  producer sent with an imported document (SC.CDA/INT.15), with no file or network access. If the chosen
  stylesheet cannot be loaded or fails on the document, ours is used with a visible note.
* Every transformation runs in a child process within time, memory and output limits (settings ``CDA_XSLT_*``,
  :mod:`documents.xslt_sandbox`); a stylesheet that exceeds them on a document is "trop coûteuse": ours is shown
  instead with a note, and the verdict is remembered (cache, keyed by the stylesheet, the document and the
  limits) so that it is never run again on that document.
* Whatever the stylesheet, its HTML output is parsed again and sanitised (no script, event attribute, frame,
  object, form, refresh, and no URL other than a page fragment or an embedded raster image).
* The page is meant to be served with :data:`CSP_FOR_RENDERED_CDA` inside a sandboxed frame.

See ``docs/cda-display.md``.
"""

from __future__ import annotations

import hashlib
import logging
import re
from functools import cache
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache as django_cache
from django.utils.translation import gettext as _
from lxml import etree
from lxml import html as lxml_html

from documents import codes
from documents.cda import NS, InvalidCda
from documents.xslt_sandbox import COSTLY, OK, Limits, Outcome, run_xslt
from dpi.xmlsafe import InvalidXML, parse_xml

logger = logging.getLogger(__name__)

DPI_STYLESHEET = Path(__file__).resolve().parent / "xslt" / "cda.xsl"
DEFAULT_AGENCY_STYLESHEET_NAME = "cda_asip.xsl"
STYLESHEETS = ("dpi", "agency", "producer")

# Sent with the rendered page. Nothing is loaded from anywhere (default-src 'none': no script, font, frame,
# fetch...) except the images embedded in the document (data:); inline CSS is the stylesheet's own (ours never
# copies a style from the document, and CSS can reach nothing under this policy); no <base>, no form target;
# only our own pages may frame it; "sandbox" without allow-scripts: scripts never run, the page has a unique
# origin, no popup, no top-level navigation.
CSP_FOR_RENDERED_CDA = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'; sandbox"
)

_DROPPED_ELEMENTS = frozenset(
    {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "form", "base", "link", "portal"}
    | {"animate", "set"}  # SVG animations can rewrite an href
)
_URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "background", "poster", "data", "cite", "longdesc", "lowsrc", "dynsrc"}
    | {"codebase", "manifest", "usemap"}
)
_DROPPED_ATTRIBUTES = frozenset({"srcset", "srcdoc", "ping"})
_EMBEDDED_IMAGE = re.compile(r"data:image/(png|jpeg|gif);base64,")


def agency_stylesheet_path() -> Path | None:
    """The agency's stylesheet installed by the hospital, or None when the setting is empty or the file absent."""
    installed = _agency_stylesheet()
    return installed[0] if installed else None


def render_cda_html(data: bytes, *, stylesheet: str = "dpi", producer_xsl: bytes = b"") -> str:
    """A complete, sanitised HTML page showing the CDA document ``data``.

    ``stylesheet`` is ``"dpi"`` (ours), ``"agency"`` (the national agency's, when installed) or ``"producer"``
    (``producer_xsl``, the stylesheet that came with the document); when the chosen one is missing or fails,
    ours with a note saying so. Raises :class:`~documents.cda.InvalidCda` (French message) for what is not a
    readable CDA document, DOCTYPE included.
    """
    if stylesheet not in STYLESHEETS:
        raise ValueError(f"Unknown CDA stylesheet {stylesheet!r}, expected one of {STYLESHEETS}")
    root = _parse_cda(data)  # refused here, with its reason, before any stylesheet runs
    page, note = None, ""
    if stylesheet == "agency":
        page, note = _agency_page(data)
    elif stylesheet == "producer":
        page, note = _producer_page(data, producer_xsl)
    if page is None:
        page, own_note = _dpi_page(_with_value_set_labels(root) or data)
        note = " ".join(filter(None, [note, own_note]))
    if note:
        _add_note(page, note)
    _sanitise(page)
    _declare_charset(page)
    return "<!DOCTYPE html>\n" + lxml_html.tostring(page, encoding="unicode", method="html")


def _parse_cda(data: bytes) -> etree._Element:
    try:
        root = parse_xml(data)
    except InvalidXML as exc:
        raise InvalidCda(_("Document CDA illisible : %(reason)s") % {"reason": exc}) from exc
    if root.tag != f"{{{NS}}}ClinicalDocument":
        raise InvalidCda(
            _("Ce fichier n'est pas un document CDA R2 (élément racine %(tag)s au lieu de ClinicalDocument).")
            % {"tag": root.tag}
        )
    return root


# --- Labels of the national value sets ---------------------------------------------------------------------

_VALUE_SETS = (
    codes.DOCUMENT_TYPES,
    codes.AUTHOR_SPECIALTIES,
    codes.PRACTICE_SETTINGS,
    codes.FACILITY_TYPES,
    codes.ENCOUNTER_KINDS,
    codes.GENDERS,
    codes.CONFIDENTIALITIES,
)


@cache
def _labels() -> dict[tuple[str, str], str]:
    """(code system, code) -> label, for the value sets compiled in :mod:`documents.codes`."""
    return {(c.code_system, c.code): c.label for table in _VALUE_SETS for c in table.values()}


def _with_value_set_labels(root: etree._Element) -> bytes | None:
    """The document with a ``displayName`` from the national value set on each coded element that has none
    (a profession, an encounter or a facility type shown as ``G15_10/SM14``, ``IMP``, ``SA01`` means nothing
    to a clinician); None when there was nothing to add. The document's own labels are never replaced."""
    labels, added = _labels(), False
    for element in root.iter():
        code = element.get("code") if isinstance(element.tag, str) else None
        if not code or (element.get("displayName") or "").strip():
            continue
        label = labels.get(((element.get("codeSystem") or "").strip(), code.strip()))
        if label:
            element.set("displayName", label)
            added = True
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8") if added else None


# --- Bounded runs ------------------------------------------------------------------------------------------


def _limits() -> Limits:
    return Limits(
        seconds=float(settings.CDA_XSLT_TIMEOUT_SECONDS),
        memory_bytes=int(settings.CDA_XSLT_MAX_MEMORY_MB) * 1024 * 1024,
        output_bytes=int(settings.CDA_XSLT_MAX_OUTPUT_BYTES),
    )


def _bounded(kind: str, identity: bytes, data: bytes, **stylesheet: object) -> Outcome:
    """Run a stylesheet in the sandbox, unless it is already known to exceed the limits on this document.

    ``identity`` names the stylesheet (its bytes, or its path and version): with the document's bytes and the
    limits it keys the remembered verdict, so a new stylesheet, another document or raised limits run again.
    """
    limits = _limits()
    digest = hashlib.sha256()
    for part in (kind.encode(), identity, repr(limits).encode(), data):
        digest.update(hashlib.sha256(part).digest())
    key = f"cda-xslt-costly:{digest.hexdigest()}"
    if django_cache.get(key):
        logger.info("CDA %s stylesheet already known to exceed the limits on this document: not run again", kind)
        return Outcome(COSTLY, reason="known")
    outcome = run_xslt(kind=kind, document=data, limits=limits, **stylesheet)
    if outcome.status == COSTLY:
        django_cache.set(key, True, timeout=None)
        logger.warning("CDA %s stylesheet exceeded the limits (%s), stopped; ours is shown", kind, outcome.reason)
    return outcome


@cache
def _dpi_identity() -> bytes:
    return DPI_STYLESHEET.read_bytes()


def _dpi_page(data: bytes) -> tuple[lxml_html.HtmlElement, str]:
    """Our rendering; a hostile document that makes even ours exceed the limits gets a page with a note only."""
    outcome = _bounded("dpi", _dpi_identity(), data, path=str(DPI_STYLESHEET))
    if outcome.status == OK:
        return _html_tree(outcome.output), ""
    page = _html_tree("<html><head><title>Document CDA</title></head><body></body></html>")
    if outcome.status != COSTLY:  # ours runs on any CDA the parser accepts: a failure is ours to look at
        logger.error("The DPI's CDA stylesheet failed on a document: %s", outcome.reason)
        return page, _(
            "Ce document n'a pas pu être affiché par la feuille de style du DPI : "
            "téléchargez le fichier CDA pour le consulter."
        )
    return page, _(
        "Ce document est trop volumineux ou trop complexe pour être affiché (limites de temps ou de taille "
        "dépassées) : téléchargez le fichier CDA pour le consulter."
    )


# --- The producer's stylesheet -----------------------------------------------------------------------------


def _producer_page(data: bytes, xsl: bytes) -> tuple[lxml_html.HtmlElement | None, str]:
    """The producer's rendering, or (None, note): it reads nothing (DENY_ALL), so an import or include fails."""
    try:
        parse_xml(xsl)
    except InvalidXML as exc:
        outcome = Outcome("failed", reason=str(exc))
    else:
        outcome = _bounded("producer", xsl, data, xsl=xsl)
    page = _output_page(outcome)
    if page is not None:
        return page, ""
    if outcome.status == COSTLY:
        return None, _(
            "La feuille de style du producteur est trop coûteuse pour ce document (limites de temps ou de taille "
            "dépassées) : il est affiché avec la feuille de style du DPI."
        )
    logger.warning("CDA producer stylesheet failed, falling back to ours: %s", outcome.reason)
    return None, _(
        "La feuille de style du producteur n'a pas pu être appliquée à ce document : "
        "il est affiché avec la feuille de style du DPI."
    )


# --- The national agency's stylesheet ---------------------------------------------------------------------


def _agency_stylesheet() -> tuple[Path, Path] | None:
    """(stylesheet file, folder) from the settings, when the file is there."""
    folder_setting = settings.CDA_AGENCY_STYLESHEET_DIR
    if not folder_setting:
        return None
    folder = Path(folder_setting).resolve()
    name = settings.CDA_AGENCY_STYLESHEET_NAME or DEFAULT_AGENCY_STYLESHEET_NAME
    path = (folder / name).resolve()
    return (path, folder) if path.is_relative_to(folder) and path.is_file() else None


def _agency_page(data: bytes) -> tuple[lxml_html.HtmlElement | None, str]:
    """The agency's rendering, or (None, note) when it is not installed, fails or is too costly on this document."""
    installed = _agency_stylesheet()
    if installed is None:
        return None, _("La feuille de style de l'ANS n'est pas installée : le document est affiché avec celle du DPI.")
    path, folder = installed
    stat = path.stat()
    identity = f"{path}:{stat.st_mtime_ns}:{stat.st_size}".encode()
    outcome = _bounded("agency", identity, data, path=str(path), folder=str(folder))
    if outcome.status == COSTLY:
        return None, _(
            "La feuille de style de l'ANS est trop coûteuse pour ce document (limites de temps ou de taille "
            "dépassées) : il est affiché avec la feuille de style du DPI."
        )
    page = _output_page(outcome)
    if page is None:
        logger.warning("CDA agency stylesheet %s failed, falling back to ours: %s", path, outcome.reason)
        return None, _(
            "La feuille de style de l'ANS n'a pas pu être appliquée à ce document : "
            "il est affiché avec la feuille de style du DPI."
        )
    _inline_local_css(page, folder)
    return page, ""


def _inline_local_css(page: lxml_html.HtmlElement, folder: Path) -> None:
    """A CSS file the stylesheet links (``../FeuilleDeStyle/cda.css``) is looked up by name in the folder and
    inlined, since the page may load nothing; links to anything else are dropped by the sanitiser."""
    for link in list(page.iter("link")):
        if "stylesheet" not in (link.get("rel") or "").lower().split():
            continue
        name = PurePosixPath(urlsplit(link.get("href") or "").path).name
        path = (folder / name).resolve()
        if name.endswith(".css") and path.is_relative_to(folder) and path.is_file():
            style = lxml_html.Element("style")
            style.text = path.read_text(encoding="utf-8", errors="replace").replace("</", "<\\/")
            link.addprevious(style)


# --- Output -----------------------------------------------------------------------------------------------


def _output_page(outcome: Outcome) -> lxml_html.HtmlElement | None:
    """The page a producer's or the agency's stylesheet wrote, or None when it failed or wrote no page at all."""
    if outcome.status != OK:
        return None
    try:
        return _html_tree(outcome.output)
    except (etree.LxmlError, ValueError) as exc:  # e.g. only a comment, removed by the parser: an empty document
        logger.warning("CDA stylesheet output is not a page: %s", exc)
        return None


def _html_tree(output: str) -> lxml_html.HtmlElement:
    """Parse the stylesheet's output the way a browser would, so that what is sanitised is what would run."""
    parser = lxml_html.HTMLParser(remove_comments=True, remove_pis=True, no_network=True)
    return lxml_html.document_fromstring(output, parser=parser)


def _sanitise(page: lxml_html.HtmlElement) -> None:
    """Defence in depth behind the sandbox and the CSP, for the output of any stylesheet."""
    for element in list(page.iter(etree.Element)):
        if element.tag.lower() in _DROPPED_ELEMENTS or _is_refresh(element) or _is_markup_in_style(element):
            element.drop_tree()
            continue
        for name, value in list(element.attrib.items()):
            local = name.lower().rpartition(":")[2]
            if (
                local.startswith("on")
                or local in _DROPPED_ATTRIBUTES
                or (local in _URL_ATTRIBUTES and not _safe_url(value))
            ):
                del element.attrib[name]


def _is_markup_in_style(element: lxml_html.HtmlElement) -> bool:
    """A ``<style>`` holding markup inside SVG or MathML: text for the parser here, but elements for a browser,
    which parses a foreign element's style as markup (``<svg><style><img onerror=…>``): what was sanitised would
    not be what runs."""
    return (
        element.tag.lower() == "style"
        and "<" in (element.text or "")
        and any(str(ancestor.tag).lower() in ("svg", "math") for ancestor in element.iterancestors())
    )


def _is_refresh(element: lxml_html.HtmlElement) -> bool:
    return element.tag.lower() == "meta" and (element.get("http-equiv") or "").strip().lower() == "refresh"


def _safe_url(value: str) -> bool:
    """Only a fragment of the page itself or an embedded PNG/JPEG/GIF image (browsers ignore blanks in URLs)."""
    compact = "".join(character for character in value if character > " ").lower()
    return compact.startswith("#") or bool(_EMBEDDED_IMAGE.match(compact))


def _add_note(page: lxml_html.HtmlElement, note: str) -> None:
    paragraph = lxml_html.Element("p", {"class": "cda-fallback-note", "role": "status"})
    paragraph.text = note
    page.body.insert(0, paragraph)


def _declare_charset(page: lxml_html.HtmlElement) -> None:
    """The page is a str, served (and embedded) as UTF-8 whatever the stylesheet declared."""
    for meta in list(page.iter("meta")):
        if meta.get("charset") is not None or (meta.get("http-equiv") or "").lower() == "content-type":
            meta.drop_tree()
    head = page.find("head")
    if head is None:
        head = lxml_html.Element("head")
        page.insert(0, head)
    head.insert(0, lxml_html.Element("meta", {"charset": "utf-8"}))
