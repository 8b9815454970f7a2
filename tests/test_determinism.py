"""Same inputs, same bytes: across runs, output folders and hash seeds; golden snapshots.

Two separate ``guidegen batch`` processes (different PYTHONHASHSEED, different
output folders) build a two-athlete roster, one athlete per example brand, in
every format; their files must be byte-identical. This is also the PDF batch
test: both brands' PDFs come out of one ``batch --formats pdf,html,ics``.

Golden files: the HTML and ICS of one athlete per brand are compared with
``tests/golden/``; regenerate with ``pytest --update-golden`` after an intended
change and review the diff.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader

from generator.publish.guides import GuideMaker
from tests.guidekit import (
    EPOCH,
    EXAMPLE_ROSTER,
    HARBOUR_ID,
    REPO_ROOT,
    SUMMIT_ID,
    build,
    load,
)

GOLDEN_ATHLETES = (HARBOUR_ID, SUMMIT_ID)


def _two_athlete_roster(path: Path) -> Path:
    with EXAMPLE_ROSTER.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = [row for row in reader if row["id"] in GOLDEN_ATHLETES]
        fields = reader.fieldnames
    assert len(rows) == 2
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _batch(roster: Path, out: Path, seed: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}
    env.update(SOURCE_DATE_EPOCH=EPOCH, PYTHONHASHSEED=seed)
    return subprocess.run(
        [sys.executable, "-m", "generator", "--project", str(REPO_ROOT), "batch", str(roster),
         "--out", str(out), "--formats", "pdf,html,ics", "-j", "1"],
        cwd=out.parent, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("determinism")
    roster = _two_athlete_roster(base / "roster.csv")
    outs = []
    for name, seed in (("first", "1"), ("second", "4242")):
        (base / name).mkdir()
        out = base / name / "out"
        proc = _batch(roster, out, seed)
        assert proc.returncode == 0, proc.stderr
        outs.append(out)
    return outs[0], outs[1]


def _guide_files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes()
            for p in sorted((out / "guides").rglob("*")) if p.is_file()}


def test_pdf_batch_makes_every_format_for_both_brands(two_runs):
    first, _second = two_runs
    assert set(_guide_files(first)) == {
        f"guides/{brand}/{athlete}.{fmt}"
        for brand, athlete in (("harbour", HARBOUR_ID), ("summit", SUMMIT_ID))
        for fmt in ("pdf", "html", "ics")}
    for brand, athlete in (("harbour", HARBOUR_ID), ("summit", SUMMIT_ID)):
        data = (first / "guides" / brand / f"{athlete}.pdf").read_bytes()
        assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
        assert len(PdfReader(BytesIO(data)).pages) >= 8


def test_two_processes_with_different_hash_seeds_write_identical_files(two_runs):
    first, second = (_guide_files(out) for out in two_runs)
    assert set(first) == set(second)
    differing = [name for name in first if first[name] != second[name]]
    assert not differing, f"not byte-identical across runs: {differing}"


def test_no_temp_files_are_left_behind(two_runs):
    for out in two_runs:
        leftovers = [p for p in out.rglob("*") if p.name.endswith(".tmp")]
        assert not leftovers


def test_in_process_builds_are_identical():
    """Two independent loads and makers (no shared caches) give the same HTML and ICS."""
    one = build(load(), HARBOUR_ID, ("html", "ics", "plan"))
    two = build(load(), HARBOUR_ID, ("html", "ics", "plan"), GuideMaker(load()))
    assert one.files == two.files


def test_build_date_comes_only_from_source_date_epoch():
    bare = build(load(epoch=None), HARBOUR_ID, ("html",)).files["html"].decode()
    dated = build(load(epoch=EPOCH), HARBOUR_ID, ("html",)).files["html"].decode()
    assert not re.search(r"Prepared \w+day, \d", bare)
    assert "Prepared Monday, 21 September 2026" in dated


# ------------------------------------------------------------------ golden files

@pytest.fixture(scope="module")
def golden_guides() -> dict:
    inputs = load()
    maker = GuideMaker(inputs)
    return {athlete_id: build(inputs, athlete_id, ("html", "ics"), maker)
            for athlete_id in GOLDEN_ATHLETES}


@pytest.mark.parametrize("athlete_id", GOLDEN_ATHLETES)
@pytest.mark.parametrize("fmt", ["html", "ics"])
def test_guide_matches_its_golden_file(golden, golden_guides, athlete_id, fmt):
    golden.check(f"{athlete_id}.{fmt}", golden_guides[athlete_id].files[fmt])


def test_golden_files_match_the_batch_output(golden, two_runs):
    """The CLI writes exactly what the library renders (and what the snapshots hold)."""
    if golden.update:
        pytest.skip("updating golden files")
    first, _second = two_runs
    for brand, athlete in (("harbour", HARBOUR_ID), ("summit", SUMMIT_ID)):
        for fmt in ("html", "ics"):
            written = (first / "guides" / brand / f"{athlete}.{fmt}").read_bytes()
            assert written == (golden.folder / f"{athlete}.{fmt}").read_bytes(), (athlete, fmt)
