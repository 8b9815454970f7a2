"""pdf/leaders.py: a leader's dots after the second are written as the second was
painted; the PDF is the same, byte for byte, as painting every dot."""

from __future__ import annotations

import pytest
import weasyprint

import generator.pdf.leaders as leaders
from generator.load.inputs import load_inputs
from generator.load.project import load_project
from generator.pdf.tagging import improve_tags
from generator.plan.guideplan import plan_guide
from generator.publish.guides import GuideMaker
from tests.guidekit import EXAMPLE_ROSTER, REPO_ROOT, on_and_off, source_date_epoch

LINES = """
<style>
  @page { size: A5; margin: 15mm; }
  body { font-family: "DejaVu Sans", sans-serif; font-size: 11pt; }
  li a { display: block; color: #223; text-decoration: none; }
  .plain a::after { content: leader(dotted) " " attr(data-page); color: #777; }
  .dashes a::after { content: leader("-·") " " attr(data-page); }
  .underlined a { text-decoration: underline; }
  .underlined a::after { content: leader(dotted) " " attr(data-page); }
  .coloured a::after { content: leader(solid) " " attr(data-page); color: #b03; }
</style>
<ol class="plain">%s</ol>
<ol class="dashes">%s</ol>
<ol class="underlined">%s</ol>
<ol class="coloured">%s</ol>
<div dir="rtl" lang="ar"><ol class="plain">%s</ol></div>
"""


def _items(words: str) -> str:
    return "".join(f'<li><a href="#p{n}" data-page="{n + 3}">{words} {n}</a></li>'
                   for n in range(6))


def _pdf(tagged: bool) -> bytes:
    html = LINES % (_items("Why massage helps"), _items("Before the race"),
                    _items("After the race"), _items("Habits"), _items("بعد السباق"))
    return weasyprint.HTML(string=html).write_pdf(pdf_tags=tagged,
                                                 pdf_variant="pdf/ua-1" if tagged else None)


@pytest.mark.parametrize("tagged", [True, False])
def test_written_dots_give_the_bytes_painted_dots_give(monkeypatch, tagged):
    assert improve_tags()
    with source_date_epoch():
        fast, painted, counted = on_and_off(monkeypatch, leaders, lambda: _pdf(tagged))
    assert fast == painted
    # the plain, dashed, coloured and right-to-left lines are written from their
    # second dot; the underlined ones draw their decoration before each dot's text, so
    # the second dot does not show the pattern and they are painted dot by dot
    assert counted[True]["written"] == 24
    assert counted[True]["painted"] == 6
    assert counted[False] == {"written": 0, "painted": 30}


def test_a_guide_s_contents_page_is_the_same_with_its_dots_written(monkeypatch):
    with source_date_epoch():
        inputs = load_inputs(load_project(REPO_ROOT), EXAMPLE_ROSTER)
        plan = plan_guide(inputs, inputs.athletes[0])

        def guides():  # the fast path (contents laid out apart) and a full render
            fast, full = GuideMaker(inputs), GuideMaker(inputs)
            full.fast = False
            return [maker.make(plan, ("pdf",)).files["pdf"] for maker in (fast, full)]

        fast, painted, counted = on_and_off(monkeypatch, leaders, guides)
    assert fast == painted
    assert counted[True]["written"] > 10 and counted[True]["painted"] == 0
