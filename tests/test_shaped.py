"""pdf/shaped.py: a line of text painted once per worker and then written from its record
gives the PDF that painting every line gives, byte for byte."""

from __future__ import annotations

import contextlib

import pytest
import weasyprint

import generator.pdf.shaped as shaped
from generator.pdf.maker import PdfMaker
from tests.guidekit import REPO_ROOT, batch_pdfs, on_and_off, source_date_epoch

# lines shared by both documents, lines only one has, a justified paragraph (each line its
# own word spacing), letter spacing, small caps, a right-to-left line, a line in another
# language, subscripts and superscripts, an underlined line (never recorded)
PAGE = """
<style>
  @page { size: A6; margin: 10mm; }
  body { font-family: "DejaVu Sans", sans-serif; font-size: 10pt; }
  .j { text-align: justify; }
  .wide { letter-spacing: 0.12em; }
  .caps { font-variant-caps: small-caps; }
  u { text-decoration: underline; }
</style>
<h1>%s</h1>
<p>Book the light session three to five days before the race.</p>
<p class="j">Massage after a long run eases tight calves and lets a runner notice niggles
early; it is no substitute for sleep, food and easy days, and it does not replace a
clinician when something hurts for more than a few days.</p>
<p class="wide">Recovery week</p>
<p class="caps">Race day checklist</p>
<p dir="rtl" lang="ar">بعد السباق بيوم أو يومين</p>
<p lang="de">Leichte Massage nach dem Lauf</p>
<p>H<sub>2</sub>O and 10<sup>th</sup> kilometre</p>
<p><u>Bring your race number</u></p>
"""


@pytest.fixture(autouse=True)
def _installed():
    PdfMaker([REPO_ROOT])  # installs the records (as every worker does)


FONTS: list = []  # one font configuration for every document, as a worker keeps one


def _pdf(title: str) -> bytes:
    if not FONTS:
        from weasyprint.text.fonts import FontConfiguration

        FONTS.append(FontConfiguration())
    return weasyprint.HTML(string=PAGE % title).write_pdf(
        pdf_tags=True, pdf_variant="pdf/ua-1", font_config=FONTS[0])


def _twice(monkeypatch, make, recording=True) -> tuple[list[bytes], list[bytes], dict]:
    """``make()`` with records (``recording``: inside shaped.recording()) and without,
    each time with no record kept from before; the counts of the run with records."""
    def made():
        with shaped.recording() if recording else contextlib.nullcontext():
            return make()

    written, painted, counted = on_and_off(monkeypatch, shaped, made,
                                           _records=type(shaped._records))
    return written, painted, counted[True]


def test_lines_written_from_records_give_the_bytes_painted_lines_give(monkeypatch):
    with source_date_epoch():
        written, painted, counted = _twice(
            monkeypatch, lambda: [_pdf(title) for title in ("First runner", "Second runner",
                                                             "First runner")])
    assert written == painted
    assert written[0] == written[2]
    assert counted["recorded"] > 10
    # the second and third documents write what the first recorded: most of their lines
    assert counted["written"] > counted["recorded"]
    # the underlined line is painted in every document
    assert counted["painted"] >= 3


def test_records_are_only_made_and_used_while_recording(monkeypatch):
    monkeypatch.setattr(shaped, "_records", type(shaped._records)())
    before = dict(shaped.counts)
    with source_date_epoch():
        _pdf("Outside a batch")
    assert shaped.counts["recorded"] == before["recorded"]
    assert shaped.counts["written"] == before["written"]
    assert not shaped._records


def test_a_batch_s_guides_are_the_same_with_and_without_records(monkeypatch):
    """The example roster (two brands, three languages, a right-to-left name, notes) in a
    batch's order: every guide is the same bytes whether its lines were written from
    records or painted."""
    with source_date_epoch():
        written, painted, counted = _twice(monkeypatch, batch_pdfs(), recording=False)
    assert written == painted
    assert counted["written"] > 2 * counted["recorded"] > 0
