"""pdf/measures.py: a box's used lengths and the widths of lines of text, noted per style
and reused, give the PDF that taking them every time gives, byte for byte."""

from __future__ import annotations

import pytest

import generator.pdf.measures as measures
import generator.pdf.styles as styles
from generator.pdf.maker import PdfMaker
from tests.guidekit import REPO_ROOT, batch_pdfs, on_and_off, source_date_epoch
from tests.test_styles import DOCUMENTS, SMALLER, pdf_of


@pytest.fixture(autouse=True)
def _installed():
    PdfMaker([REPO_ROOT])  # installs the measures (as every worker does)


def _fresh() -> dict:
    return {"_used": type(measures._used), "_widths": type(measures._widths)}


def _twice(monkeypatch, make, measuring=True) -> tuple[list[bytes], list[bytes], dict]:
    """``make()`` with measures noted (``measuring``: inside measures.measuring(), with
    styles kept as in a batch) and without; the counts of the run with notes."""
    def made():
        if not measuring:
            return make()
        with styles.keeping(), measures.measuring():
            return make()

    monkeypatch.setattr(styles, "_kept", type(styles._kept)())
    monkeypatch.setattr(styles, "_kept_ids", set())
    noted, taken, counted = on_and_off(monkeypatch, measures, made, **_fresh())
    return noted, taken, counted[True]


def test_noted_measures_give_the_bytes_taken_measures_give(monkeypatch):
    with source_date_epoch():
        noted, taken, counted = _twice(
            monkeypatch, lambda: [pdf_of(fields) for fields in [*DOCUMENTS, SMALLER]])
    assert noted == taken
    assert noted[0] == noted[2]
    assert counted["reused"] > counted["noted"] > 10


def test_both_measures_are_noted_and_reused(monkeypatch):
    """Used lengths of boxes, and line widths for the flex items', the float's and the
    tables' sizes; never the lengths of a box whose borders collapse (a table's own), nor
    anything taken from a style that is not kept."""
    for name, new in _fresh().items():
        monkeypatch.setattr(measures, name, new())
    with source_date_epoch(), styles.keeping(), measures.measuring():
        pdf_of(DOCUMENTS[0])
        pdf_of(DOCUMENTS[1])
    assert measures._used and measures._widths
    assert all(style["border_collapse"] != "collapse"
               for style, _ in measures._used.values())
    # only styles that outlive their document: a note never holds a document's styles
    assert all(styles.lasting(style) for style, _ in measures._used.values())
    assert all(styles.lasting(style) for style, *_ in measures._widths.values())
    texts = [text for text, *_ in measures._widths]
    assert any(text.startswith("Calves") for text in texts)  # a flex item
    assert any(text.startswith("Drink") for text in texts)  # the float


def test_measures_are_only_noted_and_reused_inside_measuring(monkeypatch):
    for name, new in _fresh().items():
        monkeypatch.setattr(measures, name, new())
    before = dict(measures.counts)
    with source_date_epoch(), styles.keeping():
        pdf_of(DOCUMENTS[0])
        pdf_of(DOCUMENTS[0])
    assert measures.counts == before
    assert not measures._used and not measures._widths


def test_a_batch_s_guides_are_the_same_with_and_without_noted_measures(monkeypatch):
    """The example roster in a batch's order: every guide is the same bytes whether its
    measures were noted from the guides before or taken afresh."""
    with source_date_epoch():
        noted, taken, counted = _twice(monkeypatch, batch_pdfs(), measuring=False)
    assert noted == taken
    assert counted["reused"] > 2 * counted["noted"] > 0
