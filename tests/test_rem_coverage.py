"""docs/rem-coverage.md stays whole and true: every id of the REM catalogue has its line, every test it cites
exists, every screenshot folder it names is written by a browser scenario. Files only: no database, no server."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
COVERAGE = ROOT / "docs" / "rem-coverage.md"
TESTS = ROOT / "tests"
STATUSES = ("met", "partly met", "not yet", "in progress")

# A full id: SC.CDA/DD.02, DPI.AUTH.01, SC.PSC.13, INS/va1.01. Anything else in a catalogue cell
# ("UX.14.TER", "CONF.16") continues the previous id's prefix.
FULL_ID = re.compile(r"^(?:SC|DPI)\.|^[A-Z]+/va1\.")
CITED_TEST = re.compile(r"(tests/[\w/]+\.py)::(\w+)(?:::(\w+))?")
CITED_SHOTS = re.compile(r"var/artefacts/rem/(\S+?)/`")


def catalogue_path() -> Path | None:
    """The digest beside the national samples (``DPI_SAMPLES_DIR``'s parent), else ``../shared`` of the checkout."""
    for shared in (Path(settings.SAMPLES_DIR).parent, Path(settings.BASE_DIR).parent / "shared"):
        path = shared / "spec" / "rem-catalogue.md"
        if path.is_file():
            return path
    return None


def catalogue_ids(text: str) -> list[str]:
    """The ids of the first column of the digest's tables, ranges and abbreviations spelled out.

    ``SC.DMP/CONF.13 – CONF.16`` gives four ids, ``SC.DMP/UX.14.BIS / UX.14.TER`` two, ``HOP/va1.11 (HOP.09) /
    HOP/va1.12 (HOP.10)`` two (the vague-1 numbers in brackets are dropped), ``(related) SC.DMP/ALI/PROG.04`` one.
    """
    ids: list[str] = []
    for line in text.splitlines():
        if not line.startswith("|"):
            continue
        cell = line.split("|")[1].strip()
        if cell in ("", "ID") or set(cell) <= set("-: "):
            continue
        previous = ""
        for part in re.split(r"\s*(?:,|\s/\s)\s*", re.sub(r"\([^)]*\)", " ", cell).strip()):
            bounds: list[str] = []
            for bound in re.split(r"\s*[–-]\s+", part):
                bound = bound.strip()
                if not bound:
                    continue
                if not FULL_ID.match(bound) and "/" in previous:
                    bound = previous.rsplit("/", 1)[0] + "/" + bound
                bounds.append(bound)
                previous = bound
            if len(bounds) == 2:
                (stem, first), (_, last) = (bound.rsplit(".", 1) for bound in bounds)
                bounds = [f"{stem}.{n:0{len(first)}d}" for n in range(int(first), int(last) + 1)]
            ids.extend(bounds)
    return ids


@cache
def coverage_rows() -> dict[str, list[str]]:
    """Id → cells of its line, for every table line of docs/rem-coverage.md whose first cell is an id."""
    rows: dict[str, list[str]] = {}
    for line in COVERAGE.read_text(encoding="utf-8").splitlines():
        if not line.startswith("| `"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        identifier = cells[0].strip("`")
        assert identifier not in rows, f"{identifier} has two lines in {COVERAGE.name}"
        rows[identifier] = cells
    return rows


@cache
def defined_functions(path: str) -> frozenset[str]:
    source = (ROOT / path).read_text(encoding="utf-8")
    return frozenset(re.findall(r"^\s*(?:async\s+)?def\s+(\w+)\s*\(", source, flags=re.MULTILINE))


@cache
def defined_classes(path: str) -> frozenset[str]:
    return frozenset(re.findall(r"^class\s+(\w+)\b", (ROOT / path).read_text(encoding="utf-8"), flags=re.MULTILINE))


def test_the_catalogue_parser_spells_out_ranges_and_abbreviations():
    text = """
| ID | What | Gist | Source |
|---|---|---|---|
| SC.DMP/CONF.13 – CONF.16 | x | y | z |
| SC.DMP/UX.14.BIS / UX.14.TER | x | y | z |
| DPI.AUTH.01 / DPI.AUTH.02 | x | y | z |
| (related) SC.DMP/ALI/PROG.04 | x | y | z |
| HOP/va1.11 (HOP.09) / HOP/va1.12 (HOP.10) | x |
| DOC/va1.02, DOC/va1.05 | x |
| SC.PSC.08 | x |
"""
    assert catalogue_ids(text) == [
        "SC.DMP/CONF.13",
        "SC.DMP/CONF.14",
        "SC.DMP/CONF.15",
        "SC.DMP/CONF.16",
        "SC.DMP/UX.14.BIS",
        "SC.DMP/UX.14.TER",
        "DPI.AUTH.01",
        "DPI.AUTH.02",
        "SC.DMP/ALI/PROG.04",
        "HOP/va1.11",
        "HOP/va1.12",
        "DOC/va1.02",
        "DOC/va1.05",
        "SC.PSC.08",
    ]


def test_every_id_of_the_catalogue_has_its_line():
    path = catalogue_path()
    if path is None:
        pytest.skip("REM catalogue digest not found (../shared/spec/rem-catalogue.md; set DPI_SAMPLES_DIR)")
    expected = catalogue_ids(path.read_text(encoding="utf-8"))
    assert len(expected) > 100, f"the catalogue parser found only {len(expected)} ids in {path}"
    missing = [identifier for identifier in expected if identifier not in coverage_rows()]
    assert not missing, f"ids of {path.name} missing from {COVERAGE.name}: {missing}"


def test_every_line_has_its_columns_and_a_known_status():
    rows = coverage_rows()
    assert rows
    wrong = {identifier: cells for identifier, cells in rows.items() if len(cells) != 6}
    assert not wrong, f"lines without the six columns: {sorted(wrong)}"
    unknown = {identifier: cells[2] for identifier, cells in rows.items() if not cells[2].startswith(STATUSES)}
    assert not unknown, f"statuses outside {STATUSES}: {unknown}"
    unmapped = [i for i, cells in rows.items() if cells[2].startswith("not yet") and "issue" not in cells[2]]
    assert not unmapped, f"'not yet' without its issue (or 'no open issue'): {unmapped}"


def test_every_cited_test_exists():
    absent: list[str] = []
    for cells in coverage_rows().values():
        for path, first, second in CITED_TEST.findall(cells[4]):
            cited = f"{path}::{first}" + (f"::{second}" if second else "")
            if not (ROOT / path).is_file():
                absent.append(cited)
            elif second:
                if first not in defined_classes(path) or second not in defined_functions(path):
                    absent.append(cited)
            elif first not in defined_functions(path):
                absent.append(cited)
    assert not absent, f"tests cited in {COVERAGE.name} that do not exist: {absent}"


def test_tests_are_cited_as_path_and_name_only():
    for identifier, cells in coverage_rows().items():
        for cited in re.findall(r"`(tests/[^`]*)`", cells[4]):
            assert CITED_TEST.fullmatch(cited), f"{identifier}: {cited!r} is not tests/<path>.py::<test name>"


def test_every_screenshot_folder_is_written_by_a_browser_scenario():
    """A folder is written by ``rem_shots("<id>")``, or by ``Evidence(..., "<id>", ...)`` which calls it per id."""
    scenarios = "\n".join(p.read_text(encoding="utf-8") for p in (TESTS / "browser").glob("test_*.py"))
    named = set(re.findall(r'rem_shots\("([^"]+)"[,)]', scenarios))
    for call in re.findall(r"Evidence\(([^)]*)\)", scenarios):
        named.update(re.findall(r'"([^"]+)"', call))
    for identifier, cells in coverage_rows().items():
        for folder in CITED_SHOTS.findall(cells[5]):
            assert folder == identifier, f"{identifier} names the screenshots of {folder}"
            assert folder in named, f"no browser scenario keeps screenshots for {folder!r}"
