"""The hostile-content catalogue (issue 17 §2): every hostile input as data, with what must happen to it.

One catalogue, run through every upload and rendering path by ``test_hostile_content.py`` and, for rendering,
in Debian's chromium by ``tests/browser/test_hostile_rendering_scenario.py``:

* :data:`REFUSED_DOCUMENTS`: XML that must be refused before anything reads it (XXE, entity bombs, external DTD,
  nesting, encodings, size), with a French reason the user sees;
* :data:`NARRATIVES`: well-formed CDA documents that are accepted but carry hostile content (script in the
  narrative and the header, ``linkHtml`` to ``javascript:``, ``renderMultiMedia`` of SVG/HTML, ``styleCode`` and
  event attributes, XInclude): kept as they are, rendered inert;
* :data:`PRODUCER_STYLESHEETS`: hostile producer XSL (``document()`` on local files, imports, loops over
  ``//node()``, writing files, script-ish or mutating output): never reads or writes a file, never hangs, and what
  it writes is rendered inert;
* :func:`hostile_archives`: hostile IHE_XDM zips (bombs, many entries, nesting, traversal, links);
* :data:`HOSTILE_NAMES`: patient names carrying markup and script, as a PAM feed or a CDA header may send them.

A script in any payload sets ``window.__pwned`` and opens a dialog, so a browser shows whether one ran.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

from tests.mss.xdm_builder import archive, metadata

SECRET_FILE = "/etc/passwd"
# What the secret files hold, never to be seen in any answer: /etc/passwd's first line, and the marker of the
# XML secret a test writes beside the stylesheets (``SECRET_XML``).
SECRET_MARKERS = ("root:x:0:0", "SECRET-DU-SERVEUR")
SECRET_XML = "<secret>SECRET-DU-SERVEUR</secret>"
PWN = "window.__pwned=1;alert(document.domain)"
HL7 = "urn:hl7-org:v3"
XSL_OPEN = (
    '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" xmlns:hl7="urn:hl7-org:v3"'
    ' xmlns:exsl="http://exslt.org/common" xmlns:dyn="http://exslt.org/dynamic"'
    ' extension-element-prefixes="exsl dyn">'
)


@dataclass(frozen=True)
class Refused:
    """An input the DPI must refuse, with ``reason`` a fragment of the French message the user (or peer) reads."""

    name: str
    data: bytes
    reason: str
    must: str


@dataclass(frozen=True)
class Narrative:
    """A well-formed CDA whose body (``sections``, inside structuredBody) or header carries hostile content."""

    name: str
    sections: str
    must: str
    title: str = ""
    family: str = ""  # the patient's family name in the header, when hostile

    def apply(self, cda: bytes) -> bytes:
        """``cda`` (any CDA R2 document) with this body, and this title and family name when set."""
        root = etree.fromstring(cda)
        for body in root.findall(f"{{{HL7}}}component"):
            root.remove(body)
        body = etree.fromstring(
            f'<component xmlns="{HL7}" xmlns:xi="http://www.w3.org/2001/XInclude"><structuredBody>'
            f"{self.sections}</structuredBody></component>"
        )
        root.append(body)
        if self.title:
            root.find(f"{{{HL7}}}title").text = self.title
        if self.family:
            for family in root.iterfind(f".//{{{HL7}}}recordTarget//{{{HL7}}}family"):
                family.text = self.family
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@dataclass(frozen=True)
class Stylesheet:
    """A producer's XSL; ``{secret}`` is replaced by the URL of a secret XML file, ``{written}`` by a path the
    stylesheet tries to write. ``falls_back``: the DPI must show the document with its own stylesheet instead."""

    name: str
    template: str
    must: str
    falls_back: bool
    costly: bool = False
    output_text: bool = False

    def xsl(self, *, secret: str, written: str) -> bytes:
        output = '<xsl:output method="text"/>' if self.output_text else ""
        body = self.template.replace("{secret}", secret).replace("{written}", written)
        return f'{XSL_OPEN}{output}<xsl:template match="/">{body}</xsl:template></xsl:stylesheet>'.encode()


# --- Documents refused before anything reads them ---------------------------------------------------------

_CDA = f'<ClinicalDocument xmlns="{HL7}"><id root="1.2.250.1.999.66.1"/><title>'
_END = "</title></ClinicalDocument>"
_LAUGHS = "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10))


def _doctype(internal: str, title: str) -> bytes:
    return f'<?xml version="1.0"?>\n<!DOCTYPE ClinicalDocument [{internal}]>\n{_CDA}{title}{_END}'.encode()


REFUSED_DOCUMENTS = (
    Refused("xxe-file", _doctype(f'<!ENTITY x SYSTEM "file://{SECRET_FILE}">', "&x;"), "DOCTYPE",
            "external entity on a local file: refused, the file never read"),
    Refused("xxe-http", _doctype('<!ENTITY x SYSTEM "http://127.0.0.1:9/dtd">', "&x;"), "DOCTYPE",
            "external entity over the network: refused, no connection"),
    Refused("xxe-parameter", _doctype(f'<!ENTITY % p SYSTEM "file://{SECRET_FILE}"> %p;', "x"), "DOCTYPE",
            "parameter entity on a local file: refused"),
    Refused("external-dtd",
            f'<?xml version="1.0"?><!DOCTYPE ClinicalDocument SYSTEM "file://{SECRET_FILE}">{_CDA}x{_END}'.encode(),
            "DOCTYPE", "external DTD: refused, never loaded"),
    Refused("billion-laughs", _doctype('<!ENTITY l0 "ha">' + _LAUGHS, "&l9;"), "DOCTYPE",
            "exponential entity expansion: refused before any expansion"),
    Refused("quadratic-blowup", _doctype(f'<!ENTITY a "{"A" * 50_000}">', "&a;" * 20_000), "DOCTYPE",
            "one large entity referenced many times: refused before any expansion"),
    Refused("deep-nesting", f"{_CDA}{'<b>' * 5_000}x{'</b>' * 5_000}{_END}".encode(), "limite",
            "thousands of nested elements: stopped by the parser's depth limit"),
    Refused("oversized", f"{_CDA}x{_END}".encode() + b"<!--" + b" " * (21 * 1024 * 1024) + b"-->",
            "taille autorisée", "a document over 20 MiB: refused before parsing"),
    Refused("latin1-declared-utf8",
            f'<?xml version="1.0" encoding="UTF-8"?>{_CDA}'.encode() + "Réunion".encode("latin-1") + _END.encode(),
            "encodage", "bytes that are not the declared encoding: refused, never guessed"),
    Refused("unknown-encoding", f'<?xml version="1.0" encoding="X-EVIL-7"?>{_CDA}x{_END}'.encode(),
            "encodage", "an encoding libxml2 does not know: refused"),
    Refused("utf16-bom-on-utf8", b"\xff\xfe" + f'<?xml version="1.0" encoding="UTF-8"?>{_CDA}x{_END}'.encode(),
            "XML", "a UTF-16 byte order mark before UTF-8 bytes: refused"),
    Refused("html-not-cda", f"<html><body><script>{PWN}</script></body></html>".encode(), "CDA",
            "an HTML page uploaded as a CDA: refused as not a CDA document"),
)  # fmt: skip


# --- Documents accepted, rendered inert ---------------------------------------------------------------------


def _section(title: str, text: str, entries: str = "") -> str:
    return f"<component><section><title>{title}</title><text>{text}</text>{entries}</section></component>"


def _media(media_id: str, media_type: str, content: str) -> str:
    import base64

    data = base64.b64encode(content.encode()).decode()
    return (
        f'<entry><observationMedia classCode="OBS" moodCode="EVN" ID="{media_id}">'
        f'<value mediaType="{media_type}" representation="B64">{data}</value></observationMedia></entry>'
    )


_JS = escape(f"javascript:{PWN}")
NARRATIVES = (
    Narrative("script-in-narrative", _section(
        "Script", f'<script xmlns="http://www.w3.org/1999/xhtml">{PWN}</script>'
        f"<paragraph>&lt;script&gt;{PWN}&lt;/script&gt;</paragraph>"
        f'<paragraph>&lt;img src=x onerror="{PWN}"&gt;</paragraph>'),
        "markup in the narrative is text, an XHTML script element is dropped"),
    Narrative("linkhtml-javascript", _section(
        "Liens", f'<paragraph><linkHtml href="{_JS}">lien javascript</linkHtml></paragraph>'
        f'<paragraph><linkHtml href=" jav&#x09;ascript:{escape(PWN)}">lien masqué</linkHtml></paragraph>'
        '<paragraph><linkHtml href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data</linkHtml>'
        '</paragraph><paragraph><linkHtml href="vbscript:msgbox(1)">vbscript</linkHtml></paragraph>'
        '<paragraph><linkHtml href="https://evil.example/">ailleurs</linkHtml></paragraph>'),
        "a link to javascript:, data:, vbscript: or another site is never a live link"),
    Narrative("rendermultimedia-svg-html", _section(
        "Images", '<renderMultiMedia referencedObject="svg1"/><renderMultiMedia referencedObject="html1"/>'
        '<renderMultiMedia referencedObject="ref1"/>',
        _media("svg1", "image/svg+xml", f'<svg xmlns="http://www.w3.org/2000/svg" onload="{escape(PWN)}">'
               f"<script>{escape(PWN)}</script></svg>")
        + _media("html1", "text/html", f"<script>{PWN}</script>")
        + f'<entry><observationMedia classCode="OBS" moodCode="EVN" ID="ref1"><value mediaType="image/png">'
        f'<reference value="{_JS}"/></value></observationMedia></entry>'),
        "an SVG, HTML or referenced medium is never embedded: only PNG, JPEG and GIF data"),
    Narrative("stylecode-and-event-attributes", _section(
        "Styles", f'<content styleCode="Bold&quot; onmouseover=&quot;{escape(PWN)}" ID="c1&quot; onclick=&quot;x">'
        "gras piégé</content>"
        f'<content styleCode="Italics" onclick="{escape(PWN)}" style="background:url({_JS})">événement</content>'
        f'<table onmouseover="{escape(PWN)}"><tbody><tr><td styleCode="xx&lt;script&gt;">case</td></tr></tbody>'
        "</table>"),
        "a styleCode, ID or event attribute never becomes an event handler or a style"),
    Narrative("xinclude", _section(
        "Inclusion", f'<paragraph><xi:include href="file://{SECRET_FILE}" parse="text"/></paragraph>'
        f'<paragraph><xi:include href="http://127.0.0.1:9/x.xml"/>suite</paragraph>'),
        "XInclude is never processed: the local file never appears"),
    Narrative("script-in-header", _section("Corps", "<paragraph>Texte ordinaire.</paragraph>"),
              "a title and a patient name with markup are shown as text",
              title=f'<img src=x onerror="{PWN}"><script>{PWN}</script>',
              family=f'"><script>{PWN}</script>'),
    Narrative("comment-and-cdata", _section(
        "Commentaires", f"<!--><script>{PWN}</script>--><paragraph><![CDATA[<script>{PWN}</script>]]></paragraph>"),
        "a comment or CDATA section never turns into markup"),
)  # fmt: skip


# --- Producer stylesheets -----------------------------------------------------------------------------------

_SCRIPTISH = (
    f"<html><head><base href='https://evil.example/'/><meta http-equiv='refresh' content='0;url=javascript:{PWN}'/>"
    "<link rel='stylesheet' href='https://evil.example/x.css'/></head><body>"
    "<p class='producteur'>Rendu du producteur : <xsl:value-of select='hl7:ClinicalDocument/hl7:title'/></p>"
    f"<script>{PWN}</script><img src='x' onerror='{PWN}'/><a href='javascript:{PWN}'>lien</a>"
    f"<a href=' &#10;javascript:{PWN}'>lien masqué</a><iframe srcdoc='&lt;script&gt;{PWN}&lt;/script&gt;'/>"
    f"<form action='javascript:{PWN}'><button formaction='javascript:{PWN}'>envoyer</button></form>"
    f"<object data='javascript:{PWN}'/><embed src='javascript:{PWN}'/><img srcset='https://evil.example/i.png 1x'/>"
    "<svg xmlns='http://www.w3.org/2000/svg' xmlns:xlink='http://www.w3.org/1999/xlink'>"
    f"<a xlink:href='javascript:{PWN}'><text>svg</text></a><animate attributeName='href' to='javascript:{PWN}'/>"
    f"<script>{PWN}</script></svg><details open='' ontoggle='{PWN}'>détails</details></body></html>"
)
_MUTATING = (
    "<html><body><p class='producteur'>Rendu du producteur</p>"
    f"<noscript><p title='&lt;/noscript&gt;&lt;img src=x onerror={PWN}&gt;'>n</p></noscript>"
    f"<style>&lt;/style&gt;&lt;img src=x onerror='{PWN}'&gt;</style>"
    f"<math><mtext><table><mglyph><style>&lt;img src=x onerror='{PWN}'&gt;</style></mglyph></table></mtext></math>"
    f"<svg xmlns='http://www.w3.org/2000/svg'><style>&lt;img src=x onerror='{PWN}'&gt;</style></svg>"
    f"<math><style>&lt;img src=x onerror='{PWN}'&gt;</style></math>"
    f"<xsl:comment>[if IE]&gt;&lt;script&gt;{PWN}&lt;/script&gt;&lt;![endif]</xsl:comment>"
    f"<xsl:text disable-output-escaping='yes'>&lt;script&gt;{PWN}&lt;/script&gt;"
    f'&lt;img src=x onerror="{PWN}"&gt;</xsl:text></body></html>'
)
PRODUCER_STYLESHEETS = (
    Stylesheet("document-local-file",
               "<html><body><p class='producteur'><xsl:copy-of select=\"document('{secret}')\"/>"
               f"<xsl:copy-of select=\"document('file://{SECRET_FILE}')\"/></p></body></html>",
               "document() on local files reads nothing: the stylesheet fails, ours is shown", falls_back=True),
    Stylesheet("import-local-file", "<html/>", "xsl:import of a local file: refused, ours is shown",
               falls_back=True),
    Stylesheet("loops-over-every-node",
               "<html><body><xsl:for-each select='//node()'><xsl:for-each select='//node()'>"
               "<xsl:for-each select='//node()'><xsl:for-each select='//node()'><xsl:for-each select='//node()'>"
               "<xsl:if test='false()'>.</xsl:if></xsl:for-each></xsl:for-each></xsl:for-each></xsl:for-each>"
               "</xsl:for-each></body></html>",
               "nested loops over //node(): stopped by the time limit, ours is shown", falls_back=True, costly=True),
    Stylesheet("writes-a-file",
               "<exsl:document href='{written}' method='text'>écrit</exsl:document><html><body>x</body></html>",
               "exsl:document writing a file: refused, nothing written, ours is shown", falls_back=True),
    Stylesheet("dynamic-evaluate",
               "<html><body><xsl:copy-of select=\"dyn:evaluate(concat('docu', 'ment(&quot;{secret}&quot;)'))\"/>"
               "</body></html>",
               "dyn:evaluate building a document() call: reads nothing", falls_back=True),
    Stylesheet("script-ish-output", _SCRIPTISH, "script, handlers, javascript: URLs, frames, forms, base, "
               "refresh, outside links: all removed, the rest shown", falls_back=False),
    Stylesheet("mutating-output", _MUTATING, "markup that a browser would parse differently (noscript, style, "
               "math, comments, disable-output-escaping): no script survives", falls_back=False),
    Stylesheet("text-output-method", f"&lt;html&gt;&lt;body&gt;&lt;p class='producteur'&gt;texte&lt;/p&gt;"
               f"&lt;script&gt;{PWN}&lt;/script&gt;&lt;img src=x onerror='{PWN}'&gt;&lt;/body&gt;&lt;/html&gt;",
               "HTML written as text output: parsed as a browser would, then sanitised", falls_back=False,
               output_text=True),
)  # fmt: skip


def import_of(url: str) -> bytes:
    """The ``import-local-file`` stylesheet with its ``xsl:import`` (it must come first in the stylesheet)."""
    return (
        f"{XSL_OPEN}<xsl:import href={quoteattr(url)}/><xsl:template match='/'><html><body>importé</body></html>"
        "</xsl:template></xsl:stylesheet>"
    ).encode()


# --- IHE_XDM archives -----------------------------------------------------------------------------------------


def xdm_metadata(*uris: str) -> bytes:
    return metadata(*((uri, "text/xml") for uri in uris))


def xdm_archive(cda: bytes, *, uri: str = "DOC0001.XML", extra: dict[str, bytes] | None = None) -> bytes:
    """An IHE_XDM archive listing one CDA document."""
    folder = "IHE_XDM/SUBSET01/"
    return archive({f"{folder}METADATA.XML": xdm_metadata(uri), f"{folder}DOC0001.XML": cda, **(extra or {})})


def hostile_archives(cda: bytes) -> tuple[Refused, ...]:
    """Archives around the valid document ``cda`` that must be refused, each with its French reason."""
    folder = "IHE_XDM/SUBSET01/"
    bomb = archive({"bomb.xml": b"\0" * (8 * 1024 * 1024)})
    many = {f"{folder}F{n:04d}.TXT": b"x" for n in range(150)}
    laughs = REFUSED_DOCUMENTS[4].data
    return (
        Refused("ratio-bomb", xdm_archive(cda, extra={f"{folder}BOMB.BIN": b"\0" * (8 * 1024 * 1024)}),
                "bombe zip", "an entry a thousand times its compressed size: refused before decompression"),
        Refused("many-entries", xdm_archive(cda, extra=many), "plus de 100 fichiers",
                "150 entries: refused from the directory alone"),
        Refused("nested-zip", xdm_archive(bomb), "n'est pas un document CDA",
                "a zip (itself a bomb) listed as the CDA: refused, the inner archive never opened"),
        Refused("dotdot-entry", xdm_archive(cda, extra={f"{folder}../../../etc/cron.d/x": b"x"}), "chemin dangereux",
                "an entry climbing out of the archive: refused"),
        Refused("absolute-entry", xdm_archive(cda, extra={"/etc/passwd": b"x"}), "chemin dangereux",
                "an entry with an absolute path: refused"),
        Refused("backslash-entry", xdm_archive(cda, extra={"IHE_XDM\\..\\..\\x": b"x"}), "chemin dangereux",
                "an entry with Windows separators: refused"),
        Refused("symlink-entry", archive({f"{folder}METADATA.XML": xdm_metadata("DOC0001.XML"),
                                         f"{folder}DOC0001.XML": cda}, symlink=f"{folder}LINK"),
                "lien symbolique", "a symbolic link entry: refused"),
        Refused("metadata-uri-traversal", xdm_archive(cda, uri="../../../../etc/passwd"), "chemin dangereux",
                "METADATA.XML pointing out of the archive: refused"),
        Refused("metadata-entity-bomb",
                archive({f"{folder}METADATA.XML": laughs, f"{folder}DOC0001.XML": cda}), "DOCTYPE",
                "entities in METADATA.XML: refused"),
        Refused("not-a-zip", b"PK\x03\x04" + b"\0" * 64, "archive zip", "a truncated zip: refused"),
    )  # fmt: skip


# --- Names ----------------------------------------------------------------------------------------------------

# As a PAM feed may carry them in PID-5 (no HL7 delimiter among them: ^ & ~ \ | are escaped by senders).
HOSTILE_NAMES = (
    f"<SCRIPT>{PWN}</SCRIPT>",
    f'"><IMG SRC=X ONERROR="{PWN}">',
    f"JAVASCRIPT:{PWN}",
    f"' ONMOUSEOVER='{PWN}' X='",
    "</TITLE></TEXTAREA><SVG ONLOAD=window.__pwned=1>",
    "{{ 7 }}{% now 'Y' %}${7*7}",
)
