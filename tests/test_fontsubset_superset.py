"""Fonts subset once per worker (generator/pdf/fontcache.py): guides share one superset
program per font, and a guide's bytes never depend on which guides a worker made before."""

from __future__ import annotations

import io

import pytest
import uharfbuzz
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from generator.pdf import fontcache, fontsubset
from generator.publish.guides import GuideMaker
from tests.guidekit import HARBOUR_ID, build, fonts, load, page_texts

OTHER_HARBOUR = "hb-tom-10"  # same brand and fonts as HARBOUR_ID, another runner
CJK_ID = "sm-hanako-03"  # a name no Latin font draws: the CJK font pays its own subset


def programs(data: bytes) -> dict[str, bytes]:
    """Font name (without the subset tag) -> the embedded font file."""
    found = {}
    for name, font in fonts(PdfReader(io.BytesIO(data))).items():
        if font.get("/Subtype") == "/Type0":
            font = font["/DescendantFonts"][0].get_object()
        descriptor = font["/FontDescriptor"].get_object()
        stream = next(descriptor[k] for k in ("/FontFile2", "/FontFile3") if k in descriptor)
        found[name.split("+", 1)[-1]] = stream.get_object().get_data()
    return found


@pytest.fixture(scope="module")
def made():
    """Three guides in one warm maker (as a batch worker makes them), and each of them
    again from a cold maker of its own (as ``guidegen guide`` or another shard would)."""
    inputs = load()
    warm = GuideMaker(inputs)
    order = [CJK_ID, HARBOUR_ID, OTHER_HARBOUR]
    in_batch = {i: build(inputs, i, ("pdf",), warm).files["pdf"] for i in order}
    alone = {i: build(inputs, i, ("pdf",), GuideMaker(inputs)).files["pdf"] for i in order}
    return in_batch, alone, dict(warm.pdf_maker.font_programs.counts)


def test_a_guide_has_the_same_bytes_whatever_the_worker_made_before(made):
    in_batch, alone, _counts = made
    assert in_batch == alone


def test_guides_of_one_brand_embed_the_same_font_programs(made):
    in_batch, _alone, counts = made
    first, second = programs(in_batch[HARBOUR_ID]), programs(in_batch[OTHER_HARBOUR])
    shared = set(first) & set(second)
    assert shared and all(first[name] == second[name] for name in shared)
    # every font subset once per worker: later guides reuse it
    assert counts["covered"] > counts["supersets"] > 0


def test_guides_sharing_a_superset_program_read_back_their_own_text(made):
    in_batch, _alone, _counts = made
    for athlete_id, name in ((HARBOUR_ID, "Zoë Ó Briain"), (OTHER_HARBOUR, "Tom")):
        reader = PdfReader(io.BytesIO(in_batch[athlete_id]))
        assert name in page_texts(reader)[0]
        for program in programs(in_batch[athlete_id]).values():
            assert TTFont(io.BytesIO(program))["maxp"].numGlyphs > 1


def test_a_name_outside_the_repertoire_gets_its_own_subset_of_that_font(made):
    in_batch, _alone, _counts = made
    reader = PdfReader(io.BytesIO(in_batch[CJK_ID]))
    assert "田中 花子" in page_texts(reader)[0]
    # the Latin brand fonts are DejaVu (superset programs); the name's font (Noto CJK,
    # WenQuanYi... whichever fontconfig picks) is larger than MAX_FONT_BYTES: own subset
    own = [data for name, data in programs(in_batch[CJK_ID]).items()
           if not name.startswith("DejaVu")]
    assert own and all(len(data) < fontcache.MAX_FONT_BYTES // 4 for data in own)


def test_superset_is_used_only_when_it_holds_every_glyph():
    """The rule is pure: the superset program when the glyphs are inside, else the
    guide's own subset (whether or not a cache remembers the superset)."""
    source = fontcache_source()
    hb = uharfbuzz
    superset = fontcache.superset_glyphs(hb, source, 0)
    inside, outside = sorted(superset)[:40], sorted(superset)[:40] + [max(superset) + 1]
    whole = fontsubset.subset_font(hb, source, 0, superset, False, False)
    cache = fontcache.FontPrograms()
    for active in (None, cache):
        fontcache.active = active
        try:
            assert fontsubset._program(hb, source, 0, inside, False, False) == whole
            assert fontsubset._program(hb, source, 0, outside, False, False) == \
                fontsubset.subset_font(hb, source, 0, outside, False, False)
            # a missing glyph (drawn as a box outline) never takes the shared program
            assert fontsubset._program(hb, source, 0, inside, False, True) != whole
        finally:
            fontcache.active = None
    assert cache.counts == {"supersets": 1, "covered": 1, "own": 1}


def fontcache_source() -> bytes:
    import subprocess

    path = subprocess.run(["fc-match", "-f", "%{file}", "DejaVu Sans"], capture_output=True,
                          text=True, check=True).stdout
    return open(path, "rb").read()
