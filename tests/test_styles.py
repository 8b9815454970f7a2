"""pdf/styles.py: an element's computed style kept from one document and reused by the
next gives the PDF that computing every style gives, byte for byte."""

from __future__ import annotations

import pytest
import weasyprint

import generator.pdf.styles as styles
from generator.pdf.maker import PdfMaker
from tests.guidekit import REPO_ROOT, batch_pdfs, on_and_off, source_date_epoch

# The stylesheet every document shares (as a worker's guide.css and print.css)
SHEET = """
@page { margin: 12mm; @bottom-right { content: counter(page) " / " counter(pages) } }
body { font-family: "DejaVu Sans", sans-serif; font-size: 10pt; color: var(--text); }
h1 { color: var(--primary); border-bottom: 2px solid var(--primary); }
.toc a::after { content: leader(dotted) " " target-counter(attr(href url), page); }
ol li::marker { color: var(--primary); }
table { border-collapse: collapse; margin: 4mm 0; }
td, th { border: 1px solid #999; padding: 1mm 2mm; }
.bar { background: var(--primary); height: 3mm; }
.wide { width: 40vw; background: #cde; }
section { break-before: page; }
.chips { display: flex; gap: 2mm; } .chips span { border: 1px solid #999; padding: 1mm 2%; }
.note { float: right; max-width: 40%; padding: 2%; margin: 0 0 2mm 3%; border: 1px solid; }
.grid { border-collapse: separate; border-spacing: 1mm; }
"""
# Each document's own HTML: a <style> block parsed again for each one (the brand's colours,
# the page size), style attributes that differ, ids the contents page links to, a list, a
# table (collapsed borders and separate ones), flex items and a float (sized from their
# content), another language and a right-to-left paragraph.
PAGE = """<!DOCTYPE html><html lang="en"><head>
<style>:root { --primary: %(primary)s; --text: #222; } @page { size: %(size)s; }</style>
</head><body>
<h1>%(title)s</h1>
<nav class="toc"><a href="#before">Before the race</a><br><a href="#after">After it</a></nav>
<div class="bar" style="width: %(width)s%%"></div>
<p class="wide">A box as wide as part of the page.</p>
<section id="before"><h2>The light session</h2>
<ol><li>Three to five days before.</li><li>Light pressure only.</li></ol>
<table><tr><th>Day</th><th>Session</th></tr><tr><td>Thursday</td><td>Light</td></tr></table>
<p class="chips"><span>Light pressure</span><span>Calves and hamstrings</span></p>
<p class="note">Drink water after the session.</p><p>Walk for ten minutes after it.</p>
<table class="grid"><tr><td>Before</td><td>Three to five days</td></tr></table>
</section>
<section id="after"><h2 lang="de">Nach dem Rennen</h2>
<p dir="rtl" lang="ar">بعد السباق بيوم أو يومين</p></section>
</body></html>"""
DOCUMENTS = [
    {"title": "First runner", "primary": "#0a6", "size": "A5", "width": "30"},
    {"title": "Second runner", "primary": "#0a6", "size": "A5", "width": "55.5"},
    {"title": "First runner", "primary": "#0a6", "size": "A5", "width": "30"},
    {"title": "Another clinic", "primary": "#a30", "size": "A6", "width": "30"},
]
SMALLER = {**DOCUMENTS[0], "size": "A6"}  # the first, on a smaller page


@pytest.fixture(autouse=True)
def _installed():
    PdfMaker([REPO_ROOT])  # installs the kept styles (as every worker does)


FONTS: list = []  # one font configuration and stylesheet for all, as a worker keeps


def pdf_of(fields: dict, page: str = PAGE) -> bytes:
    if not FONTS:
        from weasyprint.text.fonts import FontConfiguration

        FONTS.append(FontConfiguration())
        FONTS.append(weasyprint.CSS(string=SHEET, font_config=FONTS[0]))
    return weasyprint.HTML(string=page % fields).write_pdf(
        stylesheets=[FONTS[1]], pdf_tags=True, pdf_variant="pdf/ua-1", font_config=FONTS[0])


def _twice(monkeypatch, make, keeping=True) -> tuple[list[bytes], list[bytes], dict]:
    """``make()`` with kept styles (``keeping``: inside styles.keeping()) and without,
    each time with no style kept from before; the counts of the run with kept styles."""
    def made():
        if not keeping:
            return make()
        with styles.keeping():
            return make()

    kept, computed, counted = on_and_off(monkeypatch, styles, made,
                                         _kept=type(styles._kept), _kept_ids=set)
    return kept, computed, counted[True]


def test_kept_styles_give_the_bytes_computed_styles_give(monkeypatch):
    with source_date_epoch():
        kept, computed, counted = _twice(
            monkeypatch, lambda: [pdf_of(fields) for fields in DOCUMENTS])
    assert kept == computed
    assert kept[0] == kept[2]
    assert counted["kept"] > 10
    # the second and third documents reuse what the first kept: most of their elements
    assert counted["reused"] > 2 * 10


def test_contents_page_numbers_follow_anchors_of_reused_styles(monkeypatch):
    """An element whose style is reused still registers its anchor in its own document:
    the contents' target-counter() finds the page of each section."""
    with source_date_epoch():
        kept, computed, _ = _twice(monkeypatch,
                                   lambda: [pdf_of(DOCUMENTS[0]), pdf_of(DOCUMENTS[1])])
    assert kept == computed
    from io import BytesIO

    import pypdf

    text = pypdf.PdfReader(BytesIO(kept[1])).pages[0].extract_text()
    assert "2" in text.split("After it")[0].split("Before the race")[1]


def test_viewport_units_are_never_kept(monkeypatch):
    """``40vw`` follows each document's page size (A5, then A6): the style using it is
    computed again, and so is everything under it; the rest is reused."""
    with source_date_epoch():
        kept, computed, counted = _twice(
            monkeypatch, lambda: [pdf_of(DOCUMENTS[0]), pdf_of(SMALLER)])
    assert kept == computed
    assert counted["computed"] >= 2  # the .wide paragraph in each document
    assert counted["reused"] > 10


@pytest.mark.parametrize("element", ["html", "body"])
def test_an_overflow_the_page_takes_over_is_never_kept(monkeypatch, element):
    """WeasyPrint moves the root's or body's ``overflow`` to the page and sets the
    element's own to ``visible``: a style kept from the first document would have lost it
    by the second."""
    page = PAGE.replace("<style>", f"<style>{element} {{ overflow: hidden; }}")
    with source_date_epoch():
        kept, computed, counted = _twice(
            monkeypatch, lambda: [pdf_of(fields, page) for fields in DOCUMENTS[:2]])
    assert kept == computed
    assert counted["reused"] == 0 if element == "html" else counted["reused"] > 0


def test_styles_are_only_kept_and_reused_inside_keeping(monkeypatch):
    monkeypatch.setattr(styles, "_kept", type(styles._kept)())
    monkeypatch.setattr(styles, "_kept_ids", set())
    before = dict(styles.counts)
    with source_date_epoch():
        pdf_of(DOCUMENTS[0])
        pdf_of(DOCUMENTS[0])
    assert styles.counts == before
    assert not styles._kept


def test_past_the_limit_the_least_recently_used_styles_are_dropped(monkeypatch):
    monkeypatch.setattr(styles, "_kept", type(styles._kept)())
    monkeypatch.setattr(styles, "_kept_ids", set())
    monkeypatch.setattr(styles, "LIMIT", 5)
    with source_date_epoch(), styles.keeping():
        first = pdf_of(DOCUMENTS[0])
        again = pdf_of(DOCUMENTS[0])
    assert len(styles._kept) == 5
    assert styles._kept_ids == {id(style) for style, _ in styles._kept.values()}
    assert first == again


def test_a_batch_s_guides_are_the_same_with_and_without_kept_styles(monkeypatch):
    """The example roster (two brands, three languages, a right-to-left name, notes) in a
    batch's order: every guide is the same bytes whether its styles were kept from the
    guides before or computed afresh."""
    with source_date_epoch():
        kept, computed, counted = _twice(monkeypatch, batch_pdfs(), keeping=False)
    assert kept == computed
    assert counted["reused"] > 2 * counted["kept"] > 0
