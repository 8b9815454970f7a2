"""Defects found while reorganising the pipeline, each proven mended."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from generator.doctor import PANGO_MIN, version_tuple
from generator.load.inputs import load_inputs
from generator.load.project import load_project
from generator.plan.guideplan import plan_guide
from generator.publish.layout import OutputLayout
from generator.render.renderer import Renderer
from tests.conftest import EXAMPLE_PARTS, copy_example


def copy_project(root: Path) -> Path:
    return copy_example(root, (*EXAMPLE_PARTS, "data"))


def test_project_paper_overrides_every_brands_paper(tmp_path):
    """[project] paper was validated and documented but never reached the guide."""
    root = tmp_path / "clinic"
    copy_project(root)
    text = (root / "guidegen.toml").read_text(encoding="utf-8")
    (root / "guidegen.toml").write_text(
        text.replace('language = "en-GB"', 'language = "en-GB"\npaper = "Letter"'),
        encoding="utf-8")
    inputs = load_inputs(load_project(root), root / "data" / "athletes.csv")
    renderer = Renderer(inputs.project.templates_dir, inputs.project, inputs.context)
    harbour = next(a for a in inputs.athletes if (a.brand or "harbour") == "harbour")
    plan = plan_guide(inputs, harbour)
    assert plan.brand.paper == "A4"  # the brand's own paper ...
    html = renderer.guide_html(plan, "pdf")
    assert 'class="mode-pdf paper-letter"' in html  # ... overridden by the project
    assert "size: letter" in html


def test_default_brand_is_matched_by_folder_not_by_prefix(tmp_path):
    """A default_brand 'harb' was hidden by any problem under brands/harbour/."""
    root = tmp_path / "clinic"
    copy_project(root)
    toml = root / "guidegen.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        'default_brand = "harbour"', 'default_brand = "harb"').replace(
        'site_brand = "harbour"', 'site_brand = "summit"'), encoding="utf-8")
    brand = root / "brands" / "harbour" / "brand.toml"
    brand.write_text(brand.read_text(encoding="utf-8") + "\nnot_a_key = 1\n", encoding="utf-8")
    inputs = load_inputs(load_project(root))
    messages = [str(p) for p in inputs.problems]
    assert any(m.startswith("brands/harbour/brand.toml") for m in messages), messages
    assert any("default_brand 'harb' is not a brand" in m for m in messages), messages


def test_site_prune_survives_a_symlink_to_an_empty_folder(tmp_path):
    """site.prune crashed (rmdir on a link) on a symlink to an empty folder."""
    layout = OutputLayout(tmp_path / "out")
    (layout.site / "old").mkdir(parents=True)
    (layout.site / "old" / "page.html").write_text("stale")
    (layout.site / "index.html").write_text("kept")
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    (layout.site / "linked").symlink_to(empty, target_is_directory=True)
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("not ours")
    (layout.site / "linked-full").symlink_to(full, target_is_directory=True)
    assert layout.prune(site_keep={"index.html"}) == 1
    assert sorted(os.listdir(layout.site)) == ["index.html", "linked-full"]
    assert empty.is_dir() and (full / "keep.txt").read_text() == "not ours"  # never followed


@pytest.mark.parametrize(("text", "ok"), [("1.50.12", True), ("1.44.0", True),
                                          ("1.9.3", False), ("1.100", True), ("1.43", False)])
def test_doctor_compares_pango_versions_as_numbers(text, ok):
    """'1.9' >= '1.44' is True as strings; Pango 1.9 is far too old."""
    assert (version_tuple(text) >= PANGO_MIN) is ok


def test_guide_warnings_name_the_roster_actually_given(tmp_path):
    """A planning warning named guidegen.toml's roster even when another was given."""
    root = tmp_path / "clinic"
    copy_project(root)
    brand = root / "brands" / "summit" / "brand.toml"
    text = brand.read_text(encoding="utf-8")
    start = text.index("open_days")
    end = text.index("\n", start)
    brand.write_text(text[:start] + 'open_days = ["sat"]' + text[end:], encoding="utf-8")
    other = root / "elsewhere.csv"
    lines = (root / "data" / "athletes.csv").read_text(encoding="utf-8").splitlines()
    summit_rows = [line for line in lines[1:] if ",summit," in line]
    other.write_text("\n".join([lines[0], summit_rows[0]]) + "\n", encoding="utf-8")
    inputs = load_inputs(load_project(root), other)
    plan = plan_guide(inputs, inputs.athletes[0])
    assert plan.problems, "a clinic open on Saturdays only misses the pre- or post-race window"
    for problem in plan.problems:
        assert (problem.path, problem.line) == ("elsewhere.csv", 2)
        assert problem.severity == "warning" and problem.message.startswith(
            inputs.athletes[0].id)
