"""Same inputs, same bytes on any machine: no wall clock in a PDF or an ICS file, and
fonts subset alike with or without the system's HarfBuzz subsetter.

WeasyPrint 70 subsets embedded fonts with HarfBuzz when ``libharfbuzz-subset0`` loads
and with fontTools otherwise, two different font programs.  guidegen subsets every font
through the HarfBuzz of the pinned ``uharfbuzz`` wheel instead (generator/pdf/
fontsubset.py), so the system library no longer matters.  Without uharfbuzz,
WeasyPrint's own subsetters run; fontTools then stamps each font it saves with the time
(``head.modified``), which generator/pdf/fontstamps.py prevents.

How a machine is simulated in-process: ``weasyprint.pdf.fonts.Font.subset`` (WeasyPrint's
own) takes the HarfBuzz branch when the module global
``weasyprint.pdf.fonts.harfbuzz_subset`` (the cffi handle of libharfbuzz-subset, None
when the library does not load) is truthy, so setting it to None is a machine without
the library; ``sys.modules["uharfbuzz"] = None`` is a machine without uharfbuzz (our
step then falls back to WeasyPrint's).  Spies on ``fontsubset.subset_font`` and
``Font._harfbuzz_subset``/``_fonttools_subset`` prove which subsetter ran.  The wall
clock is moved by patching ``time.time`` and ``time.time_ns`` (what fontTools'
``timestampNow``, ``date.today()`` and ``datetime.today()`` read), with
SOURCE_DATE_EPOCH unset.  Every render loads the inputs and makes a fresh GuideMaker
under its clock, as a separate build would.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import io
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fontTools.misc.timeTools import timestampSinceEpoch
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

from generator.pdf import fontstamps, fontsubset, internals
from generator.publish.guides import GuideMaker
from tests.guidekit import (
    EPOCH,
    HARBOUR_ID,
    REPO_ROOT,
    build,
    context,
    font_is_embedded,
    fonts,
    guide_ics,
    load,
    notdef_codes,
    page_texts,
    plan_of,
)

DAY = 86400
CLOCK = 1_700_000_000  # 2023-11-14, after the example fonts' own dates
LATER = CLOCK + 400 * DAY  # another day, another year
# athlete -> the name its cover prints: Latin with accents, CJK, an emoji (ZWJ sequence)
GUIDES = {HARBOUR_ID: "Zoë Ó Briain", "sm-hanako-03": "田中 花子",
          "hb-maya-06": "Maya Patel 🏃‍♀️"}
HINTING = ("fpgm", "prep", "cvt ", "hdmx", "VDMX", "LTSH")


@dataclass
class Rendered:
    pdf: bytes
    subsets: list  # (weasyprint Font, its font file before cleaning, (to_unicode, hinting))


@contextlib.contextmanager
def wall_clock(mp: pytest.MonkeyPatch, at: float) -> Iterator[None]:
    """The wall clock reads ``at`` (and keeps ticking) until the block ends."""
    real = time.time
    started = real()
    mp.setattr(time, "time", lambda: at + (real() - started))
    mp.setattr(time, "time_ns", lambda: int((at + (real() - started)) * 1e9))
    yield


def render(at: float, *, athlete: str = HARBOUR_ID, ours: bool = True, system: bool = True,
           epoch_env: str | None = None) -> Rendered:
    """One guide, as a separate build at wall-clock time ``at`` would make it.

    ``ours``: uharfbuzz importable (else WeasyPrint subsets); ``system``: the system's
    libharfbuzz-subset loaded; ``epoch_env``: SOURCE_DATE_EPOCH in the environment
    during the render (the guide's own context is always unset: no build date in it).
    """
    import weasyprint.pdf.fonts as wp_fonts

    expected = "uharfbuzz" if ours else "harfbuzz" if system else "fonttools"
    # what every PdfMaker does first, done before Font.clean is spied on below (it checks
    # that Font.clean calls Font.subset); test_a_pdf_maker_subsets_through_uharfbuzz
    assert fontsubset.subset_with_uharfbuzz()
    rendered = Rendered(b"", [])
    calls = {"uharfbuzz": 0, "harfbuzz": 0, "fonttools": 0}
    with pytest.MonkeyPatch.context() as mp:
        if not system:
            mp.setattr(wp_fonts, "harfbuzz_subset", None)
        elif fontstamps.subsetter() != "harfbuzz":
            pytest.skip("libharfbuzz-subset (>= 4.1) is not installed on this machine")
        if not ours:
            mp.setitem(sys.modules, "uharfbuzz", None)  # import uharfbuzz: ImportError

        def counted(name, method):
            def spy(*args, **kwargs):
                calls[name] += 1
                return method(*args, **kwargs)
            return spy

        mp.setattr(fontsubset, "subset_font", counted("uharfbuzz", fontsubset.subset_font))
        for name in ("harfbuzz", "fonttools"):
            mp.setattr(wp_fonts.Font, f"_{name}_subset",
                       counted(name, getattr(wp_fonts.Font, f"_{name}_subset")))
        clean = wp_fonts.Font.clean

        def recorded_clean(font, *args):
            rendered.subsets.append((font, font.file_content, args))
            return clean(font, *args)

        mp.setattr(wp_fonts.Font, "clean", recorded_clean)
        if epoch_env is None:
            mp.delenv("SOURCE_DATE_EPOCH", raising=False)
        else:
            mp.setenv("SOURCE_DATE_EPOCH", epoch_env)
        with wall_clock(mp, at):
            inputs = load(epoch=None)
            rendered.pdf = build(inputs, athlete, ("pdf",), GuideMaker(inputs)).files["pdf"]
        assert fontstamps.timestamps_kept()  # set up by the PdfMaker, not by this test
        assert fontsubset.subsetter() == expected
    assert calls[expected] > 0 and sum(calls.values()) == calls[expected], calls
    return rendered


def font_programs(data: bytes) -> dict[str, bytes]:
    """BaseFont (without the subset tag) -> the embedded font file."""
    found = {}
    for name, font in fonts(PdfReader(io.BytesIO(data))).items():
        if font.get("/Subtype") == "/Type0":
            font = font["/DescendantFonts"][0].get_object()
        descriptor = font["/FontDescriptor"].get_object()
        stream = next(descriptor[k] for k in ("/FontFile2", "/FontFile3", "/FontFile")
                      if k in descriptor)
        found[name.split("+", 1)[-1]] = stream.get_object().get_data()
    assert found
    return found


def resubset(rendered: Rendered, subsetter: str, at: float,
             epoch: str | None = None) -> dict[str, bytes]:
    """The render's fonts subset again at wall-clock time ``at`` (and SOURCE_DATE_EPOCH=
    epoch): font name -> font file, as it would be embedded (fonts without colour glyphs
    or variations, whose cleaning is the subset alone).  ``subsetter``: "uharfbuzz"
    (guidegen's Font.subset), "harfbuzz" or "fonttools" (WeasyPrint's)."""
    out = {}
    for font, source, args in rendered.subsets:
        font.file_content = source
        with pytest.MonkeyPatch.context() as mp, wall_clock(mp, at):
            if epoch is None:
                mp.delenv("SOURCE_DATE_EPOCH", raising=False)
            else:
                mp.setenv("SOURCE_DATE_EPOCH", epoch)
            if subsetter == "uharfbuzz":
                font.subset(*args)
            else:
                getattr(font, f"_{subsetter}_subset")(*args)
        out[font.name.decode().split("+", 1)[-1]] = font.file_content
    return out


def stamp(program: bytes) -> int:
    """A font file's head.modified (seconds since 1904)."""
    return TTFont(io.BytesIO(program))["head"].modified


@pytest.fixture(scope="module")
def ours() -> dict[str, dict[str, Rendered | None]]:
    """Each guide through guidegen's subsetter, on a machine with the system's
    libharfbuzz-subset (None where this one has none) and on one without it."""
    with_system = fontstamps.subsetter() == "harfbuzz"
    return {athlete: {"system": render(CLOCK, athlete=athlete) if with_system else None,
                      "none": render(CLOCK, athlete=athlete, system=False)}
            for athlete in GUIDES}


@pytest.fixture(scope="module")
def fonttools_renders() -> dict[str, Rendered]:
    """WeasyPrint's own fontTools path: no uharfbuzz, no system subsetter."""
    return {"now": render(CLOCK, ours=False, system=False),
            "later, epoch set": render(LATER, ours=False, system=False, epoch_env=EPOCH)}


@pytest.mark.parametrize("athlete", GUIDES)
def test_the_same_bytes_with_or_without_the_system_harfbuzz_subsetter(ours, athlete):
    if ours[athlete]["system"] is None:
        pytest.skip("libharfbuzz-subset (>= 4.1) is not installed on this machine")
    assert ours[athlete]["system"].pdf == ours[athlete]["none"].pdf


@pytest.mark.parametrize("athlete", GUIDES)
def test_text_and_fonts_read_back_with_no_missing_glyph_boxes(ours, athlete):
    reader = PdfReader(io.BytesIO(ours[athlete]["none"].pdf))
    assert GUIDES[athlete] in page_texts(reader)[0]
    found = fonts(reader)
    assert found and all(font_is_embedded(font) for font in found.values())
    assert all(name[1:7].isalpha() and name[7] == "+" for name in found)  # subset tag
    boxes = {name: notdef_codes(font) for name, font in found.items()}
    assert not any(boxes.values()), f"characters drawn as .notdef boxes: {boxes}"
    for program in font_programs(ours[athlete]["none"].pdf).values():
        assert TTFont(io.BytesIO(program))["maxp"].numGlyphs > 1


def _outline(font: TTFont, gid: int):
    glyf = font["glyf"]
    coordinates, ends, _flags = glyf[font.getGlyphName(gid)].getCoordinates(glyf)
    return list(coordinates), list(ends), font["hmtx"][font.getGlyphName(gid)][0]


@pytest.mark.parametrize("athlete", GUIDES)
def test_the_subset_keeps_every_used_glyph_at_its_id_drawn_as_in_the_source(ours, athlete):
    """WeasyPrint's HarfBuzz semantics: glyph ids kept, the glyphs after the last used one
    dropped (but for parts of used composite glyphs), WeasyPrint's tables and (hinting
    off) the hinting dropped."""
    for font, source, (to_unicode, hinting) in ours[athlete]["none"].subsets:
        original = TTFont(io.BytesIO(source), fontNumber=font.index, lazy=True)
        program = fontsubset.subset_font(fontsubset._uharfbuzz(), source, font.index,
                                         to_unicode, hinting, bool(font.missing))
        subset = TTFont(io.BytesIO(program))
        used = [gid for gid in sorted(to_unicode) if gid < original["maxp"].numGlyphs]
        assert used[-1] < subset["maxp"].numGlyphs < original["maxp"].numGlyphs
        assert not set(subset.keys()) & {*fontsubset.DROPPED, *([] if hinting else HINTING)}
        assert subset["head"].modified == original["head"].modified
        if "glyf" in original:
            drawn = [gid for gid in used if _outline(original, gid)[0]]
            assert drawn and all(_outline(subset, gid) == _outline(original, gid)
                                 for gid in used)


def test_our_subsets_do_not_depend_on_the_clock_or_the_epoch(ours):
    rendered = ours[HARBOUR_ID]["none"]
    assert resubset(rendered, "uharfbuzz", LATER, EPOCH) == font_programs(rendered.pdf)


def test_without_uharfbuzz_weasyprints_fonttools_path_gives_the_same_bytes_at_any_time(
        fonttools_renders):
    assert fonttools_renders["now"].pdf == fonttools_renders["later, epoch set"].pdf


def test_without_the_fix_the_fonttools_subsets_carry_the_wall_clock(fonttools_renders,
                                                                    monkeypatch):
    """The failure fontstamps.py prevents: WeasyPrint's fontTools subsetting of the
    render's fonts, run again at other clock times, with and without the fix."""
    import weasyprint.pdf.fonts as wp_fonts

    rendered = fonttools_renders["now"]
    embedded = font_programs(rendered.pdf)  # subset at CLOCK, without SOURCE_DATE_EPOCH
    assert resubset(rendered, "fonttools", LATER) == embedded
    assert resubset(rendered, "fonttools", LATER, EPOCH) == embedded
    monkeypatch.setattr(wp_fonts, "TTFont", TTFont)  # fontTools' own class: no fix
    first, second, epoch = (resubset(rendered, "fonttools", CLOCK),
                            resubset(rendered, "fonttools", LATER),
                            resubset(rendered, "fonttools", LATER, EPOCH))
    assert first.keys() == second.keys() == epoch.keys() == embedded.keys()
    for name in embedded:
        assert len({first[name], second[name], epoch[name], embedded[name]}) == 4
        assert 0 <= stamp(first[name]) - timestampSinceEpoch(CLOCK) < 600
        assert 0 <= stamp(second[name]) - timestampSinceEpoch(LATER) < 600
        assert stamp(epoch[name]) == timestampSinceEpoch(int(EPOCH))


def test_each_path_keeps_the_source_fonts_own_timestamp(ours, fonttools_renders):
    """HarfBuzz copies ``head`` dates from the source font; fontTools now does too."""
    kept = {name: stamp(program)
            for name, program in font_programs(ours[HARBOUR_ID]["none"].pdf).items()}
    assert {name: stamp(program) for name, program
            in font_programs(fonttools_renders["now"].pdf).items()} == kept
    assert all(when < timestampSinceEpoch(CLOCK) for when in kept.values())


def _objects(data: bytes) -> dict[int, object]:
    """Every object, references as numbers, font files as their dictionary alone."""
    reader = PdfReader(io.BytesIO(data))

    def plain(obj):
        if isinstance(obj, IndirectObject):
            return ("ref", obj.idnum)
        if isinstance(obj, StreamObject):
            if "/Length1" in obj or obj.get("/Subtype") == "/OpenType":  # a font file
                return ("font file", sorted(str(k) for k in obj))
            return ("stream", plain(DictionaryObject(obj)), obj.get_data())
        if isinstance(obj, DictionaryObject):
            return {str(k): plain(v) for k, v in obj.items() if k != "/ID"}
        if isinstance(obj, ArrayObject):
            return [plain(v) for v in obj]
        return repr(obj)

    out = {}
    for num in range(1, int(reader.trailer["/Size"])):
        obj = reader.get_object(num)
        if not (isinstance(obj, StreamObject) and obj.get("/Type") == "/XRef"):  # offsets
            out[num] = plain(obj)
    return out


@pytest.mark.parametrize("theirs", ["fonttools", "harfbuzz"])
def test_without_uharfbuzz_weasyprints_subsetters_differ_only_in_the_font_files(
        ours, fonttools_renders, theirs):
    """What still differs between a machine with uharfbuzz and one without: WeasyPrint's
    subsetters (fontTools; the system's HarfBuzz, another release) write other font
    programs from the same glyphs.  Everything else in the file is equal."""
    mine = ours[HARBOUR_ID]["none"].pdf
    other = (fonttools_renders["now"] if theirs == "fonttools"
             else render(CLOCK, ours=False)).pdf
    assert mine != other
    assert _objects(mine) == _objects(other)
    my_fonts, other_fonts = font_programs(mine), font_programs(other)
    assert my_fonts.keys() == other_fonts.keys()
    assert all(my_fonts[name] != other_fonts[name] for name in my_fonts)


def test_the_installed_uharfbuzz_is_the_pinned_one_and_weasyprint_has_what_it_needs():
    pins = [d for d in tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
            ["project"]["dependencies"] if d.startswith("uharfbuzz")]
    assert pins == [f"uharfbuzz=={importlib.metadata.version('uharfbuzz')}"]
    assert internals.missing(internals.SUBSET_NEEDED) == []
    assert fontsubset.fallback_warning() is None


def test_without_uharfbuzz_a_warning_says_pdf_bytes_depend_on_the_machine(monkeypatch):
    monkeypatch.setitem(sys.modules, "uharfbuzz", None)
    assert "uharfbuzz is not installed" in fontsubset.fallback_warning()


def test_a_pdf_maker_subsets_through_uharfbuzz(monkeypatch):
    import weasyprint.pdf.fonts as wp_fonts

    from generator.pdf.maker import PdfMaker

    fontsubset.subset_with_uharfbuzz()
    plain = wp_fonts.Font.subset.guidegen_plain
    monkeypatch.setattr(wp_fonts.Font, "subset", plain)  # as before any PdfMaker
    assert fontsubset.subsetter() != "uharfbuzz"
    PdfMaker([REPO_ROOT])
    assert wp_fonts.Font.subset.guidegen_plain is plain
    assert fontsubset.subsetter() == "uharfbuzz"


def test_a_weasyprint_without_the_subset_names_is_left_alone(monkeypatch):
    """Nothing patched (WeasyPrint subsets its own way), the fast path unaffected."""
    import weasyprint.pdf.fonts as wp_fonts

    fontsubset.subset_with_uharfbuzz()
    plain = wp_fonts.Font.subset.guidegen_plain
    monkeypatch.setattr(wp_fonts.Font, "subset", plain)  # as before any PdfMaker
    monkeypatch.setattr(internals, "SUBSET_NEEDED", (*internals.SUBSET_NEEDED, (
        "weasyprint.pdf.fonts", "Font.__init__:renamed_in_a_later_release")))
    assert not fontsubset.subset_with_uharfbuzz()
    assert wp_fonts.Font.subset is plain
    assert fontsubset.subsetter() == fontstamps.subsetter() != "uharfbuzz"
    assert "font internals" in fontsubset.fallback_warning()
    assert internals.missing() == []


def test_ics_bytes_do_not_depend_on_the_clock(monkeypatch):
    """Every example athlete's ICS, SOURCE_DATE_EPOCH unset, at two clock times (the real
    clock also passes a second boundary, for readers of ``datetime.now()``)."""
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)

    def calendars(at: float) -> dict[str, bytes]:
        with pytest.MonkeyPatch.context() as mp, wall_clock(mp, at):
            inputs = load(epoch=None)
            return {a.id: guide_ics(plan_of(inputs, a.id), context(None))
                    for a in inputs.athletes}

    first = calendars(CLOCK)
    second_now = int(time.time())
    while int(time.time()) == second_now:
        time.sleep(0.05)
    second = calendars(LATER)
    assert len(first) > 1 and first == second
