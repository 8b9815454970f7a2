"""No guide with empty boxes: characters no installed font can draw are located errors.

The undrawable character is chosen on this machine with ``fc-list :charset=HEX`` (an
oracle independent of generator/pdf/coverage.py): U+13000 EGYPTIAN HIEROGLYPH A001 unless
a font covers it (fonts-noto-core does), else a Private Use character. Expectations about
emoji and CJK ask fc-list the same way, so they hold with and without those fonts.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from generator.core.errors import Problem
from generator.deliver.delivery import Delivery, Options
from generator.load.inputs import load_inputs
from generator.load.project import load_project
from generator.pdf import coverage
from generator.pdf.coverage import Coverage, check_plans, missing_glyphs, notdef_problems
from generator.plan.guideplan import plan_guide
from generator.publish.batch import run_batch
from tests.browser_util import missing_tool
from tests.conftest import copy_example, invoke_cli
from tests.guidekit import EPOCH

FONTCONFIG = "apt-get install -y --no-install-recommends fontconfig"
CANDIDATES = {0x13000: "EGYPTIAN HIEROGLYPH A001", 0xE000: "private use character",
              0x10FFFD: "private use character"}
ENV = {"SOURCE_DATE_EPOCH": EPOCH, "GUIDEGEN_PLAN_SECRET": "coverage-secret-0123456789abcdef"}


def fc_covers(code: int) -> bool:
    """Whether any installed font has ``code``, according to fontconfig itself."""
    done = subprocess.run(["fc-list", f":charset={code:x}", "family"], capture_output=True,
                          text=True, check=True)
    return bool(done.stdout.strip())


def choose_undrawable() -> str:
    """The first candidate no installed font covers (skips without fontconfig)."""
    if shutil.which("fc-list") is None:
        missing_tool("fc-list not found", FONTCONFIG)
    for code in CANDIDATES:
        if not fc_covers(code):
            return chr(code)
    pytest.fail("every candidate character is covered by an installed font")


@pytest.fixture(scope="module")
def undrawable() -> str:
    return choose_undrawable()


def expected(char: str) -> str:
    return (f"no installed font can draw U+{ord(char):04X} ({CANDIDATES[ord(char)]}); "
            "install a font that covers it (fonts-noto-core, fonts-noto-cjk)")


# ---------------------------------------------------------------- the coverage set

def test_ranges_are_parsed_merged_and_searched():
    fonts = Coverage.from_charsets("20-7e a0-ff\n41-5a 100 101-17f\n\n4e00-4e2f junk\n")
    assert len(fonts) == (0x17F - 0xA0 + 1) + 95 + 0x30
    assert 0x20 in fonts and 0x7E in fonts and 0x7F not in fonts and 0x9F not in fonts
    assert 0x100 in fonts and 0x17F in fonts and 0x180 not in fonts and 0x4E2D in fonts
    assert fonts.missing("Zoë Ó Briain") == [] and fonts.missing("中文") == ["文"]
    assert fonts.missing("Ǆ ǅ ǅ") == ["Ǆ", "ǅ"]  # once each, in order


def test_what_is_never_drawn_is_never_reported():
    fonts = Coverage.from_charsets("20-7e")  # ASCII only: no ZWJ, VS16, NBSP, soft hyphen
    text = "A\u200dB\ufe0fC\u00a0D\u00adE\u2009F\u200bG\u2060H\U000e0001"
    assert fonts.missing(text) == []
    assert fonts.missing("\u202eevil\u202c") == []  # bidi controls (Cf)


def test_composed_and_decomposed_forms_count_as_drawable():
    fonts = Coverage.from_charsets("20-7e e9")  # é, but no combining acute (U+0301)
    assert fonts.missing("e\u0301milie") == []  # NFC: é, which the font has
    fonts = Coverage.from_charsets("20-7e 301")  # the combining acute, but no é
    assert fonts.missing("émilie") == []  # HarfBuzz decomposes: e + U+0301
    assert fonts.missing("ñ") == ["ñ"]  # no U+0303: neither form can be drawn


def test_the_installed_fonts_agree_with_fontconfig(undrawable):
    fonts = coverage.installed()
    assert fonts is not None
    for code in (0x41, 0xE9, 0x416, 0x4E2D, 0xAC00, 0x644, 0x1F3C3, 0x1F600, ord(undrawable)):
        assert (code in fonts) == fc_covers(code), hex(code)


def test_latin_and_cjk_names_pass_and_the_undrawable_character_is_named(undrawable):
    fonts = coverage.installed()
    for name in ("Ada Lovelace", "Zoë Ó Briain", "Søren Ødegård", "Олександр Коваль",
                 "Maya Patel \u200d\u2640\ufe0f"):
        assert fonts.missing(name) == [], name
    for name in ("田中 花子", "김지호"):
        if all(fc_covers(ord(c)) for c in name if c != " "):
            assert fonts.missing(name) == [], name
    assert fonts.missing(f"Ana {undrawable} Silva") == [undrawable]
    assert coverage.message(fonts.missing(f"Ana {undrawable}")) == expected(undrawable)
    runner = "\U0001f3c3"  # the example roster's emoji: drawable only with an emoji font
    assert fonts.missing(f"Maya {runner}\u200d\u2640\ufe0f") == (
        [] if fc_covers(0x1F3C3) else [runner])


def test_messages_name_each_character_and_the_packages():
    msg = coverage.message(["\U0001f3c3"])
    assert msg == ("no installed font can draw U+1F3C3 (RUNNER); install a font that "
                   "covers it (fonts-noto-color-emoji)")
    msg = coverage.message(["\U00013000", "\U00013001", "\ue000", "\U0001f3c3", "\U000e0fff"])
    assert msg.startswith("no installed font can draw U+13000 (EGYPTIAN HIEROGLYPH A001), "
                          "U+13001 (EGYPTIAN HIEROGLYPH A002), U+E000 (private use "
                          "character) and 2 more; install a font that covers them ")
    assert msg.endswith("(fonts-noto-color-emoji, fonts-noto-core, fonts-noto-cjk)")


# ---------------------------------------------------------------- a project

def roster(char: str) -> str:
    return ("id,name,email,race_name,race_date,brand\n"
            "hb-zoe-01,Zoë Ó Briain,zoe@example.com,Solent Coastal Marathon,2027-04-18,harbour\n"
            f"glyph-02,Ana {char} Silva,ana@example.com,Solent Coastal Marathon,2027-04-18,"
            "harbour\n"
            "sm-diego-03,Diego Fernández,diego@example.org,Front Range Marathon,2027-05-23,"
            "summit\n")


@pytest.fixture(scope="module")
def project(tmp_path_factory, undrawable) -> Path:
    return copy_example(tmp_path_factory.mktemp("coverage"),
                        files={"data/athletes.csv": roster(undrawable)})


@pytest.fixture(scope="module")
def built(project):
    result = invoke_cli(["build", "--out", "out", "--jobs", "1"], cwd=project, env=ENV,
                        catch_exceptions=False)
    return result, project / "out"


def test_build_reports_the_runner_at_its_row_and_builds_the_rest(built, undrawable):
    result, out = built
    assert result.exit_code == 1, result.stderr
    assert f"data/athletes.csv:3: name: {expected(undrawable)}" in result.stderr_lines
    assert "guides: 2 built, 0 unchanged, 1 failed" in result.stderr
    assert not list(out.rglob("glyph-02*"))  # no PDF, HTML or ICS for that runner
    for path in ("guides/harbour/hb-zoe-01", "guides/summit/sm-diego-03"):
        for fmt in ("pdf", "html", "ics"):
            assert (out / f"{path}.{fmt}").is_file()
    plan_pages = [p for p in (out / "site" / "plans").iterdir() if p.is_dir()]
    assert len(plan_pages) == 2  # no plan page either
    assert "glyph-02" not in (out / "manifest.json").read_text(encoding="utf-8")


def test_email_skips_the_runner_with_the_error_at_its_row(built, project, undrawable,
                                                          tmp_path):
    outbox = tmp_path / "outbox"
    result = invoke_cli(["email", "data/athletes.csv", "--outbox", outbox, "--out", "out"],
                        cwd=project, env=ENV)
    assert result.exit_code == 1, result.stderr
    assert f"data/athletes.csv:3: name: {expected(undrawable)}" in result.stderr_lines
    assert sorted(p.name for p in outbox.iterdir()) == ["hb-zoe-01.eml", "sm-diego-03.eml"]
    assert "1 failed" in result.stderr and "2 to send" in result.stderr
    assert any(line.startswith("failed") and "glyph-02" in line
               for line in result.stdout.splitlines())


def test_a_brand_text_is_a_problem_at_its_line_in_brand_toml(tmp_path, undrawable):
    toml = (copy_example(tmp_path / "a", ("brands",)) / "brands/harbour/brand.toml")
    text = toml.read_text(encoding="utf-8").replace("12 Quay Lane", f"12 Quay {undrawable}")
    root = copy_example(tmp_path / "b", files={"data/athletes.csv": roster("x"),
                                               "brands/harbour/brand.toml": text})
    inputs = load_inputs(load_project(root), root / "data/athletes.csv")
    found = check_plans(inputs, [plan_guide(inputs, a) for a in inputs.athletes])
    line = text.splitlines().index(next(s for s in text.splitlines()
                                        if s.startswith("address"))) + 1
    assert [str(p) for p in found.problems] == [
        f"brands/harbour/brand.toml:{line}: address: {expected(undrawable)}"]
    assert sorted(found.runners) == ["glyph-02", "hb-zoe-01"]  # the harbour runners
    assert str(found.runners["hb-zoe-01"][0]) == (
        "data/athletes.csv:2: hb-zoe-01: no guide: brand 'harbour' has text no installed "
        "font can draw (see brands/harbour/brand.toml)")


# ---------------------------------------------------------------- while rendering

def test_a_notdef_drawn_by_weasyprint_fails_that_guide_at_its_row(project, undrawable,
                                                                  tmp_path):
    """The check before rendering bypassed: WeasyPrint's own .notdef warning, for real."""
    inputs = load_inputs(load_project(project), project / "data/athletes.csv")
    plans = [plan_guide(inputs, a) for a in inputs.athletes if a.id == "glyph-02"]
    summary = run_batch(inputs, plans, tmp_path / "out", ("pdf",), jobs=1)
    assert (summary.built, summary.failed) == (0, 1)
    assert [str(p) for p in summary.problems] == [
        f"data/athletes.csv:3: name: {expected(undrawable)}"]
    assert summary.problems[0].athlete_id == "glyph-02"
    assert not list((tmp_path / "out").rglob("*.pdf"))
    assert "warning" not in vars(logging.getLogger("weasyprint"))  # the capture is undone


def test_the_capture_nests_and_attributes_characters_to_fields(project, undrawable):
    logger = logging.getLogger("weasyprint")
    with missing_glyphs() as outer:
        with missing_glyphs() as inner:
            logger.warning('.notdef glyph rendered for Unicode string unsupported by fonts: '
                           '"%s" (U+%04X)', undrawable, ord(undrawable))
        logger.warning('.notdef glyph rendered for Unicode string unsupported by fonts: '
                       '"%s" (U+%04X)', "\ue001", 0xE001)
        logger.warning("something else entirely")
    assert inner == [ord(undrawable)] and outer == [ord(undrawable), 0xE001]
    assert "warning" not in vars(logger)
    inputs = load_inputs(load_project(project), project / "data/athletes.csv")
    plan = plan_guide(inputs, next(a for a in inputs.athletes if a.id == "glyph-02"))
    found = notdef_problems(plan, outer, "data/athletes.csv", 3)
    assert [p.field for p in found] == ["name", None]
    assert found[1].message.startswith("glyph-02: no installed font can draw U+E001 "
                                       "(private use character) in the guide's text")


def test_a_box_drawn_while_composing_an_email_fails_that_recipient(project, tmp_path):
    inputs = load_inputs(load_project(project), project / "data/athletes.csv")
    plans = [plan_guide(inputs, a) for a in inputs.athletes]

    def compose(plan):  # the guide rendered for this message draws a box
        logging.getLogger("weasyprint").warning(
            '.notdef glyph rendered for Unicode string unsupported by fonts: "%s" (U+%04X)',
            "\ue001", 0xE001)
        return None  # never looked at: the message is dropped

    class NoLog:
        def rows(self, athlete_id):
            raise AssertionError("a dropped message is not looked up in the send log")

    lines: list[str] = []
    options = Options(outbox=tmp_path, source="data/athletes.csv", lines=inputs.roster_lines)
    blocked = {"glyph-02": [Problem("data/athletes.csv", 3, "x", "name", "error", "glyph-02")]}
    summary = Delivery(NoLog(), None, options, echo=lines.append).run(plans, compose,
                                                                      blocked=blocked)
    assert summary.failed == 3 and summary.would_send == 0
    shown = [str(p) for p in summary.failures]
    assert shown[1] == "data/athletes.csv:3: name: x"  # blocked: not even composed
    assert shown[0].startswith("data/athletes.csv:2: hb-zoe-01: no installed font can draw "
                               "U+E001 (private use character) in the guide's text")
    assert [line.split()[:2] for line in lines] == [
        ["failed", "hb-zoe-01"], ["failed", "glyph-02"], ["failed", "sm-diego-03"]]
    assert os.listdir(tmp_path) == []
