"""A one-page PDF of plain text, written by hand: seeding dozens of documents must take milliseconds.

PDF 1.4, Helvetica in WinAnsiEncoding (French accents are in it), one line per string, a correct
cross-reference table. Enough for a viewer and for the DPI's "this is a PDF" checks; not a layout engine.
"""

from __future__ import annotations

LINE_HEIGHT = 16
MAX_LINES = 45


def _escape(line: str) -> bytes:
    text = line.encode("cp1252", errors="replace")
    return text.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def text_pdf(title: str, lines: list[str]) -> bytes:
    """A PDF whose single page shows ``title`` in bold, then ``lines``."""
    commands = [b"BT /F2 14 Tf 56 780 Td (" + _escape(title) + b") Tj ET"]
    for number, line in enumerate(lines[:MAX_LINES], start=1):
        commands.append(b"BT /F1 11 Tf 56 %d Td (" % (760 - number * LINE_HEIGHT) + _escape(line) + b") Tj ET")
    stream = b"\n".join(commands)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
    ]
    output = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(output))
        output += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(output)
    output += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    output += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    output += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(output)
