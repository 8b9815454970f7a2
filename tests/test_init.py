"""``guidegen init DIR``: a new project that checks and builds clean out of the box."""

from __future__ import annotations

import os
import subprocess
import sys

from sitekit import BUILD_ENV

from generator.load.project import shipped_dir
from generator.publish.plans import plan_token


def test_init_then_check_then_build_works(tmp_path, run_cli):
    target = tmp_path / "clinic-site"
    result = run_cli(["init", target], cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "GUIDEGEN_PLAN_SECRET" in result.stderr  # tells the user what to do next
    for rel in ("guidegen.toml", "brands/clinic/brand.toml", "brands/clinic/logo.svg",
                "data/athletes.csv", "content/pre-race-massage.md", "templates/README.md"):
        assert (target / rel).is_file(), rel
    # the templates are guidegen's own (package data), not copies the project must maintain
    assert [p.name for p in (target / "templates").iterdir()] == ["README.md"]

    check = run_cli(["check", "data/athletes.csv"], cwd=target)
    assert check.exit_code == 0, check.stderr
    assert check.stderr_lines[-1].endswith("3 athletes: 0 errors, 0 warnings"), check.stderr

    # the sample roster's races are fixed dates: build as of a day before them (expiry)
    build = run_cli(["build", "--strict", "--as-of", "2026-11-01"], cwd=target, env=BUILD_ENV)
    assert build.exit_code == 0, build.stderr
    out = target / "output"
    assert (out / "site" / "index.html").is_file()
    assert (out / "site" / "sitemap.xml").read_text().count("<loc>https://guides.example.com/")
    for athlete in ("ex-amara-01", "ex-lukas-02", "ex-mei-03"):
        assert (out / "guides" / "clinic" / f"{athlete}.pdf").is_file()
        token = plan_token(BUILD_ENV["GUIDEGEN_PLAN_SECRET"].encode(), athlete)
        assert (out / "site" / "plans" / token / "index.html").is_file()


def test_templates_readme_names_every_default_template(tmp_path, run_cli):
    assert run_cli(["init", tmp_path / "p"], cwd=tmp_path).exit_code == 0
    readme = (tmp_path / "p" / "templates" / "README.md").read_text(encoding="utf-8")
    defaults = shipped_dir("templates")
    for path in defaults.rglob("*"):
        if path.is_file():
            assert f"- `{path.relative_to(defaults).as_posix()}`" in readme, path


def test_a_project_template_overrides_the_default_of_the_same_name(tmp_path, run_cli):
    """The clinic copies one template into templates/ and edits it; every other page
    still comes from guidegen's defaults."""
    target = tmp_path / "p"
    assert run_cli(["init", target], cwd=tmp_path).exit_code == 0
    default = (shipped_dir("templates") / "site" / "404.html.j2").read_text(encoding="utf-8")
    override = target / "templates" / "site" / "404.html.j2"
    override.parent.mkdir(parents=True)
    heading = '{{ _("Page not found") }}</h1>'
    override.write_text(default.replace(heading, "Nothing here, sorry</h1>"), encoding="utf-8")
    result = run_cli(["site"], cwd=target, env={"GUIDEGEN_PLAN_SECRET": ""})
    assert result.exit_code == 0, result.stderr
    site = target / "output" / "site"
    assert "Nothing here, sorry</h1>" in (site / "404.html").read_text(encoding="utf-8")
    assert "<h1" in (site / "about" / "index.html").read_text(encoding="utf-8")


def test_init_console_script_runs_in_a_fresh_process(tmp_path):
    """The real entry point, as a user would type it (checks the shipped-files lookup)."""
    target = tmp_path / "x"
    done = subprocess.run([sys.executable, "-m", "generator", "init", str(target)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert done.returncode == 0, done.stderr
    assert (target / "guidegen.toml").is_file()


def test_init_refuses_a_non_empty_folder(tmp_path, run_cli):
    target = tmp_path / "busy"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    result = run_cli(["init", target], cwd=tmp_path)
    assert result.exit_code == 2
    assert len(result.stderr_lines) == 1
    assert "already exists and is not empty" in result.stderr
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]


def test_init_accepts_an_existing_empty_folder(tmp_path, run_cli):
    target = tmp_path / "empty"
    target.mkdir()
    assert run_cli(["init", target], cwd=tmp_path).exit_code == 0
    assert (target / "guidegen.toml").is_file()


def test_init_with_an_unknown_brand_lists_the_choices(tmp_path, run_cli):
    result = run_cli(["init", tmp_path / "p", "--brand", "nope"], cwd=tmp_path)
    assert result.exit_code == 2
    assert "choose one of harbour, summit" in result.stderr
    assert not (tmp_path / "p").exists()


def test_init_project_site_builds_without_a_secret(tmp_path, run_cli):
    """`guidegen site` needs no plan secret: marketing can preview before setup is done."""
    target = tmp_path / "p"
    assert run_cli(["init", target], cwd=tmp_path).exit_code == 0
    result = run_cli(["site"], cwd=target, env={"GUIDEGEN_PLAN_SECRET": ""})
    assert result.exit_code == 0, result.stderr
    assert (target / "output" / "site" / "about" / "index.html").is_file()
