"""Same inputs, same bytes on any machine: no wall clock in a PDF or an ICS file.

WeasyPrint 70 subsets embedded fonts with HarfBuzz when ``libharfbuzz-subset0`` loads
and with fontTools otherwise; fontTools stamps each font it saves with the time
(``head.modified``: SOURCE_DATE_EPOCH, else the wall clock), so without
generator/pdf/fontstamps.py two builds on a machine without the library differ.

How the fontTools path is forced in-process: ``weasyprint.pdf.fonts.Font.subset``
takes the HarfBuzz branch when the module global ``weasyprint.pdf.fonts.harfbuzz_subset``
(the cffi handle of libharfbuzz-subset, imported from ``weasyprint.text.ffi``, None when
the library does not load) is truthy; setting that name to None is what a machine
without the library sees.  A spy on ``Font._fonttools_subset``/``_harfbuzz_subset``
proves which subsetter ran.  The wall clock is moved by patching ``time.time`` and
``time.time_ns`` (what fontTools' ``timestampNow``, ``date.today()`` and
``datetime.today()`` read), with SOURCE_DATE_EPOCH unset.

Every render loads the inputs and makes a fresh GuideMaker under its clock, as a
separate build would.  The two subsetters write different font programs, so the two
paths give different (each deterministic) bytes; the tests pin down that only the
embedded font files differ.
"""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fontTools.misc.timeTools import timestampSinceEpoch
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

from generator.pdf import fontstamps
from generator.publish.guides import GuideMaker
from generator.publish.ics import make_ics
from tests.guidekit import EPOCH, HARBOUR_ID, build, context, fonts, load, plan_of

DAY = 86400
CLOCK = 1_700_000_000  # 2023-11-14, after the example fonts' own dates
LATER = CLOCK + 400 * DAY  # another day, another year


@dataclass
class Rendered:
    pdf: bytes
    subsets: list  # (weasyprint Font, its font file before subsetting, subset arguments)


@contextlib.contextmanager
def wall_clock(mp: pytest.MonkeyPatch, at: float) -> Iterator[None]:
    """The wall clock reads ``at`` (and keeps ticking) until the block ends."""
    real = time.time
    started = real()
    mp.setattr(time, "time", lambda: at + (real() - started))
    mp.setattr(time, "time_ns", lambda: int((at + (real() - started)) * 1e9))
    yield


def render(subsetter: str, at: float, *, epoch_env: str | None = None) -> Rendered:
    """One guide, as a separate build at wall-clock time ``at`` would make it.

    ``subsetter``: "harfbuzz" or "fonttools" (forced); ``epoch_env``: SOURCE_DATE_EPOCH
    in the environment during the render (the guide's own context is always unset,
    so its text carries no build date).
    """
    import weasyprint.pdf.fonts as wp_fonts

    rendered = Rendered(b"", [])
    calls = {"harfbuzz": 0, "fonttools": 0}
    with pytest.MonkeyPatch.context() as mp:
        if subsetter == "fonttools":
            mp.setattr(wp_fonts, "harfbuzz_subset", None)
        elif fontstamps.subsetter() != "harfbuzz":
            pytest.skip("libharfbuzz-subset (>= 4.1) is not installed on this machine")
        for name in calls:
            method = getattr(wp_fonts.Font, f"_{name}_subset")

            def spy(font, *args, _method=method, _name=name):
                calls[_name] += 1
                rendered.subsets.append((font, font.file_content, args))
                return _method(font, *args)

            mp.setattr(wp_fonts.Font, f"_{name}_subset", spy)
        if epoch_env is None:
            mp.delenv("SOURCE_DATE_EPOCH", raising=False)
        else:
            mp.setenv("SOURCE_DATE_EPOCH", epoch_env)
        with wall_clock(mp, at):
            inputs = load(epoch=None)
            rendered.pdf = build(inputs, HARBOUR_ID, ("pdf",), GuideMaker(inputs)).files["pdf"]
        assert fontstamps.timestamps_kept()  # set up by the PdfMaker, not by this test
    assert calls[subsetter] > 0 and sum(calls.values()) == calls[subsetter], calls
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
    """The render's fonts subset again by WeasyPrint at wall-clock time ``at`` (and
    SOURCE_DATE_EPOCH=epoch): font name -> font file, as it would be embedded."""
    out = {}
    for font, source, args in rendered.subsets:
        font.file_content = source
        with pytest.MonkeyPatch.context() as mp, wall_clock(mp, at):
            if epoch is None:
                mp.delenv("SOURCE_DATE_EPOCH", raising=False)
            else:
                mp.setenv("SOURCE_DATE_EPOCH", epoch)
            getattr(font, f"_{subsetter}_subset")(*args)
        out[font.name.decode().split("+", 1)[-1]] = font.file_content
    return out


def stamp(program: bytes) -> int:
    """A font file's head.modified (seconds since 1904)."""
    return TTFont(io.BytesIO(program))["head"].modified


@pytest.fixture(scope="module")
def fonttools_renders() -> dict[str, Rendered]:
    return {"now": render("fonttools", CLOCK),
            "later, epoch set": render("fonttools", LATER, epoch_env=EPOCH)}


@pytest.fixture(scope="module")
def harfbuzz_render() -> Rendered:
    return render("harfbuzz", CLOCK)


def test_fonttools_path_gives_the_same_bytes_at_any_time_with_or_without_the_epoch(
        fonttools_renders):
    assert fonttools_renders["now"].pdf == fonttools_renders["later, epoch set"].pdf


def test_without_the_fix_the_fonttools_subsets_carry_the_wall_clock(fonttools_renders,
                                                                    monkeypatch):
    """The failure the fix prevents: WeasyPrint's fontTools subsetting of the render's
    fonts, run again at other clock times, with and without fontstamps.py."""
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


def test_harfbuzz_subsets_do_not_depend_on_the_clock_or_the_epoch(harfbuzz_render):
    embedded = font_programs(harfbuzz_render.pdf)
    assert resubset(harfbuzz_render, "harfbuzz", LATER, EPOCH) == embedded


def test_each_path_keeps_the_source_fonts_own_timestamp(fonttools_renders,
                                                        harfbuzz_render):
    """HarfBuzz copies ``head`` dates from the source font; fontTools now does too."""
    kept = {name: stamp(program)
            for name, program in font_programs(harfbuzz_render.pdf).items()}
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


def test_the_two_subsetters_differ_only_in_the_embedded_font_files(fonttools_renders,
                                                                     harfbuzz_render):
    """Not identical across machines with and without libharfbuzz-subset: HarfBuzz and
    fontTools write different font programs from the same glyphs (fontTools keeps the
    FFTM table and recomputes bounding boxes, maxp and code page ranges; HarfBuzz
    renumbers composite glyphs' components).  Everything else in the file is equal."""
    hb, ft = harfbuzz_render.pdf, fonttools_renders["now"].pdf
    assert hb != ft
    assert _objects(hb) == _objects(ft)
    hb_fonts, ft_fonts = font_programs(hb), font_programs(ft)
    assert hb_fonts.keys() == ft_fonts.keys()
    assert all(hb_fonts[name] != ft_fonts[name] for name in hb_fonts)


def test_ics_bytes_do_not_depend_on_the_clock(monkeypatch):
    """Every example athlete's ICS, SOURCE_DATE_EPOCH unset, at two clock times (the real
    clock also passes a second boundary, for readers of ``datetime.now()``)."""
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)

    def calendars(at: float) -> dict[str, bytes]:
        with pytest.MonkeyPatch.context() as mp, wall_clock(mp, at):
            inputs = load(epoch=None)
            return {a.id: make_ics(plan_of(inputs, a.id), context(None))
                    for a in inputs.athletes}

    first = calendars(CLOCK)
    second_now = int(time.time())
    while int(time.time()) == second_now:
        time.sleep(0.05)
    second = calendars(LATER)
    assert len(first) > 1 and first == second
