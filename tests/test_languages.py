"""Every runner in their own language (issue 15): guides, PDFs, calendars, emails and the
site in Spanish and German; dates, clocks and distances by locale; the fallback chain;
translated modules that keep the plan; catalogs that rebuild exactly their guides.

One build of a small roster (a Spanish, a German, an en-US and a French runner) is shared
by the module; every check reads real outputs: HTML, pdftotext, parsed iCalendar, .eml.
"""

from __future__ import annotations

import email
import email.policy
import html
import re
import subprocess
import sys
from pathlib import Path

import icalendar
import pytest
from lxml import etree

from generator.load.content import load_modules
from generator.load.inputs import load_inputs
from generator.load.project import load_project
from generator.plan.guideplan import plan_guide
from tests.conftest import EXAMPLE_ROSTER, REPO_ROOT, copy_example
from tests.guidekit import context, normalise

pytest_plugins = ["site_fixtures"]  # the shared headless Chromium (``browser``)

ES, DE, US, ZOE = "hb-lucia-17", "hb-jonas-18", "sm-hanako-03", "hb-zoe-01"
FR = "emile-durand-2027-03-07"  # no id in the roster: made from name and race date
SECRET = "languages-test-secret-0123456789"
ENV = {"GUIDEGEN_PLAN_SECRET": SECRET, "SOURCE_DATE_EPOCH": "1790000000"}
XSD = Path(__file__).parent / "data" / "sitemap-hreflang.xsd"
# words English cannot do without; none of them is Spanish or German ("Massage" is German)
ENGLISH = {
    "es": re.compile(r"\b(the|your|you|with|before|after|and|session|massage|race day|"
                     r"this|what|when|book)\b", re.I),
    "de": re.compile(r"\b(the|your|you|with|before|after|and|session|race day|this|what|"
                     r"when|book)\b", re.I),
}
URLS = re.compile(r"(https?|webcal)://\S+|\S+@\S+")


def roster_rows(*ids: str, names: tuple[str, ...] = ()) -> str:
    lines = EXAMPLE_ROSTER.read_text(encoding="utf-8").splitlines(keepends=True)
    rows = [ln for ln in lines[1:] if ln.split(",", 1)[0] in ids
            or any(f",{n}," in ln for n in names)]
    return lines[0] + "".join(rows)


def cli(args: list, cwd: Path) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, "-m", "generator", *map(str, args)], cwd=cwd,
                          env={**os.environ, **ENV}, capture_output=True, text=True)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = copy_example(tmp_path_factory.mktemp("langs"),
                        files={"data/athletes.csv": roster_rows(ES, DE, US, ZOE,
                                                                names=("Émile Durand",))})
    return root


@pytest.fixture(scope="module")
def built(project) -> subprocess.CompletedProcess:
    done = cli(["build", "--out", "out"], project)
    assert done.returncode == 0, done.stderr
    return done


def guide(project: Path, runner: str, ext: str) -> Path:
    brand = "summit" if runner.startswith("sm-") else "harbour"
    return project / "out" / "guides" / brand / f"{runner}.{ext}"


def text_of_html(path: Path) -> str:
    page = path.read_text(encoding="utf-8")
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return normalise(html.unescape(re.sub(r"<[^>]+>", " ", page)).replace("\u00a0", " "))


def pdf_text(path: Path) -> str:
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True,
                         capture_output=True)
    return normalise(out.stdout.decode().replace("\u00a0", " "))


def english_fragments(lang: str) -> list[str]:
    """The English template strings that ``lang`` translates, cut at their placeholders
    and markup: long enough pieces (two words or more) that only English text contains."""
    from babel.messages.pofile import read_po

    with open(REPO_ROOT / "locales" / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        catalog = read_po(f)
    pieces = []
    for m in catalog:
        if not m.id or not m.string:
            continue
        ids = m.id if isinstance(m.id, tuple | list) else (m.id,)
        strings = m.string if isinstance(m.string, tuple | list) else (m.string,)
        for msgid in ids:
            for piece in re.split(r"%\(\w+\)[sd]|%\w|<[^>]+>|\{\{.*?\}\}", msgid):
                piece = piece.strip(" .,:;()!?-–·")
                if len(piece) >= 12 and " " in piece and not any(piece in s for s in strings):
                    pieces.append(piece)
    return pieces


def english_module_sentences() -> list[str]:
    """A sentence of every paragraph of the English modules (their guide text)."""
    modules, problems = load_modules(REPO_ROOT / "content", REPO_ROOT)
    assert not problems
    sentences = []
    for m in modules:
        text = html.unescape(re.sub(r"<[^>]+>", " ", m.html))
        for para in re.split(r"\n\s*\n|(?<=[.!?])\s", text):
            para = normalise(para)
            if len(para) > 30 and "{" not in para and "runner" not in para:
                sentences.append(para[:60])
    return sentences


def assert_no_english(text: str, lang: str, where: str) -> None:
    text = URLS.sub(" ", text)  # addresses are the clinic's, whatever the language
    left = [f for f in english_fragments(lang) if f in text]
    assert not left, f"{where}: English template text left: {left[:5]}"
    left = [s for s in english_module_sentences() if s in text]
    assert not left, f"{where}: English module text left: {left[:3]}"
    words = sorted({w.lower() for w in ENGLISH[lang].findall(text)})
    assert not words, f"{where}: English words {words} in: {text[:300]}"


# ---------------------------------------------------------------- guides, PDF, ICS, email

@pytest.mark.parametrize("runner, lang, date, title", [
    (ES, "es", "domingo, 5 de diciembre de 2027", "El masaje previo a la carrera"),
    (DE, "de", "Sonntag, 26. September 2027", "Die Massage vor dem Rennen"),
])
def test_a_spanish_and_a_german_guide_are_wholly_in_their_language(
        project, built, runner, lang, date, title):
    page = guide(project, runner, "html").read_text(encoding="utf-8")
    assert f'<html lang="{lang}"' in page
    for where, text in (("HTML", text_of_html(guide(project, runner, "html"))),
                        ("PDF", pdf_text(guide(project, runner, "pdf")))):
        assert date in text, where
        assert title.lower() in text.lower(), where
        # the runner's own words (name, race, clinic's notes) are theirs: not checked
        assert_no_english(text, lang, f"{runner} {where}")


@pytest.mark.parametrize("runner, lang, race, summary", [
    (ES, "es", "Maratón de Valencia", "Día de la carrera"),
    (DE, "de", "Berlin-Marathon", "Renntag"),
])
def test_calendar_texts_are_in_the_runners_language(project, built, runner, lang, race,
                                                    summary):
    cal = icalendar.Calendar.from_ical(guide(project, runner, "ics").read_bytes())
    events = list(cal.walk("VEVENT"))
    assert any(str(e["SUMMARY"]).startswith(summary) and race in str(e["SUMMARY"])
               for e in events)
    texts = " ".join(str(e.get(k, "")) for e in events for k in ("SUMMARY", "DESCRIPTION"))
    texts += " ".join(str(a["DESCRIPTION"]) for a in cal.walk("VALARM"))
    assert_no_english(normalise(texts.replace(race, "")), lang, f"{runner} ICS")


def test_emails_are_in_the_runners_language(project, built, tmp_path):
    done = cli(["email", "data/athletes.csv", "--outbox", tmp_path, "--out", "out"], project)
    assert done.returncode == 0, done.stderr
    found = {}
    for path in tmp_path.glob("*.eml"):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        body = msg.get_body(("plain",)).get_content()
        rich = msg.get_body(("html",)).get_content()
        found[msg["To"].addresses[0].username] = (str(msg["Subject"]), body, rich)
    subject, body, rich = found["lucia.martin"]
    assert 'lang="es"' in rich
    for where, text in (("subject", subject), ("text", body),
                        ("html", normalise(html.unescape(re.sub(r"<[^>]+>", " ", rich))))):
        assert_no_english(text, "es", f"email {where}")
    subject, body, rich = found["jonas.weissmueller"]
    assert 'lang="de"' in rich and "26. September 2027" in body
    assert_no_english(body, "de", "email text (de)")


def test_an_en_us_marathon_is_26_2_miles_with_a_us_clock(project, built):
    text = text_of_html(guide(project, US, "html"))
    assert "26.2 mi" in text and "42.2 km" not in text
    assert "8:00 AM" in text  # the clinic's 08:00, on an American clock
    assert "Sunday, May 23, 2027" in text
    zoe = text_of_html(guide(project, ZOE, "html"))
    assert "42.2 km" in zoe and "Sunday, 18 April 2027" in zoe  # the project's en-GB


def test_a_french_runner_reads_english_with_a_located_note(project, built):
    line = next(i for i, ln in enumerate(
        (project / "data/athletes.csv").read_text(encoding="utf-8").splitlines(), 1)
        if "Émile Durand" in ln)
    assert (f"data/athletes.csv:{line}: locale: no 'fr' translation; English is used"
            in built.stderr)
    page = guide(project, FR, "html").read_text(encoding="utf-8")
    assert '<html lang="en-GB"' in page and "Your dated sessions" in page


def test_a_tag_that_is_no_locale_is_an_error_at_its_row(project, tmp_path):
    roster = tmp_path / "roster.csv"
    rows = roster_rows(ZOE, ES).splitlines(keepends=True)
    rows[2] = rows[2].replace(",harbour,es,", ",harbour,xx-QQ,")
    roster.write_text("".join(rows), encoding="utf-8")
    done = cli(["check", roster], project)
    assert done.returncode == 1
    assert re.search(rf"{re.escape(str(roster))}:3: locale: 'xx-QQ' is not a known language tag",
                     done.stderr), done.stderr


def test_units_column_overrides_the_locale(project):
    inputs = load_inputs(load_project(project), project / "data/athletes.csv", context())
    hanako = next(a for a in inputs.athletes if a.id == US)
    from generator.publish.guides import GuideMaker

    for units, shown in (("km", "42.2 km"), ("mi", "26.2 mi"), (None, "26.2 mi")):
        plan = plan_guide(inputs, hanako.model_copy(update={"units": units}))
        page = GuideMaker(inputs).make(plan, ("html",)).files["html"].decode()
        assert shown in html.unescape(page).replace("\u00a0", " "), units


# ---------------------------------------------------------------- plans, modules, catalogs

def test_the_plan_is_the_same_in_every_language():
    inputs = load_inputs(load_project(REPO_ROOT), EXAMPLE_ROSTER, context())
    for athlete in inputs.athletes:
        plans = [plan_guide(inputs, athlete.model_copy(update={"locale": tag}))
                 for tag in ("en", "es", "de", "es-MX", "fr")]
        first = plans[0].timeline.to_dict()
        assert all(p.timeline.to_dict() == first for p in plans), athlete.id
        assert [m.slug for m in plans[1].modules] == [m.slug for m in plans[0].modules]
        es = {m.slug: m for m in plans[1].modules}
        assert all(es[m.slug].title != m.title for m in plans[0].modules), athlete.id


def test_every_module_and_string_is_translated_into_spanish_and_german():
    status = cli(["i18n", "status", "--json"], REPO_ROOT)
    assert status.returncode == 0, status.stdout + status.stderr
    assert cli(["i18n", "compile"], REPO_ROOT).returncode == 0


def test_the_catalog_template_holds_every_string_the_code_marks(tmp_path):
    """locales/messages.pot is what `guidegen i18n extract` makes now: no string added to
    a template or the code since is missing from the catalogs."""
    from babel.messages.pofile import read_po

    copy = copy_example(tmp_path / "p", ("guidegen.toml", "templates", "locales", "babel.cfg",
                                         "generator"))
    done = cli(["i18n", "extract"], copy)
    assert done.returncode == 0, done.stderr
    with open(copy / "locales" / "messages.pot", "rb") as fresh, \
            open(REPO_ROOT / "locales" / "messages.pot", "rb") as shipped:
        assert {m.id for m in read_po(fresh)} == {m.id for m in read_po(shipped)}


def test_extract_then_update_changes_no_catalog_and_init_names_guidegen(tmp_path):
    """The translators' round trip: `i18n extract` then `i18n update` with no new string
    leaves every catalog byte for byte as it was (no header rewritten, no date moved), and
    a catalog `i18n init` starts says whose strings it holds, not "PROJECT VERSION"."""
    from generator import __version__

    copy = copy_example(tmp_path / "p", ("guidegen.toml", "templates", "locales", "babel.cfg",
                                         "generator"))
    shipped = {p.relative_to(copy): p.read_bytes() for p in copy.glob("locales/*/*/*.po")}
    assert len(shipped) == 2
    assert cli(["i18n", "extract"], copy).returncode == 0
    done = cli(["i18n", "update"], copy)
    assert done.returncode == 0, done.stderr
    assert {p: (copy / p).read_bytes() for p in shipped} == shipped
    assert cli(["i18n", "init", "fr"], copy).returncode == 0
    fr = copy / "locales" / "fr" / "LC_MESSAGES" / "messages.po"
    started = fr.read_text(encoding="utf-8")
    assert f'"Project-Id-Version: guidegen {__version__}\\n"' in started
    assert "# French translations for guidegen." in started
    assert "PROJECT" not in started and "VERSION" not in started
    assert cli(["i18n", "update"], copy).returncode == 0
    assert fr.read_text(encoding="utf-8") == started


@pytest.mark.parametrize("name, text, message", [
    ("x.es.md", "---\ntitle: X\n---\nHola\n", "no base module x.md"),
    ("why-massage-helps.es.md", "---\ntitle: X\norder: 3\n---\nHola\n",
     "order: set in the base file"),
    ("why-massage-helps.es-MX.md", "---\ntitle: X\n---\nHola\n", "not per region"),
    ("why-massage-helps.xx-QQ.md", "---\ntitle: X\n---\nHola\n", "not a language tag"),
])
def test_a_translation_only_sets_words(tmp_path, name, text, message):
    content = tmp_path / "content"
    content.mkdir()
    (content / "why-massage-helps.md").write_text(
        (REPO_ROOT / "content" / "why-massage-helps.md").read_text(encoding="utf-8"))
    (content / name).write_text(text, encoding="utf-8")
    modules, problems = load_modules(content, tmp_path)
    assert len(modules) == 1 and not modules[0].translations
    assert any(message in str(p) and p.path == f"content/{name}" for p in problems), problems
    if "order" in text:
        assert any(p.line == 3 for p in problems)


def test_editing_one_catalog_entry_rebuilds_only_that_languages_guides(project, tmp_path):
    root = copy_example(tmp_path / "p", files={
        "data/athletes.csv": roster_rows(ES, DE, ZOE)})
    first = cli(["batch", "data/athletes.csv", "--out", "out", "--formats", "html,ics"], root)
    assert "3 built" in first.stderr, first.stderr
    po = root / "locales" / "es" / "LC_MESSAGES" / "messages.po"
    text = po.read_text(encoding="utf-8")
    match = re.search(r'msgid "Your dated sessions"\nmsgstr "([^"]+)"', text)
    assert match, "the catalog has no 'Your dated sessions'"
    po.write_text(text.replace(match.group(0), match.group(0)[:-1] + ' (editado)"'),
                  encoding="utf-8")
    before = {p: p.read_bytes() for p in (root / "out").rglob("*.html")}
    again = cli(["batch", "data/athletes.csv", "--out", "out", "--formats", "html,ics"], root)
    assert "1 built, 2 unchanged" in again.stderr, again.stderr
    changed = {p.name for p, data in before.items() if p.read_bytes() != data}
    assert changed == {f"{ES}.html"}
    assert "(editado)" in (root / "out/guides/harbour" / f"{ES}.html").read_text()


# ---------------------------------------------------------------- the site

def test_the_site_has_spanish_and_german_pages_with_hreflang_alternates(project, built):
    site = project / "out" / "site"
    for lang in ("es", "de"):
        page = (site / lang / "pre-race-massage" / "index.html").read_text(encoding="utf-8")
        assert f'<html lang="{lang}"' in page
        for alt in ("en", "es", "de", "x-default"):
            assert f'hreflang="{alt}"' in page, (lang, alt)
        assert (site / lang / "feed.xml").is_file()
        doc = etree.parse(str(site / lang / "feed.xml"))
        assert doc.getroot().get("{http://www.w3.org/XML/1998/namespace}lang") == lang
    home = (site / "index.html").read_text(encoding="utf-8")
    assert 'hreflang="es"' in home and "/es/" in home  # the switcher and the alternates
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    sitemap = etree.parse(str(site / "sitemap.xml"))
    assert schema.validate(sitemap), schema.error_log
    links = sitemap.findall(".//{http://www.w3.org/1999/xhtml}link")
    assert {ln.get("hreflang") for ln in links} == {"en", "es", "de", "x-default"}
    locs = [e.text for e in sitemap.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert any(u.endswith("/es/pre-race-massage/") for u in locs)
    assert any(u.endswith("/de/pre-race-massage/") for u in locs)


def test_spanish_and_german_plan_pages_pass_axe_at_every_impact(project, built, browser):
    """The private plan pages of the Spanish and German runners, at desktop and phone
    widths: axe-core at every impact level (language of parts, contrast, landmarks...)."""
    from browser_util import axe_source, static_server

    from generator.publish.plans import plan_token
    from tests.test_a11y_browser import axe

    tokens = {r: plan_token(SECRET.encode(), r) for r in (ES, DE)}
    with static_server(project / "out" / "site") as base:
        for runner in (ES, DE):
            for width in (1280, 375):
                context_ = browser.new_context(viewport={"width": width, "height": 900})
                page = context_.new_page()
                page.goto(f"{base}plans/{tokens[runner]}/")
                assert page.evaluate("document.documentElement.lang") in ("es", "de")
                violations = axe(page, axe_source())
                context_.close()
                assert violations == [], (runner, width, violations)


# ---------------------------------------------------------------- right to left

RTL_PO = """\
msgid ""
msgstr ""
"Language: ar\\n"
"Content-Type: text/plain; charset=utf-8\\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\\n"

msgid "Your dated sessions"
msgstr "جلساتك المؤرخة"
"""


def test_a_right_to_left_language_gets_dir_rtl(tmp_path):
    rows = roster_rows(ZOE).splitlines(keepends=True)
    rows[1] = rows[1].replace(",harbour,en,", ",harbour,ar,")
    root = copy_example(tmp_path / "p", files={
        "data/athletes.csv": "".join(rows),
        "locales/ar/LC_MESSAGES/messages.po": RTL_PO})
    done = cli(["batch", "data/athletes.csv", "--out", "out", "--formats", "html"], root)
    assert done.returncode == 0, done.stderr
    page = (root / "out/guides/harbour" / f"{ZOE}.html").read_text(encoding="utf-8")
    assert '<html lang="ar" dir="rtl"' in page
    assert "جلساتك المؤرخة" in page
    assert "[dir=rtl]" in page.replace('"', "") or "[dir=\"rtl\"]" in page


@pytest.mark.parametrize("lang", ["es", "de"])
def test_template_gettext_gives_jinja2s_own_text_and_keeps_it(lang):
    """guidegen's template gettext (render/words.newstyle, kept per text) writes what
    jinja2's newstyle gettext writes: translated, escaped or not as the template
    autoescapes, ``%%`` unescaped, variables formatted (and escaped), pgettext by context,
    {% trans %} blocks; asked again, the same."""
    import jinja2

    from generator.render.renderer import Renderer
    from generator.render.words import Words

    project = load_project(REPO_ROOT)
    words = Words.of(project, project.languages.language(lang))
    ours = Renderer(project.templates_dir, project).env(None, words)
    stock = jinja2.Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    stock.policies["ext.i18n.trimmed"] = True
    stock.install_gettext_translations(words.t, newstyle=True)
    assert ours.globals["_"] is not stock.globals["_"]
    source = (
        '{{ _("Home") }}|{{ _("Home") }}|{{ _("100%% <sure>") }}|{{ gettext("Guides") }}|'
        '{{ _("Race day: %(race)s", race=who) }}|{{ pgettext("guide", "Previous") }}|'
        '{{ pgettext("guide", "Next") }}|{% trans %}Every body is different.{% endtrans %}|'
        '{% trans name=who %}Hello {{ name }}{% endtrans %}|'
        '{{ ngettext("%(num)d day", "%(num)d days", 3) }}')
    text = f"{source}#{{% autoescape false %}}{source}{{% endautoescape %}}"
    assert "Inicio" in stock.from_string(text).render(who="<b>") or lang != "es"
    for who in ("<b>Valencia</b>", "Berlin", "<b>Valencia</b>"):
        expected = stock.from_string(text).render(who=who)
        assert ours.from_string(text).render(who=who) == expected
    assert "&lt;b&gt;Valencia" in expected and "#" in expected
    assert expected.split("#")[1].count("<b>Valencia</b>") == 2  # not escaped there
