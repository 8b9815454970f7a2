"""Text is text everywhere: brand and runner text with ``&``, ``'``, ``"``, ``<``, ``\\``
and ``</style>`` reads literally in the PDF's running header and metadata, the HTML guide
and plan page, the ICS, the email's headers and bodies, and the site's pages and feeds.

The known bug this guards: ``css_string`` output was HTML-escaped again inside
``<style>`` (raw text), so ``Müller & Søn`` printed ``Müller &amp; Søn`` in the PDF
running header.
"""

from __future__ import annotations

import dataclasses
import email
import email.policy
import email.utils
import io
import json
import re
import xml.etree.ElementTree as ET
from email.header import decode_header, make_header

import icalendar
import pytest
import tinycss2
import tinyhtml5
from hypothesis import given
from hypothesis import strategies as st
from lxml import html
from markupsafe import Markup
from pypdf import PdfReader

from generator.deliver.message import compose
from generator.load.brands import BrandConfig
from generator.plan.guideplan import plan_guide
from generator.publish.guides import GuideMaker
from generator.render.renderer import Renderer, css_string
from generator.render.site import render_site
from tests.guidekit import HARBOUR_ID, load, page_texts

BRAND = "Harbour & O'Brien \"Sports\" <Therapy>"
# a backslash, text that looks like a CSS escape, and an attempt to end the style element
BRAND_VARIANT = "Back\\slash \\26 </style><b>bold</b> & Co"
RUNNER = "Zoë O'Brien & \"Z\" <Runner> \\ </style><b>x</b>"
RACE = "Race & \"Run\" <5k> \\ </style>"
ATOM = "{http://www.w3.org/2005/Atom}"


def with_names(brand_name: str, runner: str = RUNNER, race: str = RACE):
    """The example inputs with the harbour brand renamed (validated as brand.toml is) and
    one harbour runner renamed; returns (inputs, that runner's plan)."""
    inputs = load()
    harbour = inputs.brands["harbour"]
    config = BrandConfig.model_validate({**harbour.config.model_dump(), "name": brand_name})
    brands = {**inputs.brands, "harbour": dataclasses.replace(harbour, config=config)}
    athletes = [a.model_validate({**a.model_dump(), "name": runner, "race_name": race})
                if a.id == HARBOUR_ID else a for a in inputs.athletes]
    inputs = dataclasses.replace(inputs, brands=brands, athletes=athletes)
    return inputs, plan_guide(inputs, next(a for a in athletes if a.id == HARBOUR_ID))


def text_of(node) -> str:
    return " ".join(node.text_content().split())


def squash(text: str) -> str:
    """Without whitespace: a name the PDF wraps over two lines still matches."""
    return "".join(text.split())


def ics_text(value) -> str:
    """An RFC 5545 TEXT value as a calendar shows it (icalendar leaves X- properties
    escaped)."""
    return re.sub(r"\\([\\;,nN])",
                  lambda m: "\n" if m.group(1) in "nN" else m.group(1), str(value))


# ------------------------------------------------------------------ css_string itself

@given(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
               max_size=40))
def test_css_string_round_trips_and_cannot_leave_the_string_or_the_style(text):
    out = css_string(text)
    assert isinstance(out, Markup)  # autoescape leaves it alone: no &amp; in <style>
    assert not set(out) & set("<>&\"'\n\r\f")
    (token,) = tinycss2.parse_component_value_list(f'"{out}"')
    assert token.type == "string" and token.value == text


@pytest.mark.parametrize("name", [BRAND, BRAND_VARIANT, "Müller & Søn"])
def test_the_running_header_css_holds_the_brand_name_literally(name):
    """The PDF's <style> as WeasyPrint's HTML and CSS parsers read it: one string, the
    name, and the style element ends where the template ends it."""
    inputs, plan = with_names(name)
    page = Renderer(inputs.project.templates_dir, inputs.project, inputs.context).guide_html(
        plan, "pdf")
    doc = tinyhtml5.parse(page, namespace_html_elements=False)
    styles = doc.findall(".//style")
    assert len(styles) == 2 and doc.find(".//b") is None
    rules = tinycss2.parse_stylesheet(styles[1].text, skip_whitespace=True)
    page_rule = next(r for r in rules if r.type == "at-rule" and r.lower_at_keyword == "page")
    contents = [t for t in tinycss2.parse_blocks_contents(page_rule.content)
                if t.type == "at-rule" and t.lower_at_keyword == "top-left"]
    (top_left,) = contents
    strings = [t.value for t in top_left.content if t.type == "string"]
    assert strings == [name]


# ------------------------------------------------------------------ PDF

@pytest.fixture(scope="module", params=[(BRAND, True), (BRAND_VARIANT, True),
                                        (BRAND_VARIANT, False)],
                ids=["brand-fast", "variant-fast", "variant-plain"])
def pdf(request):
    name, fast = request.param
    inputs, plan = with_names(name)
    maker = GuideMaker(inputs)  # one maker per name: nothing laid out for another name
    maker.fast = fast
    result = maker.make(plan, ("pdf",))
    assert not [p for p in result.problems if p.severity == "error"], result.problems
    return name, PdfReader(io.BytesIO(result.files["pdf"]))


def test_pdf_running_header_reads_the_brand_name_literally(pdf):
    name, reader = pdf
    texts = page_texts(reader)
    assert len(texts) > 3
    for number, text in enumerate(texts[1:], 2):  # the cover has no running header
        assert name in text, (number, text[:200])
    joined = " ".join(texts)
    assert "&amp;" not in joined and "&#39;" not in joined and "&lt;" not in joined
    if name == BRAND:  # no CSS escape shows: the only backslashes are the runner's and race's
        assert squash(joined).count("\\") == squash(joined).count(squash(RUNNER)) + squash(
            joined).count(squash(RACE))


def test_pdf_cover_and_metadata_read_runner_and_brand_literally(pdf):
    name, reader = pdf
    cover = squash(page_texts(reader)[0])
    assert squash(RUNNER) in cover and squash(RACE) in cover and squash(name) in cover
    meta = reader.metadata
    assert meta.author == name
    assert RUNNER in meta.title and name in meta.title


# ------------------------------------------------------------------ HTML guide, plan page, ICS

@pytest.fixture(scope="module")
def guide():
    inputs, plan = with_names(BRAND_VARIANT)
    maker = GuideMaker(inputs)
    result = maker.make(plan, ("html", "ics"))
    return plan, result.files, maker.renderer.guide_html(plan, "plan")


@pytest.mark.parametrize("kind", ["html", "plan"])
def test_html_guide_and_plan_page_show_the_names_as_text(guide, kind):
    _plan, files, plan_page = guide
    page = files["html"].decode() if kind == "html" else plan_page
    doc = html.document_fromstring(page)
    assert doc.xpath("//b") == [] and len(doc.xpath("//style")) == 2
    assert text_of(doc.find_class("cover__clinic")[0]) == BRAND_VARIANT
    assert text_of(doc.find_class("cover__name")[0]) == RUNNER
    assert text_of(doc.find_class("cover__fact")[0]) == RACE  # the first cover fact
    assert doc.xpath("//meta[@name='author']/@content") == [BRAND_VARIANT]
    title = doc.findtext(".//title")
    assert RUNNER in title and RACE in title and BRAND_VARIANT in title
    assert doc.xpath("//img[@class='cover__logo']/@alt") == [f"{BRAND_VARIANT} logo"]
    assert text_of(doc.find_class("contact__name")[0]) == BRAND_VARIANT


def test_ics_carries_the_names_as_text(guide):
    _plan, files, _ = guide
    cal = icalendar.Calendar.from_ical(files["ics"])
    assert ics_text(cal["x-wr-calname"]) == f"{RACE}: recovery plan ({BRAND_VARIANT})"
    events = list(cal.walk("VEVENT"))
    race = next(e for e in events if "Race" in (e.get("categories").cats or []))
    assert str(race["summary"]) == f"Race day: {RACE}"
    assert str(race["description"]).startswith(f"Good luck, {RUNNER}! ")
    sessions = [e for e in events if e is not race]
    assert sessions and all(str(e["summary"]).endswith(f" ({BRAND_VARIANT})")
                            for e in sessions)


# ------------------------------------------------------------------ email

@pytest.mark.parametrize("name", [BRAND, BRAND_VARIANT])
def test_email_subject_headers_and_bodies_show_the_names_literally(name):
    inputs, plan = with_names(name)
    renderer = Renderer(inputs.project.templates_dir, inputs.project, inputs.context)
    out = compose(plan, {"pdf": b"%PDF-1.7 stand-in", "ics": b"BEGIN:VCALENDAR\r\n"},
                  "inputs", renderer, inputs.context.message_date())
    msg = email.message_from_bytes(out.as_bytes(), policy=email.policy.default)
    assert msg["Subject"] == f"Your recovery guide for {RACE} ({name})"
    assert msg["From"].addresses[0].display_name == name
    # decoded as a mail client does (RFC 2047 6.2: no space between encoded words)
    raw_to = email.message_from_bytes(out.as_bytes())["To"]
    ((display, _addr),) = email.utils.getaddresses([raw_to])
    assert str(make_header(decode_header(display))) == RUNNER
    plain = msg.get_body(("plain",)).get_content()
    assert f"Hello {RUNNER}," in plain and name in plain.splitlines() and RACE in plain
    assert "&amp;" not in plain and "&#" not in plain and "&lt;" not in plain
    doc = html.document_fromstring(msg.get_body(("html",)).get_content())
    assert doc.xpath("//b") == []
    assert doc.findtext(".//title") == msg["Subject"]
    assert doc.xpath("//img/@alt") == [name]
    body = text_of(doc.body)
    assert f"Hello {RUNNER}," in body
    (sign,) = doc.xpath("//p[starts-with(normalize-space(.), 'Good luck')]/br")
    assert sign.tail == name
    assert RACE in body


# ------------------------------------------------------------------ site

@pytest.fixture(scope="module")
def site():
    inputs, _plan = with_names(BRAND_VARIANT)
    renderer = Renderer(inputs.project.templates_dir, inputs.project, inputs.context)
    files, problems = render_site(inputs, renderer)
    assert not [p for p in problems if p.severity == "error"], problems
    return files


@pytest.mark.parametrize("page", ["index.html", "about/index.html", "404.html"])
def test_site_pages_show_the_brand_name_as_text(site, page):
    doc = html.document_fromstring(site[page].decode())
    assert doc.xpath("//b") == [] and len(doc.xpath("//style")) == 1
    assert BRAND_VARIANT in doc.findtext(".//title")
    assert text_of(doc.find_class("footer__name")[0]) == BRAND_VARIANT
    assert doc.xpath("//img[@class='masthead__logo']/@alt") == [f"{BRAND_VARIANT}: home"]
    for script in doc.xpath("//script"):
        assert script.get("type") == "application/ld+json"
        data = json.loads(script.text)
        org = data.get("publisher") or data.get("mainEntity") or data.get("author")
        assert org["name"] == BRAND_VARIANT
    if page == "about/index.html":
        assert text_of(doc.xpath("//h1")[0]) == f"About {BRAND_VARIANT}"
        assert doc.xpath("//meta[@property='og:title']/@content") == [
            f"About {BRAND_VARIANT} and booking"]


def test_site_feed_names_the_brand_as_text(site):
    feed = ET.fromstring(site["feed.xml"])
    assert feed.findtext(f"{ATOM}author/{ATOM}name") == BRAND_VARIANT
