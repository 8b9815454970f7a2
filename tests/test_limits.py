"""Limits: huge rosters are refused in bounded memory, slow guides time out, and one
failing guide never stops the others.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pypdf import PdfReader

from generator.load.roster import MAX_BYTES, MAX_ROWS
from tests.conftest import REPO_ROOT, SCRATCH_BRAND_TOML, SCRATCH_LOGO_SVG

MEASURE = """\
import resource, subprocess, sys
done = subprocess.run([sys.executable, "-m", "generator", *sys.argv[1:]],
                      capture_output=True, text=True)
sys.stderr.write(done.stderr)
print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
"""


def run_measured(args: list[str], cwd: Path, env: dict | None = None):
    """Run guidegen in a fresh process: (exit code, peak RSS in MiB, stderr lines)."""
    done = subprocess.run([sys.executable, "-c", MEASURE, *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env={**os.environ, **(env or {})})
    code, peak = (int(x) for x in done.stdout.split())
    return code, peak, [line for line in done.stderr.splitlines() if line.strip()]


def write_big_roster(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("id,name,race_name,race_date\n")
        for i in range(rows):
            fh.write(f"r{i},Runner {i},Big Marathon,2027-04-18\n")


def test_a_200000_row_roster_is_refused_in_one_line_and_bounded_memory(scratch_project):
    root = scratch_project()
    big = root / "data" / "big.csv"
    write_big_roster(big, 200_000)
    size_mib = big.stat().st_size / 2**20
    assert size_mib * 2**20 < MAX_BYTES["csv"], "the row limit is what refuses it"
    _, baseline, _ = run_measured(["check", "data/athletes.csv"], root)
    started = time.monotonic()
    code, peak, lines = run_measured(["check", "data/big.csv"], root)
    seconds = time.monotonic() - started
    assert code == 2  # nothing could be built
    assert lines[0] == (f"data/big.csv: roster has 200000 rows; the limit is {MAX_ROWS} per "
                        "file: split it into several files")
    assert len(lines) == 2 and lines[1].startswith("2 modules, 1 brand, 0 athletes: 1 error,")
    # the file, its text and one parsing pass: no row objects for 200,000 rows
    assert peak - baseline < 3 * size_mib + 20, (peak, baseline, size_mib)
    assert seconds < 60


@pytest.mark.parametrize("suffix", ["csv", "yaml", "json"])
def test_an_oversized_roster_file_is_refused_before_it_is_read(scratch_project, run_cli,
                                                               suffix):
    root = scratch_project()
    limit = MAX_BYTES["yaml" if suffix == "yaml" else suffix]
    with (root / "data" / f"huge.{suffix}").open("wb") as fh:
        fh.truncate(limit + 1)  # sparse: costs no disk, and must cost no memory
    result = run_cli(["check", f"data/huge.{suffix}"], cwd=root)
    assert result.exit_code == 2  # nothing could be built
    assert result.stderr_lines[0] == (
        f"data/huge.{suffix}: roster file is {round((limit + 1) / 2**20)} MiB; the limit is "
        f"{limit // 2**20} MiB per {suffix.upper()} file: split it into several files")
    assert len(result.stderr_lines) == 2


def test_a_thousand_row_yaml_roster_loads_in_linear_time(tmp_path):
    """Locating rows once looked each one up in the whole document: O(n^2)."""
    from generator.load.roster import load_roster

    path = tmp_path / "roster.yaml"
    path.write_text("".join(f"- id: r{i}\n  name: Runner {i}\n  race_name: M\n"
                            f"  race_date: 2027-04-18\n" for i in range(1000)) + "- bad\n")
    started = time.monotonic()
    athletes, problems = load_roster(path)
    assert time.monotonic() - started < 10
    assert len(athletes) == 1000
    assert [str(p) for p in problems] == [f"{path}:4001: row is not a mapping of field names "
                                          "to values"]


# ---------------------------------------------------------------- slow and failing guides

SECOND_BRAND = {
    "brands/other/brand.toml": SCRATCH_BRAND_TOML.replace("Scratch Clinic", "Other Clinic"),
    "brands/other/logo.svg": SCRATCH_LOGO_SVG,
}
ROSTER = ("id,name,race_name,race_date,brand\n"
          "slow-01,Slow Runner,Scratch Marathon,2027-04-18,other\n"
          "ada-02,Ada Lovelace,Scratch Marathon,2027-04-18,clinic\n"
          "bo-03,Bo Chen,Scratch Marathon,2027-05-02,clinic\n")
PATHOLOGICAL_CSS = "@page { size: 12px 12px !important; margin: 0 !important }\n"


def batch_env(timeout: int) -> dict[str, str]:
    return {"GUIDEGEN_GUIDE_TIMEOUT": str(timeout), "SOURCE_DATE_EPOCH": "1790000000"}


def run_batch(root: Path, formats: str, jobs: int, timeout: int):
    env = {**os.environ, **batch_env(timeout)}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "generator", "batch", "data/athletes.csv",
                           "--out", "out", "--formats", formats, "-j", str(jobs)],
                          cwd=root, env=env, capture_output=True, text=True, timeout=240)
    return done, time.monotonic() - started


def test_huge_content_times_out_after_one_second_and_the_rest_is_built(scratch_project):
    """GUIDEGEN_GUIDE_TIMEOUT=1: a brand template that makes a huge page (HTML only, so
    the alarm is the only thing that ends it) fails that guide; the others are made."""
    guide = (REPO_ROOT / "templates" / "guide.html.j2").read_text(encoding="utf-8")
    huge = guide.replace("</body>", "{% for i in range(10**9) %}<p>{{ i }}</p>{% endfor %}"
                                    "</body>")
    root = scratch_project({**SECOND_BRAND, "data/athletes.csv": ROSTER,
                            "brands/other/templates/guide.html.j2": huge}, copy=("templates",))
    done, seconds = run_batch(root, "html,ics", jobs=1, timeout=1)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert "data/athletes.csv:2: slow-01: rendering took longer than 1s; skipped" in lines
    assert "guides: 2 built, 0 unchanged, 1 failed" in done.stderr
    built = sorted(p.name for p in (root / "out" / "guides").rglob("*.*"))
    assert built == ["ada-02.html", "ada-02.ics", "bo-03.html", "bo-03.ics"]
    assert seconds < 30


def test_a_pathological_stylesheet_cannot_hang_the_batch(scratch_project):
    """12-pixel pages would take minutes of layout; the alarm stops that guide, and the
    same worker goes on to make the next guides (the slow one is first in the roster)."""
    css = (REPO_ROOT / "templates" / "assets" / "print.css").read_text(encoding="utf-8")
    root = scratch_project({**SECOND_BRAND, "data/athletes.csv": ROSTER,
                            "brands/other/templates/assets/print.css": css + PATHOLOGICAL_CSS},
                           copy=("templates",))
    done, seconds = run_batch(root, "pdf,ics", jobs=1, timeout=8)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "data/athletes.csv:2: slow-01: rendering took longer than 8s; skipped" in (
        done.stderr.splitlines())
    assert "guides: 2 built, 0 unchanged, 1 failed" in done.stderr
    for athlete_id in ("ada-02", "bo-03"):
        assert len(PdfReader(root / "out" / "guides" / "clinic" / f"{athlete_id}.pdf").pages) >= 3
    assert not (root / "out" / "guides" / "other").exists()
    manifest = json.loads((root / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(manifest["outputs"]) == ["ada-02", "bo-03"]
    assert seconds < 90


def test_a_broken_brand_template_fails_its_guides_and_the_pool_builds_the_rest(
        scratch_project):
    """Workers in a pool: the failure is located in the template, per guide of that brand."""
    guide = (REPO_ROOT / "templates" / "guide.html.j2").read_text(encoding="utf-8")
    line = next(i for i, text in enumerate(guide.splitlines(), 1) if "</body>" in text)
    broken = guide.replace("</body>", "{% if mode == 'pdf' %}{{ nope }}{% endif %}</body>")
    roster = ROSTER + "cy-04,Cy Young,Scratch Marathon,2027-04-18,other\n"
    root = scratch_project({**SECOND_BRAND, "data/athletes.csv": roster,
                            "brands/other/templates/guide.html.j2": broken},
                           copy=("templates",))
    done, _ = run_batch(root, "pdf,html,ics", jobs=2, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    failures = sorted(x for x in done.stderr.splitlines() if "'nope' is undefined" in x)
    assert failures == [
        f"brands/other/templates/guide.html.j2:{line}: {i}: template error: 'nope' is undefined"
        for i in ("cy-04", "slow-01")]
    assert "guides: 2 built, 0 unchanged, 2 failed" in done.stderr
    made = sorted(str(p.relative_to(root / "out")) for p in (root / "out").rglob("*.*"))
    assert made == ["guides/clinic/ada-02.html", "guides/clinic/ada-02.ics",
                    "guides/clinic/ada-02.pdf", "guides/clinic/bo-03.html",
                    "guides/clinic/bo-03.ics", "guides/clinic/bo-03.pdf", "manifest.json"]


@pytest.mark.parametrize("value", ["", "abc", "-5", "0", "1.5"])
def test_a_bad_timeout_setting_falls_back_to_the_default(monkeypatch, value):
    from generator.publish.batch import GUIDE_TIMEOUT, guide_timeout

    monkeypatch.setenv("GUIDEGEN_GUIDE_TIMEOUT", value)
    assert guide_timeout() == GUIDE_TIMEOUT
