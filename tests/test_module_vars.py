"""Modules that speak to the runner: the declared variables (generator/load/modulevars.py),
checked at load with file and line, filled per guide (escaped), neutral on the site, and
never reused wrongly by the PDF fast path."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from generator.load.content import parse_module
from generator.load.inputs import load_inputs
from generator.load.modulevars import BY_NAME, VARIABLES, _compiled, nest, readme_table
from generator.load.project import load_project
from generator.plan.guideplan import plan_guide
from generator.publish.guides import GuideMaker
from generator.render.modulevalues import guide_values
from generator.render.renderer import Renderer
from tests.guidekit import (
    REPO_ROOT,
    build,
    load,
    normalise,
    plan_of,
    poppler_text,
    source_date_epoch,
)
from tests.test_fastpdf import describe

HALF_ID = "sm-ji-13"  # half marathon; race "Boulder Autumn Half": no "marathon" in its name
ULTRA_ID = "hb-niamh-14"  # ultra, "South Downs Ultra 100K"
HOSTILE = "<b>Zoë</b> *x* & Co"


def write_module(folder: Path, body: str, front: str = "title: T\n") -> tuple[Path, str]:
    path = folder / "m.md"
    text = f"---\n{front}---\n\n{body}"
    path.write_text(text, encoding="utf-8")
    return path, text


def problems_of(tmp_path: Path, body: str, front: str = "title: T\n") -> list[str]:
    path, _ = write_module(tmp_path, body, front)
    module, problems = parse_module(path, "content/m.md")
    assert (module is None) == bool(problems)
    return [str(p) for p in problems]


class _Text(HTMLParser):
    """What a reader of the page gets: text outside <style>/<script>/<title>, plus the
    attributes read aloud or shown (aria-label, alt, title)."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("style", "script", "title")
        self.parts += [v for k, v in attrs if k in ("aria-label", "alt", "title") and v]

    def handle_endtag(self, tag):
        self._skip -= tag in ("style", "script", "title")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(page: str) -> str:
    parser = _Text()
    parser.feed(page)
    return normalise(" ".join(parser.parts))


# ------------------------------------------------------------------ the declaration

def test_the_readme_table_is_made_from_the_one_declaration():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert readme_table() in readme
    listed = set(re.findall(r"^\| `\{\{ ([\w.]+) \}\}` \|", readme, re.M))
    assert listed == set(BY_NAME)


def test_every_declared_variable_has_a_value_in_a_guide():
    inputs = load()
    plan = plan_of(inputs, "hb-zoe-01")
    renderer = Renderer(inputs.project.templates_dir, inputs.project)
    values = guide_values(plan, renderer.plan_words(plan))

    def flatten(tree: dict, prefix: str = "") -> dict:
        flat = {}
        for key, value in tree.items():
            if isinstance(value, dict):
                flat |= flatten(value, f"{prefix}{key}.")
            else:
                flat[prefix + key] = value
        return flat

    flat = flatten(values)
    assert list(flat) == [v.name for v in VARIABLES] or set(flat) == set(BY_NAME)
    assert all(isinstance(value, str) and value for value in flat.values())
    assert values["race"]["date"] == "Sunday, 18 April 2027"  # the guide's own date format
    assert values["race"]["distance_label"] == "marathon"
    assert values["runner"]["first_name"] == "Zoë"
    assert values["clinic"]["name"] == "Harbour Sports Therapy"


# ------------------------------------------------------------------ refused, with file and line

def test_a_sandbox_escape_is_refused_at_its_line(tmp_path):
    assert problems_of(tmp_path, "Intro.\n\n{{ ().__class__ }}\n") == [
        "content/m.md:7: body: '__class__': names starting with '_' are not allowed; "
        "module text may only show variables, like {{ race.name }} "
        "(see README: Module variables)"]


@pytest.mark.parametrize("body, line, message", [
    ("x\n{{ race.nme }}\n", 6, "unknown variable 'race.nme'; did you mean 'race.name'?"),
    ("{{ athlete.notes }}", 5, "unknown variable 'athlete.notes'"),
    ("{{ race }}", 5, "'race' is a group of variables: use race.name, race.date"),
    ("{{ race.name.__class__.__mro__ }}", 5, "'__mro__': names starting with '_'"),
    ("{{ race._secret }}", 5, "'_secret': names starting with '_'"),
    ("a\n\n{{ race.name() }}", 7, "calls are not allowed"),
    ("{{ race['name'] }}", 5, "indexing with [...]"),
    ("{{ 'x' * 9 }}", 5, "operators are not allowed"),
    ("{{ 'x' }}", 5, "literal values are not allowed"),
    ("{{ race.name|safe }}", 5, "unknown filter 'safe'"),
    ("{{ race.name|replace('a', 'b') }}", 5, "the filter 'replace' with arguments"),
    ("{{ range(9) }}", 5, "calls are not allowed"),
    ("\n\n{% for x in race %}{{ x }}{% endfor %}", 7, "'{% for %}' is not allowed"),
    ("{% set a = 1 %}", 5, "'{% set %}' is not allowed"),
    ("{% include 'x' %}", 5, "'{% include %}' is not allowed"),
    ("ok\n\n{{ race.name \n", 7, "template syntax error: unexpected end of template"),
    ("## Title {#custom-id}\n", 5, "template syntax error"),
    ("[book]({{ clinic.name }})", 5, "variables can only be used in text"),
    ("![a {{ race.name }}](x.png)", 5, "variables can only be used in text"),
])
def test_anything_outside_the_small_grammar_is_a_located_body_error(tmp_path, body, line,
                                                                    message):
    found = problems_of(tmp_path, body)
    assert len(found) == 1, found
    assert found[0].startswith(f"content/m.md:{line}: body: "), found
    assert message in found[0]


def test_titles_and_summaries_are_checked_at_their_key(tmp_path):
    found = problems_of(tmp_path, "Body.\n",
                        "title: After {{ race.nme }}\norder: 3\nsummary: '{{ x.__init__ }}'\n")
    assert found == [
        "content/m.md:2: title: unknown variable 'race.nme'; did you mean 'race.name'?",
        "content/m.md:4: summary: '__init__': names starting with '_' are not allowed; "
        "module text may only show variables, like {{ race.name }} "
        "(see README: Module variables)"]


def test_check_reports_a_forbidden_construct_as_one_line_without_a_traceback(run_cli,
                                                                              scratch_project):
    root = scratch_project({"content/evil.md": "---\ntitle: Evil\n---\n\nHi.\n\n"
                                               "{{ ().__class__.__base__ }}\n",
                            "content/typo.md": "---\ntitle: Typo\n---\n{{ runner.frist_name }}\n"})
    result = run_cli(["check", "data/athletes.csv"], cwd=root)
    assert result.exit_code == 1
    assert result.stderr_lines[:-1] == [
        "content/evil.md:7: body: '__base__': names starting with '_' are not allowed; "
        "module text may only show variables, like {{ race.name }} "
        "(see README: Module variables)",
        "content/typo.md:4: body: unknown variable 'runner.frist_name'; "
        "did you mean 'runner.first_name'?"]
    assert "Traceback" not in result.stdout + result.stderr


TEMPLATE_TOKENS = st.sampled_from([
    "{{", "}}", "{%", "%}", "{#", "#}", " ", "\n", "\n\n", "race", ".", "name", "date",
    "runner", "first_name", "sessions.pre_race.date", "_", "__class__", "(", ")", "[", "]",
    "'x'", "|", "upper", "safe", "*", "<b>", "[a](", "![i](", "## ", "- ", "> ", "for ",
    "raw", "endraw", "set ", "=", "~", "qzgv", "0z", "&amp;", "é", "\t",
])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(tokens=st.lists(TEMPLATE_TOKENS, max_size=40), in_title=st.booleans())
def test_any_template_text_gives_a_module_or_located_one_line_problems(tmp_path, tokens,
                                                                       in_title):
    text = "".join(tokens)
    front = f"title: {text!r}\n" if in_title else "title: T\n"
    path, whole = write_module(tmp_path, "x" if in_title else text, front)
    module, problems = parse_module(path, "content/m.md")
    assert (module is None) == bool(problems)
    last = len(whole.splitlines()) + 1
    for problem in problems:
        assert problem.field in ("title", "body"), problem
        assert problem.line is not None and 1 <= problem.line <= last, (problem, whole)
        assert "\n" not in str(problem)
    if module is not None:
        placeholder = re.compile(r"qzgvx*\d+z", re.I)
        assert len(placeholder.findall(module.html)) <= len(placeholder.findall(text))
        hostile = module.with_values(nest({v.name: "<i>" for v in VARIABLES}))
        assert "<i>" not in hostile.html and "<i>" not in module.html


def test_raw_blocks_write_template_syntax_as_text(tmp_path):
    path, _ = write_module(tmp_path, "## Heading {% raw %}{#anchor}{% endraw %}\n\n"
                                     "Literal {% raw %}{{ race.name }}{% endraw %}, "
                                     "real {{ race.name }}.\n")
    module, problems = parse_module(path, "content/m.md")
    assert not problems
    assert '<h2 id="anchor">Heading</h2>' in module.html
    assert "Literal {{ race.name }}, real your race." in module.html


# ------------------------------------------------------------------ rendering

def test_a_module_without_variables_is_shared_as_it_is(tmp_path):
    path, _ = write_module(tmp_path, "Plain *text* about { braces }.\n")
    module, _ = parse_module(path, "content/m.md")
    assert module.text is None
    assert module.with_values({}) is module


def test_heading_ids_do_not_depend_on_the_runner(tmp_path):
    path, _ = write_module(tmp_path, "## After your {{ race.distance_label }}\n\nText.\n")
    module, _ = parse_module(path, "content/m.md")
    assert '<h2 id="after-your-race">After your race</h2>' in module.html
    values = {"race": {"distance_label": "half marathon"}}
    assert '<h2 id="after-your-race">After your half marathon</h2>' in \
        module.with_values(values).html


def test_text_that_looks_like_a_placeholder_stays_text(tmp_path):
    path, _ = write_module(tmp_path, "qzgv0z and QZGV1Z, then {{ race.name }}.\n")
    module, _ = parse_module(path, "content/m.md")
    assert "<p>qzgv0z and QZGV1Z, then your race.</p>" in module.html


HOSTILE_FILES = {
    "content/hello.md": "---\ntitle: For {{ runner.first_name }}\n"
                        "summary: \"{{ runner.name }}'s {{ race.distance_label }}\"\n---\n\n"
                        "Hello {{ runner.name }}, *well done* on {{ race.name }}.\n",
    "data/athletes.csv": "id,name,race_name,race_date,distance\n"
                         f"evil-01,\"{HOSTILE}\",<i>Ride</i> **10K**,2027-04-18,half-marathon\n",
}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    from tests.conftest import ScratchProject

    root = ScratchProject(tmp_path_factory.mktemp("hostile"))(HOSTILE_FILES, copy=("templates",))
    with source_date_epoch():
        inputs = load(root, root / "data" / "athletes.csv")
        built = build(inputs, "evil-01", ("html", "pdf"))
    return built.result.files


def test_roster_values_are_escaped_text_in_the_html_guide(hostile):
    page = hostile["html"].decode()
    assert "Hello &lt;b&gt;Zoë&lt;/b&gt; *x* &amp; Co, <em>well done</em> on " \
           "&lt;i&gt;Ride&lt;/i&gt; **10K**." in page
    assert "<b>Zoë" not in page and "<i>Ride" not in page and "<em>x</em>" not in page
    assert "For &lt;b&gt;Zoë&lt;/b&gt;" in page  # the title, escaped once by the template
    assert "&amp;lt;" not in page  # ... and not twice
    assert "half marathon" in page


def test_roster_values_are_literal_in_the_pdf(hostile):
    reader = PdfReader(__import__("io").BytesIO(hostile["pdf"]))
    text = normalise(" ".join(page.extract_text() for page in reader.pages))
    assert f"Hello {HOSTILE}, well done on <i>Ride</i> **10K**." in text


def test_expressions_are_compiled_once_per_process():
    inputs = load()
    renderer = Renderer(inputs.project.templates_dir, inputs.project, inputs.context)
    renderer.guide_html(plan_of(inputs, "hb-zoe-01"))
    before = _compiled.cache_info()
    for athlete_id in ("hb-zoe-01", "hb-soren-02", HALF_ID):
        renderer.guide_html(plan_of(inputs, athlete_id))
    after = _compiled.cache_info()
    assert after.hits > before.hits
    assert after.misses == before.misses  # Zoë's guide already used every expression


# ------------------------------------------------------------------ the shipped modules

@pytest.fixture(scope="module")
def example_guides(tmp_path_factory):
    out = tmp_path_factory.mktemp("guides")
    with source_date_epoch():
        inputs = load()
        maker = GuideMaker(inputs)
        made = {}
        for athlete_id in (HALF_ID, ULTRA_ID):
            files = build(inputs, athlete_id, ("html", "pdf"), maker).result.files
            pdf = out / f"{athlete_id}.pdf"
            pdf.write_bytes(files["pdf"])
            reader = PdfReader(str(pdf))
            made[athlete_id] = {
                "html": visible_text(files["html"].decode()),
                "pdf": normalise(" ".join(p.extract_text() for p in reader.pages)),
                "pdftotext": poppler_text(pdf),
                "plan": plan_of(inputs, athlete_id)}
    return made


@pytest.mark.parametrize("form", ["html", "pdf", "pdftotext"])
def test_a_half_marathon_guide_never_says_marathon_but_half_marathon(example_guides, form):
    """The race is called "Boulder Autumn Half": every "marathon" in the text the runner
    reads (page text, plus aria-label/alt/title; not ids or file names) is part of the
    distance label "half marathon"."""
    guide = example_guides[HALF_ID]
    assert "marathon" not in guide["plan"].athlete.race_name.lower()
    text = guide[form]
    if text is None:
        pytest.skip("pdftotext is not installed: apt-get install -y poppler-utils")
    assert "your half marathon" in text.lower()
    leftover = re.sub(r"half[\s-]+marathon", "", text, flags=re.I)
    assert "marathon" not in leftover.lower(), re.findall(r".{40}marathon.{20}", leftover,
                                                          re.I)
    assert "{{" not in text and "qzgv" not in text.lower()


@pytest.mark.parametrize("form", ["html", "pdf"])
def test_an_ultra_guide_speaks_of_the_ultra(example_guides, form):
    text = example_guides[ULTRA_ID][form].lower()
    assert "your ultra" in text
    assert not re.search(r"\b(your|a|the|first) marathon", text), re.findall(
        r".{30}marathon.{10}", text)


def test_site_pages_read_with_neutral_values(tmp_path, run_cli):
    result = run_cli(["site", "--out", tmp_path], cwd=REPO_ROOT)
    assert result.exit_code == 0, result.stderr
    site = tmp_path / "site" if (tmp_path / "site").is_dir() else tmp_path
    pages = {p.parent.name: visible_text(p.read_text(encoding="utf-8"))
             for p in site.glob("*/index.html")}
    assert "Your first race: a few words before you start" in pages["first-marathon"]
    assert "Congratulations on taking on your first race." in pages["first-marathon"]
    assert "keep the rest of the days before your race easy" in pages["pre-race-massage"]
    assert "the preference you gave Harbour Sports Therapy" in pages["how-often"]
    home = html.unescape((site / "index.html").read_text(encoding="utf-8"))
    assert "before your race so you reach the start line" in home  # a summary
    for name, text in pages.items():
        assert "{{" not in text and "qzgv" not in text.lower(), name
    feed = (site / "feed.xml").read_text(encoding="utf-8")
    assert "{{" not in feed and "your first race" in feed


# ------------------------------------------------------------------ the PDF fast path

RUNNERS = ("id,name,race_name,race_date,distance\n"
           "ada-01,Ada Lovelace,Tideway 10,2027-04-18,marathon\n"
           "bo-02,Bo Chen,Tideway 10,2027-04-18,marathon\n"
           "ada-03,Ada Byron,Tideway 10,2027-04-18,marathon\n")
SHARED_MD = ("---\ntitle: Good luck, {{ runner.first_name }}\norder: 50\n---\n\n"
             "Hello {{ runner.first_name }}: enjoy your {{ race.distance_label }}.\n")


@pytest.fixture(scope="module")
def fast_and_full(tmp_path_factory):
    from tests.conftest import ScratchProject

    root = ScratchProject(tmp_path_factory.mktemp("fast"))(
        {"content/shared.md": SHARED_MD, "data/athletes.csv": RUNNERS}, copy=("templates",))
    with source_date_epoch():
        inputs = load_inputs(load_project(root), root / "data" / "athletes.csv")
        assert not inputs.errors, inputs.errors
        fast, full = GuideMaker(inputs), GuideMaker(inputs)
        full.fast = False
        made = {}

        def stats() -> dict:  # the fast path is made on the first guide
            zero = {"laid_out": 0, "reused": 0, "relayouts": 0}
            return dict(fast._fast.stats) if fast._fast is not None else zero

        for athlete in inputs.athletes:
            plan = plan_guide(inputs, athlete)
            before = stats()
            pdf = fast.make(plan, ("pdf",)).files["pdf"]
            made[athlete.id] = (pdf, full.make(plan, ("pdf",)).files["pdf"],
                                {k: v - before[k] for k, v in stats().items()})
    return made


@pytest.mark.parametrize("athlete_id", ["ada-01", "bo-02", "ada-03"])
def test_a_module_with_runner_variables_is_never_reused_for_another_runner(fast_and_full,
                                                                           athlete_id):
    fast_pdf, full_pdf, _ = fast_and_full[athlete_id]
    fast, full = describe(fast_pdf), describe(full_pdf)
    assert fast == full
    first = athlete_id.split("-")[0].capitalize()
    other = {"Ada": "Bo", "Bo": "Ada"}[first]
    text = " ".join(fast["text"])
    assert f"Hello {first}: enjoy your marathon." in text
    assert f"Good luck, {other}" not in text and f"Hello {other}" not in text


def test_shared_pages_with_variables_are_reused_only_by_runners_with_the_same_values(
        fast_and_full):
    # Bo's shared module reads differently from Ada Lovelace's: laid out for Bo
    assert fast_and_full["bo-02"][2]["laid_out"] >= 1
    # Ada Byron's reads exactly like Ada Lovelace's: every repeated part reused
    assert fast_and_full["ada-03"][2] == {"laid_out": 0, "reused": 3, "relayouts": 0}
