"""The public site and the private plan pages, as written by ``guidegen build`` / ``site``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT, copy_example, tree
from lxml import etree, html
from sitekit import ATHLETES, BASE_URL, BUILD_ENV, EPOCH, run_build

from generator.load.brands import contrast
from generator.load.content import load_modules
from generator.render.site import days_text, palette

pytest_plugins = ["site_fixtures"]

# sitemaps.org's schema plus the xhtml:link alternates of the other languages' pages
SITEMAP_XSD = Path(__file__).parent / "data" / "sitemap-hreflang.xsd"
ATOM = "{http://www.w3.org/2005/Atom}"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def site_slugs() -> list[str]:
    modules, _ = load_modules(REPO_ROOT / "content", REPO_ROOT)
    return [m.slug for m in modules if m.on_site]


def page_url(site: Path, page: Path) -> str:
    rel = page.relative_to(site).as_posix()
    return BASE_URL + rel.removesuffix("index.html")


# ---- page set ------------------------------------------------------------------------

def test_site_has_landing_module_about_404_and_feeds(example_build):
    site = example_build.site
    for rel in ("index.html", "about/index.html", "404.html", "sitemap.xml", "robots.txt",
                "feed.xml", "favicon.ico", "assets/site.css", "assets/logo.svg"):
        assert (site / rel).is_file(), rel
    for slug in site_slugs():
        assert (site / slug / "index.html").is_file(), slug
    landing = (site / "index.html").read_text("utf-8")
    for slug in site_slugs():
        assert f'href="{slug}/"' in landing


def test_draft_and_guide_only_modules_are_not_published(example_build):
    modules, _ = load_modules(REPO_ROOT / "content", REPO_ROOT)
    hidden = [m.slug for m in modules if not m.on_site]
    assert hidden, "the example content should have a draft or guide-only module"
    for slug in hidden:
        assert not (example_build.site / slug).exists()
        for page in example_build.public_files():
            assert f"/{slug}/" not in page.read_text("utf-8", errors="replace")


def test_every_page_has_lang_landmarks_skip_link_one_h1_and_the_disclaimer(example_build):
    from generator.load.project import load_project
    from generator.render.renderer import DISCLAIMER, Renderer

    project = load_project(example_build.root)
    renderer = Renderer(project.templates_dir, project)
    for page in example_build.html_pages():
        doc = html.parse(str(page)).getroot()
        first = page.relative_to(example_build.site).parts[0]
        lang = first if first in ("es", "de") else "en-GB"  # guidegen.toml's language
        assert doc.get("lang") == lang, page
        words = renderer.words(project.languages.for_tag(lang))
        for landmark in ("header", "main", "footer", "nav"):
            assert doc.findall(f".//{landmark}"), (page, landmark)
        assert doc.xpath("//a[@class='skip-link']/@href") == ["#main"]
        assert doc.xpath("//main/@id") == ["main"]
        assert len(doc.findall(".//h1")) == 1, page
        assert words.gettext(DISCLAIMER) in " ".join(doc.text_content().split()), page
        assert doc.xpath("//img[not(@alt)]") == [], page
        assert not doc.xpath("//script[not(@type='application/ld+json')]"), "no JS needed"


# ---- SEO: sitemap, canonical, meta, JSON-LD, robots, feed -------------------------------

def test_sitemap_validates_against_the_sitemaps_org_schema(example_build):
    schema = etree.XMLSchema(etree.parse(str(SITEMAP_XSD)))
    doc = etree.parse(str(example_build.site / "sitemap.xml"))
    assert schema.validate(doc), schema.error_log


def test_sitemap_lists_every_public_page_with_absolute_urls(example_build):
    site = example_build.site
    doc = etree.parse(str(site / "sitemap.xml"))
    locs = [e.text for e in doc.iter(f"{SM}loc")]
    expected = {page_url(site, p) for p in example_build.html_pages() if p.name != "404.html"}
    assert set(locs) == expected
    assert all(loc.startswith(BASE_URL) for loc in locs)
    assert {e.text for e in doc.iter(f"{SM}lastmod")} == {"2026-09-21"}


def test_pages_have_absolute_canonical_description_and_open_graph(example_build):
    from generator.load.project import load_project
    from generator.render.modulevalues import neutral_words
    from generator.render.renderer import Renderer

    project = load_project(example_build.root)
    renderer = Renderer(project.templates_dir, project)
    site = example_build.site
    modules = {m.slug: m for m in load_modules(REPO_ROOT / "content", REPO_ROOT)[0]}
    for page in example_build.html_pages():
        if page.name == "404.html":
            continue
        doc = html.parse(str(page)).getroot()
        url = page_url(site, page)
        assert doc.xpath("//link[@rel='canonical']/@href") == [url]
        assert doc.xpath("//meta[@property='og:url']/@content") == [url]
        assert doc.xpath("//meta[@property='og:title']/@content")
        description = doc.xpath("//meta[@name='description']/@content")
        assert description and description[0].strip()
        slug = page.parent.name
        first = page.relative_to(site).parts[0]
        lang = first if first in ("es", "de") else None
        if slug in modules:
            # /es/..., /de/...: the translation, with the site's words in that language
            words = renderer.words(project.languages.for_tag(lang))
            module = modules[slug].in_language(lang or "en").with_values(
                neutral_words(words, "Harbour Sports Therapy"))
            assert description == [module.summary]
            assert doc.xpath("//meta[@property='og:type']/@content") == ["article"]


def test_json_ld_is_valid_json_with_article_and_organization(example_build):
    site = example_build.site
    for page in example_build.html_pages():
        if page.name == "404.html":
            continue
        doc = html.parse(str(page)).getroot()
        [script] = doc.xpath("//script[@type='application/ld+json']/text()")
        data = json.loads(script)
        assert data["@context"] == "https://schema.org"
        assert data["url"] == page_url(site, page)
        org = data.get("publisher") or data.get("mainEntity")
        assert org["@type"] == "Organization" and org["name"] == "Harbour Sports Therapy"
    article = json.loads(html.parse(str(site / "how-often/index.html")).getroot()
                         .xpath("//script[@type='application/ld+json']/text()")[0])
    assert article["@type"] == "Article"
    assert article["dateModified"] == "2026-09-21"


def test_robots_allows_all_but_plans_and_points_at_the_sitemap(example_build):
    robots = (example_build.site / "robots.txt").read_text("utf-8").splitlines()
    assert "User-agent: *" in robots
    assert "Disallow: /plans/" in robots
    assert f"Sitemap: {BASE_URL}sitemap.xml" in robots


def test_atom_feed_parses_and_dates_come_from_source_date_epoch(example_build):
    feed = etree.parse(str(example_build.site / "feed.xml")).getroot()
    assert feed.tag == f"{ATOM}feed"
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}id") for e in entries] == [BASE_URL + s + "/" for s in site_slugs()]
    dates = {e.findtext(f"{ATOM}updated") for e in [feed, *entries]}
    assert dates == {"2026-09-21T14:13:20Z"}
    for entry in entries:
        assert entry.findtext(f"{ATOM}title") and entry.findtext(f"{ATOM}summary")


def test_feed_date_without_source_date_epoch_is_fixed_not_the_clock(scratch_project, run_cli):
    root = scratch_project(copy=("templates",))
    outs = []
    for n in range(2):
        result = run_cli(["site", "--out", root / f"out{n}"], cwd=root)
        assert result.exit_code == 0, result.stderr
        outs.append((root / f"out{n}" / "site" / "feed.xml").read_bytes())
    assert outs[0] == outs[1]
    assert b"<updated>2000-01-01T00:00:00Z</updated>" in outs[0]


# ---- plan pages stay private ------------------------------------------------------------

def test_plan_pages_exist_for_every_runner_with_noindex(example_build):
    plans = example_build.site / "plans"
    assert sorted(p.name for p in plans.iterdir()) == sorted(
        ["index.html", *example_build.tokens.values()])
    for token in example_build.tokens.values():
        folder = plans / token
        for name in ("index.html", "guide.pdf", "plan.ics"):
            assert (folder / name).is_file(), (token, name)
        doc = html.parse(str(folder / "index.html")).getroot()
        robots = doc.xpath("//meta[@name='robots']/@content")
        assert robots and "noindex" in robots[0] and "nofollow" in robots[0]
        assert len(token) >= 26  # at least 128 bits in base32


def test_the_plans_folder_has_an_empty_unindexed_page_so_it_cannot_be_listed(example_build):
    """A web server that lists folders shows plans/index.html instead of the folders."""
    page = example_build.site / "plans" / "index.html"
    text = page.read_text("utf-8")
    doc = html.fromstring(text)
    assert "noindex" in doc.xpath("//meta[@name='robots']/@content")[0]
    assert doc.xpath("//body")[0].text_content().strip() == ""
    assert doc.xpath("//a | //link | //script | //img") == []
    assert not any(token in text for token in example_build.tokens.values())


def test_no_public_file_mentions_a_plan_page(example_build):
    tokens = list(example_build.tokens.values())
    for path in example_build.public_files():
        text = path.read_bytes().decode("utf-8", errors="replace")
        for token in tokens:
            assert token not in text, path
        if path.name != "robots.txt":
            assert "/plans/" not in text and "plans/" not in text, path


# ---- determinism, exit codes, imports ---------------------------------------------------

def test_two_builds_are_byte_identical(example_build):
    second = run_build(example_build.root, example_build.root / "output-again", "--force")
    first = tree(example_build.out, skip=("manifest.json",))
    again = tree(second.out, skip=("manifest.json",))
    assert sorted(first) == sorted(again)
    differing = [name for name in first if first[name] != again[name]]
    assert differing == []


def test_missing_plan_secret_is_one_line_and_exit_2(tmp_path, run_cli):
    root = copy_example(tmp_path / "project", athletes=ATHLETES)
    env = {"GUIDEGEN_PLAN_SECRET": "", "SOURCE_DATE_EPOCH": EPOCH}
    result = run_cli(["build", "--out", root / "output"], cwd=root, env=env)
    assert result.exit_code == 2
    assert len(result.stderr_lines) == 1, result.stderr
    assert "GUIDEGEN_PLAN_SECRET" in result.stderr and "Traceback" not in result.stderr
    assert not (root / "output").exists(), "nothing is built without the secret"


def test_site_command_does_not_import_weasyprint(tmp_path):
    root = copy_example(tmp_path / "project", athletes=ATHLETES)
    code = ("import sys\nfrom generator.cli import cli\n"
            "try:\n    cli(['site', '--out', 'output'], prog_name='guidegen')\n"
            "except SystemExit as exc:\n    code = exc.code\n"
            "print('exit', code, 'weasyprint' in sys.modules)\n")
    env = {**os.environ, **BUILD_ENV}
    done = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.stdout.split() == ["exit", "0", "False"], done.stdout + done.stderr
    assert (root / "output" / "site" / "index.html").is_file()


def test_site_output_has_no_live_reload_script(example_build):
    for path in example_build.public_files():
        assert b"__livereload" not in path.read_bytes(), path


def test_site_removes_pages_of_deleted_modules_but_keeps_plans(scratch_project, run_cli):
    root = scratch_project(copy=("templates",))
    out = root / "output"
    (out / "site" / "plans" / "tok").mkdir(parents=True)
    (out / "site" / "plans" / "tok" / "index.html").write_text("private")
    assert run_cli(["site", "--out", out], cwd=root).exit_code == 0
    assert (out / "site" / "race-days" / "index.html").is_file()
    (root / "content" / "race-days.md").unlink()
    assert run_cli(["site", "--out", out], cwd=root).exit_code == 0
    assert not (out / "site" / "race-days").exists()
    assert (out / "site" / "plans" / "tok" / "index.html").read_text() == "private"


def test_plan_pages_of_runners_no_longer_in_the_roster_are_removed(tmp_path):
    from generator.publish.layout import OutputLayout

    plans = tmp_path / "site" / "plans"
    for token in ("keep", "gone"):
        (plans / token).mkdir(parents=True)
        (plans / token / "index.html").write_text("private")
    (plans / "index.html").write_text("the site's page that hides the folder listing")
    assert OutputLayout(tmp_path).prune(plan_tokens=["keep"]) == 1
    assert sorted(p.name for p in plans.iterdir()) == ["index.html", "keep"]
    OutputLayout(tmp_path).prune(plan_tokens=())  # plans disabled: nothing private stays
    assert [p.name for p in plans.iterdir()] == ["index.html"]


def test_bad_roster_row_exits_1_and_builds_the_rest(scratch_project, run_cli):
    roster = ("id,name,race_name,race_date\nok-01,Ok Runner,Scratch Marathon,2027-04-18\n"
              "bad-02,Bad Runner,Scratch Marathon,2027-13-45\n")
    root = scratch_project({"data/athletes.csv": roster}, copy=("templates",))
    result = run_cli(["build", "--out", root / "output"], cwd=root, env=BUILD_ENV)
    assert result.exit_code == 1
    assert any(line.startswith("data/athletes.csv:3: race_date") for line in result.stderr_lines)
    assert (root / "output" / "site" / "index.html").is_file()
    assert (root / "output" / "guides" / "clinic" / "ok-01.pdf").is_file()


def test_strict_turns_a_site_warning_into_exit_1(scratch_project, run_cli):
    guide_only = ("---\ntitle: Only in guides\naudience: [guide]\n---\n\nText.\n")
    root = scratch_project({"content/training.md": guide_only, "content/race-days.md": None},
                           copy=("templates",))
    assert run_cli(["site", "--out", root / "o"], cwd=root).exit_code == 0
    result = run_cli(["site", "--out", root / "o", "--strict"], cwd=root)
    assert result.exit_code == 1
    assert "no module is published on the site" in result.stderr


def test_reserved_slug_is_a_located_error(scratch_project, run_cli):
    about = "---\ntitle: About us\nslug: about\n---\n\nHello.\n"
    root = scratch_project({"content/about.md": about}, copy=("templates",))
    result = run_cli(["site", "--out", root / "o"], cwd=root)
    assert result.exit_code == 1
    assert "content/about.md: slug: slug 'about' is reserved" in result.stderr
    assert "About Scratch Clinic" in (root / "o" / "site" / "about" / "index.html").read_text()


def test_missing_site_brand_exits_2(scratch_project, run_cli):
    toml = ('[project]\ntitle = "T"\nbase_url = "https://x.example/"\n'
            'default_brand = "clinic"\nsite_brand = "nope"\n')
    root = scratch_project({"guidegen.toml": toml}, copy=("templates",))
    result = run_cli(["site", "--out", root / "o"], cwd=root)
    assert result.exit_code == 2
    assert "guidegen.toml: site_brand: the site brand 'nope' did not load" in result.stderr


def test_titles_are_escaped_in_html_and_json_ld(scratch_project, run_cli):
    nasty = ('---\ntitle: "Fish & <b>chips</b></script>"\nsummary: "a <i>b</i>"\n---\n\n'
             "Body.\n")
    root = scratch_project({"content/nasty.md": nasty}, copy=("templates",))
    assert run_cli(["site", "--out", root / "o"], cwd=root).exit_code == 0
    page = (root / "o" / "site" / "nasty" / "index.html").read_text("utf-8")
    assert "<b>chips" not in page and "</script>\"" not in page
    assert "Fish &amp; &lt;b&gt;chips&lt;/b&gt;" in page
    assert "Fish \\u0026 \\u003cb\\u003echips" in page


# ---- helpers ----------------------------------------------------------------------------

def test_days_text_names_runs_and_lists():
    from generator.load.project import load_project
    from generator.render.renderer import Renderer

    project = load_project(REPO_ROOT)
    renderer = Renderer(project.templates_dir, project)
    en, es, de = (renderer.words(project.languages.for_tag(t)) for t in ("en", "es", "de"))
    assert days_text(["mon", "tue", "wed", "thu", "fri", "sat"], en) == "Monday to Saturday"
    assert days_text(["tue", "thu"], en) == "Tuesday and Thursday"
    assert days_text(["sat", "mon", "wed"], en) == "Monday, Wednesday and Saturday"
    assert days_text(["sun"], en) == "Sunday"
    assert days_text(["tue", "thu"], es) == "martes y jueves"
    assert days_text(["sat", "mon", "wed"], de) == "Montag, Mittwoch und Samstag"


@pytest.mark.parametrize("brand_dir", ["harbour", "summit"])
def test_brand_palette_keeps_text_on_primary_readable(brand_dir):
    from generator.load.brands import load_brand

    brand, problems = load_brand(REPO_ROOT / "brands" / brand_dir)
    assert not problems
    colours = palette(brand)
    assert contrast(colours["on_primary"], brand.colors.primary) >= 4.5
    assert contrast(brand.colors.muted, colours["tint"]) >= 4.5


def test_build_without_plan_pages_needs_no_secret(scratch_project, run_cli):
    toml = ('[project]\ntitle = "T"\nbase_url = "https://x.example/"\n'
            'default_brand = "clinic"\nroster = "data/athletes.csv"\n\n[plans]\nenabled = false\n')
    roster = "id,name,race_name,race_date\nok-01,Ok Runner,Scratch Marathon,2027-04-18\n"
    root = scratch_project({"guidegen.toml": toml, "data/athletes.csv": roster},
                           copy=("templates",))
    result = run_cli(["build", "--out", root / "o"], cwd=root, env={"GUIDEGEN_PLAN_SECRET": ""})
    assert result.exit_code == 0, result.stderr
    assert (root / "o" / "guides" / "clinic" / "ok-01.html").is_file()
    # no plan page: only the site's empty page that keeps the folder from being listed
    assert [p.name for p in (root / "o" / "site" / "plans").iterdir()] == ["index.html"]


def test_broken_site_template_is_a_located_error_and_exit_2(scratch_project, run_cli):
    root = scratch_project(copy=("templates",))
    template = root / "templates" / "site" / "about.html.j2"
    template.write_text(template.read_text() + "{% if %}\n")
    result = run_cli(["site", "--out", root / "o"], cwd=root)
    assert result.exit_code == 2
    assert result.stderr_lines[0].startswith("templates/site/about.html.j2:")
    assert "template syntax error" in result.stderr_lines[0]
