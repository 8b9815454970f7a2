"""`guidegen doctor` reports the libraries PDF making depends on."""

from __future__ import annotations

import pytest

from generator.doctor import coverage_checks, run_checks
from generator.load.project import load_project
from generator.pdf import coverage
from tests.conftest import copy_example
from tests.test_coverage import CANDIDATES, choose_undrawable, roster


def test_doctor_reports_pango_harfbuzz_and_fonts_and_exits_zero_here(run_cli, example_root):
    result = run_cli(["doctor"], cwd=example_root)
    assert result.exit_code == 0, result.stdout
    lines = result.stdout.splitlines()
    assert any(line.startswith("ok   Pango: version 1.") for line in lines)
    assert any(line.startswith("ok   font subsetting (the pinned uharfbuzz") and
               line.endswith("uharfbuzz 0.57.0") for line in lines)
    assert any("brand font 'DejaVu Sans'" in line for line in lines)


def test_a_missing_font_is_reported_with_the_install_command():
    checks = {c.name: c for c in run_checks(["No Such Font Family 123"])}
    missing = checks["brand font 'No Such Font Family 123'"]
    assert not missing.ok and not missing.required
    assert missing.fix.startswith("apt-get install -y")


# ------------------------------------------------------------- the roster's scripts

def test_doctor_names_what_the_roster_needs_and_the_fonts_cannot_draw(run_cli, tmp_path):
    undrawable = choose_undrawable()
    root = copy_example(tmp_path, files={"data/athletes.csv": roster(undrawable)})
    checks = [c for c in coverage_checks(load_project(root)) if not c.ok]
    assert len(checks) == 1 and not checks[0].required
    assert f"U+{ord(undrawable):04X} ({CANDIDATES[ord(undrawable)]})" in checks[0].detail
    assert checks[0].detail.endswith("; no guide for glyph-02")
    assert checks[0].fix == "apt-get install -y fonts-noto-core fonts-noto-cjk"

    result = run_cli(["doctor"], cwd=root)  # the project's roster, from guidegen.toml
    assert result.exit_code == 0, result.stdout
    lines = result.stdout.splitlines()
    warn = [line for line in lines if line.startswith("warn fonts for ")]
    assert warn == [f"warn {checks[0].name}: {checks[0].detail}"]
    assert "     fix: apt-get install -y fonts-noto-core fonts-noto-cjk" in lines
    assert any(line.startswith("ok   fonts for Latin text in the roster and brands: ")
               for line in lines)
    assert not any("a font for" in line for line in lines)  # no guessing: the roster says


def test_doctor_passes_an_ascii_roster_without_asking_fontconfig(tmp_path, monkeypatch):
    root = copy_example(tmp_path, files={"data/athletes.csv": roster("x")
                                         .replace("Zoë Ó", "Zoe O").replace("á", "a")})
    monkeypatch.setattr(coverage, "installed", lambda: pytest.fail("fc-list was run"))
    checks = coverage_checks(load_project(root))
    assert [(c.name, c.ok, c.detail) for c in checks] == [
        ("fonts for the text of the roster and brands", True, "ASCII only: any font draws it")]
