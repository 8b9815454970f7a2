"""`guidegen doctor` reports the libraries PDF making depends on."""

from __future__ import annotations

from generator.doctor import run_checks


def test_doctor_reports_pango_harfbuzz_and_fonts_and_exits_zero_here(run_cli, example_root):
    result = run_cli(["doctor"], cwd=example_root)
    assert result.exit_code == 0, result.stdout
    lines = result.stdout.splitlines()
    assert any(line.startswith("ok   Pango: version 1.") for line in lines)
    assert any(line.startswith("ok   HarfBuzz subset") for line in lines)
    assert any("brand font 'DejaVu Sans'" in line for line in lines)


def test_a_missing_font_is_reported_with_the_install_command():
    checks = {c.name: c for c in run_checks(["No Such Font Family 123"])}
    missing = checks["brand font 'No Such Font Family 123'"]
    assert not missing.ok and not missing.required
    assert missing.fix.startswith("apt-get install -y")
