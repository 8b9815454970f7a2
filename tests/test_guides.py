"""Guides through the library and the CLI: escaping, brands, overrides, commands.

PDF rendering is slow, so only one test here makes a PDF (the hostile name,
through ``guidegen guide --format pdf``); the PDF batch of a two-athlete
roster is proven in test_determinism.py, PDF structure in test_pdf.py.
"""

from __future__ import annotations

import csv
import html as html_lib
import json
import re
from io import BytesIO
from pathlib import Path

import icalendar
import pytest
from pypdf import PdfReader

from generator.publish.guides import GuideMaker
from generator.render.renderer import DISCLAIMER
from tests.guidekit import (
    EPOCH,
    HARBOUR_ID,
    HOSTILE_NAME,
    REPO_ROOT,
    SUMMIT_ID,
    build,
    load,
    page_texts,
    plan_of,
    poppler_text,
    run_python,
)

EPOCH_ENV = {"SOURCE_DATE_EPOCH": EPOCH}


@pytest.fixture(scope="module")
def example_inputs():
    return load()


@pytest.fixture(scope="module")
def html_guides(example_inputs) -> dict:
    """Every example athlete's HTML guide (fast: no PDF)."""
    maker = GuideMaker(example_inputs)
    return {a.id: build(example_inputs, a.id, ("html", "plan"), maker)
            for a in example_inputs.athletes}


def _roster(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def hostile_roster(tmp_path) -> Path:
    return _roster(tmp_path / "hostile.csv", [{
        "id": "hostile-01", "name": HOSTILE_NAME, "race_name": "Race <b>&amp;</b> \"Co\"",
        "race_date": "2027-04-18", "brand": "summit",
        "notes": "</p><img src=x onerror=alert(2)> & <b>bold</b>",
    }])


# ------------------------------------------------------------------ the HTML guide

def test_html_guide_names_athlete_race_and_every_session_date(html_guides):
    for athlete_id, built in html_guides.items():
        page = html_lib.unescape(built.files["html"].decode())
        assert built.athlete.name in page, athlete_id
        assert built.athlete.race_name in page
        missing = [d for d in built.session_dates if d not in page]
        assert not missing, (athlete_id, missing)
        assert built.words.gettext(DISCLAIMER) in page  # in the runner's language
        assert built.brand.booking_url in page
        alt = built.words.gettext("QR code linking to %(url)s", url=built.brand.booking_url)
        assert f'alt="{alt}"' in page  # an image
        assert '<img src="data:image/svg+xml;' in page, "QR code of the booking URL"
        assert f'<html lang="{built.plan.language.tag}"' in page


def test_roster_notes_with_markup_are_shown_as_text(html_guides):
    page = html_guides["hb-maya-06"].files["html"].decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(" in page
    assert "&lt;b&gt;Harbour Harriers&lt;/b&gt;" in page


def test_plan_page_is_not_indexed_and_offers_downloads(html_guides):
    built = html_guides[HARBOUR_ID]
    plan, guide = built.files["plan"].decode(), built.files["html"].decode()
    assert '<meta name="robots" content="noindex, nofollow">' in plan
    assert "noindex" not in guide
    assert 'href="guide.pdf"' in plan and 'href="plan.ics"' in plan


def test_html_only_guides_never_load_weasyprint(html_guides, example_inputs):
    maker = GuideMaker(example_inputs)
    build(example_inputs, HARBOUR_ID, ("html", "ics"), maker)
    assert maker._pdf is None


# ------------------------------------------------------------------ hostile text

def test_hostile_name_is_escaped_in_html(run_cli, hostile_roster, tmp_path):
    out = tmp_path / "guide.html"
    result = run_cli(["guide", hostile_roster, "--format", "html", "-o", out],
                     cwd=REPO_ROOT, env=EPOCH_ENV)
    assert result.exit_code == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    assert "<script>alert" not in page
    assert "<img src=x" not in page and "<b>bold" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; O&#39;Brien &amp; Søn" in page
    assert "<title>&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;/p&gt;&lt;img src=x onerror=alert(2)&gt;" in page
    assert html_lib.unescape(page).count(HOSTILE_NAME) >= 2  # title and cover


def test_hostile_name_is_literal_in_ics(run_cli, hostile_roster, tmp_path):
    out = tmp_path / "plan.ics"
    result = run_cli(["guide", hostile_roster, "--format", "ics", "-o", out],
                     cwd=REPO_ROOT, env=EPOCH_ENV)
    assert result.exit_code == 0, result.stderr
    cal = icalendar.Calendar.from_ical(out.read_bytes())
    descriptions = [str(e["DESCRIPTION"]) for e in cal.walk("VEVENT")]
    assert any(HOSTILE_NAME in d for d in descriptions)
    # X- properties come back unparsed (vUnknown): unescape them as the TEXT they are
    calname = re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1],
                     str(cal["X-WR-CALNAME"]))
    assert "Race <b>&amp;</b> \"Co\"" in calname
    assert "&lt;" not in out.read_text(encoding="utf-8"), "ICS is text, not HTML"


def test_hostile_name_is_literal_in_pdf_text_via_cli(run_cli, hostile_roster, tmp_path):
    out = tmp_path / "guide.pdf"
    result = run_cli(["guide", hostile_roster, "--format", "pdf", "-o", out],
                     cwd=REPO_ROOT, env=EPOCH_ENV)
    assert result.exit_code == 0, result.stderr
    assert f"wrote {out}" in result.stderr
    data = out.read_bytes()
    reader = PdfReader(BytesIO(data))
    text = " ".join(page_texts(reader))
    assert HOSTILE_NAME in text
    assert "&lt;script" not in text and "O&#39;Brien" not in text
    assert "</p><img src=x onerror=alert(2)> & <b>bold</b>" in text
    assert HOSTILE_NAME in reader.metadata.title
    poppler = poppler_text(out)
    if poppler is not None:
        assert HOSTILE_NAME in poppler


# ------------------------------------------------------------------ brands

def test_example_brands_look_different_in_html(html_guides):
    harbour = html_guides[HARBOUR_ID]
    summit = html_guides[SUMMIT_ID]
    h, s = harbour.files["html"].decode(), summit.files["html"].decode()
    assert f"--primary:{harbour.brand.colors.primary}" in h
    assert f"--primary:{summit.brand.colors.primary}" in s
    assert harbour.brand.colors.primary != summit.brand.colors.primary
    assert f"--font:\"{harbour.brand.font_family}\"" in h
    assert f"--font:\"{summit.brand.font_family}\"" in s
    assert harbour.brand.logo_uri in h and harbour.brand.logo_uri not in s
    assert summit.brand.logo_uri in s
    assert "paper-a4" in h and "paper-letter" in s


OVERRIDE_BRAND_TOML = """\
name = "Override Clinic"
logo = "logo.svg"
paper = "Letter"
timezone = "America/Denver"
open_days = ["tue", "wed", "thu", "fri", "sat"]
appointment_time = "08:00"
booking_url = "https://override.example/book"
address = "2 Other Road, Elsewhere"
legal_footer = "Override Clinic (fictional test company)."

[colors]
primary = "#7a2e1f"
accent = "#6fa84a"
"""

OVERRIDE_FOOTER = """\
<footer class="site-footer override-footer">
  <p>OVERRIDDEN FOOTER for {{ brand.name }} and {{ athlete.name }}</p>
</footer>
"""


@pytest.fixture
def two_brand_project(scratch_project) -> Path:
    root = scratch_project({
        "brands/other/brand.toml": OVERRIDE_BRAND_TOML,
        "brands/other/logo.svg": (REPO_ROOT / "brands/summit/logo.svg").read_text("utf-8"),
        "brands/other/templates/partials/footer.j2": OVERRIDE_FOOTER,
        "brands/other/templates/assets/guide.css": "/* OTHER BRAND CSS */ body{color:red}\n",
        "data/athletes.csv": "id,name,race_name,race_date,brand\n"
                             "ada-01,Ada Lovelace,Scratch Marathon,2027-04-18,clinic\n"
                             "bo-02,Bo <Chen>,Scratch Marathon,2027-04-18,other\n",
    }, copy=("templates",))
    return root


def test_brand_template_override_applies_only_to_that_brand(two_brand_project):
    inputs = load(two_brand_project, two_brand_project / "data" / "athletes.csv")
    maker = GuideMaker(inputs)
    clinic = build(inputs, "ada-01", ("html",), maker).files["html"].decode()
    other = build(inputs, "bo-02", ("html",), maker).files["html"].decode()
    assert "OVERRIDDEN FOOTER for Override Clinic and Bo &lt;Chen&gt;" in other
    assert "OTHER BRAND CSS" in other
    assert "OVERRIDDEN FOOTER" not in clinic and "OTHER BRAND CSS" not in clinic
    assert "site-footer__legal" in clinic  # the default footer
    assert "Your dated sessions" in other  # the rest is still the default guide


def test_brand_override_via_cli_batch(run_cli, two_brand_project, tmp_path):
    out = tmp_path / "out"
    result = run_cli(["batch", "data/athletes.csv", "--out", out, "--formats", "html"],
                     cwd=two_brand_project, env=EPOCH_ENV)
    assert result.exit_code == 0, result.stderr
    assert "OVERRIDDEN FOOTER" in (out / "guides/other/bo-02.html").read_text("utf-8")
    assert "OVERRIDDEN FOOTER" not in (out / "guides/clinic/ada-01.html").read_text("utf-8")


# ------------------------------------------------------------------ CLI

@pytest.mark.parametrize("fmt", ["html", "ics"])
def test_cli_guide_writes_one_format(run_cli, tmp_path, fmt, example_inputs):
    out = tmp_path / f"zoe.{fmt}"
    result = run_cli(["guide", "data/athletes.csv", "--id", HARBOUR_ID, "--format", fmt,
                      "-o", out], cwd=REPO_ROOT, env=EPOCH_ENV)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    data = out.read_bytes()
    if fmt == "html":
        assert data.startswith(b"<!DOCTYPE html>")
    else:
        cal = icalendar.Calendar.from_ical(data)
        plan = plan_of(example_inputs, HARBOUR_ID)
        assert len(cal.walk("VEVENT")) == len(plan.timeline.sessions)
    assert not list(tmp_path.glob(".*.tmp")), "atomic write left a temp file"


def test_cli_guide_to_stdout(run_cli):
    result = run_cli(["guide", "data/athletes.csv", "--id", SUMMIT_ID, "--format", "ics",
                      "-o", "-"], cwd=REPO_ROOT, env=EPOCH_ENV)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("BEGIN:VCALENDAR")


def test_cli_batch_makes_html_and_ics_for_every_example_athlete(run_cli, tmp_path,
                                                                 example_inputs):
    out = tmp_path / "out"
    result = run_cli(["batch", "data/athletes.csv", "--out", out, "--formats", "html,ics"],
                     cwd=REPO_ROOT, env=EPOCH_ENV)
    assert result.exit_code == 0, result.stderr
    expected = set()
    for athlete in example_inputs.athletes:
        brand = example_inputs.brand_for(athlete).id
        expected |= {f"guides/{brand}/{athlete.id}.html", f"guides/{brand}/{athlete.id}.ics"}
    made = {str(p.relative_to(out)) for p in (out / "guides").rglob("*") if p.is_file()}
    assert made == expected
    assert len(expected) == 2 * len(example_inputs.athletes)
    assert {p.name for p in (out / "guides").iterdir()} == {"harbour", "summit"}


@pytest.mark.parametrize("args", [
    ["guide", "data/athletes.csv", "--id", HARBOUR_ID, "--format", "docx"],
    ["batch", "data/athletes.csv", "--formats", "html,docx"],
    ["batch", "data/athletes.csv", "--formats", ","],
])
def test_unknown_format_is_a_usage_error(run_cli, tmp_path, args):
    result = run_cli([*args, *(["--out", tmp_path / "out"] if args[0] == "batch" else [])],
                     cwd=REPO_ROOT)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.exception is None
    assert "docx" in result.stderr or "format" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out" / "guides").exists()


def test_cli_guide_unknown_id_is_a_usage_error(run_cli):
    result = run_cli(["guide", "data/athletes.csv", "--id", "nobody", "--format", "html",
                      "-o", "-"], cwd=REPO_ROOT)
    assert result.exit_code == 2
    assert "nobody" in result.stderr


IMPORT_PROBE = """
import json, sys
from generator.cli import main
sys.argv = ["guidegen", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit as exc:
    code = exc.code
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("weasyprint", "pydyf", "tinycss2",
                                                              "cssselect2", "fontTools"))
print(json.dumps({"code": code, "heavy": heavy}))
"""


@pytest.mark.parametrize("command", [
    ["guide", "data/athletes.csv", "--id", HARBOUR_ID, "--format", "html", "-o", "{tmp}/x.html"],
    ["guide", "data/athletes.csv", "--id", HARBOUR_ID, "--format", "ics", "-o", "{tmp}/x.ics"],
    ["batch", "data/athletes.csv", "--out", "{tmp}/out", "--formats", "html,ics", "-j", "1"],
])
def test_html_and_ics_commands_do_not_import_weasyprint(command, tmp_path):
    args = [a.replace("{tmp}", str(tmp_path)) for a in command]
    code = IMPORT_PROBE.replace("sys.argv[1]", repr(json.dumps(args)))
    proc = run_python(code, cwd=REPO_ROOT, env=EPOCH_ENV)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["code"] in (0, None), proc.stderr
    assert report["heavy"] == [], f"{' '.join(args)} imported {report['heavy']}"


def test_importing_the_pipeline_does_not_import_weasyprint():
    """WeasyPrint is imported when a PDF is made, not when generator.pdf.maker is imported."""
    proc = run_python("import sys, generator.pdf.maker, generator.publish.guides, generator.cli; "
                      "print('weasyprint' in sys.modules)", cwd=REPO_ROOT)
    assert proc.stdout.strip() == "False", proc.stderr
