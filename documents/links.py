"""Links the document viewer offers beside a version, contributed by the apps above ``documents``.

``documents`` must not import the apps that depend on it; the DMP app, for instance, turns the
examinations an imaging report documents into links that open the images in the DRIMbox. A
contributor is ``func(request, document, header) -> list[ViewerLink]``, registered with
:func:`viewer_link` from the contributing app's views module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest

from documents.cda import CdaHeader, InvalidCda, parse_cda_header
from documents.models import Document, DocumentVersion


@dataclass(frozen=True)
class ViewerLink:
    label: str
    url: str
    testid: str = ""


Contributor = Callable[[HttpRequest, Document, CdaHeader], list[ViewerLink]]
_contributors: list[Contributor] = []


def viewer_link(func: Contributor) -> Contributor:
    _contributors.append(func)
    return func


def viewer_links(request: HttpRequest, document: Document, version: DocumentVersion | None) -> list[ViewerLink]:
    if version is None or not _contributors:
        return []
    try:
        header = parse_cda_header(bytes(version.cda))
    except InvalidCda:
        return []
    return [link for func in _contributors for link in func(request, document, header)]
