"""Each font subset once per worker: one superset program shared by every guide it covers.

Subsetting a font for every guide costs a HarfBuzz subset and a level-9 zlib compression
of the result, per font, per guide, although guides in a batch draw from nearly the same
characters.  So each font is subset once to a *superset*: the glyphs of every character
in ``REPERTOIRE`` (the Latin letters, digits, punctuation and symbols that the guides of
all the languages guidegen ships are written in, and that runners' names mostly use),
closed over the font's default substitutions (ligatures, contextual forms), as HarfBuzz's
subset plan computes them.  A guide whose glyphs all lie in that set embeds the superset
program; a guide with any other glyph (a CJK name, an emoji, a missing glyph) pays a subset
of its own, exactly as before.

The rule is a pure function of the font file and the glyphs a guide uses: the superset
depends on no roster, content, worker or order, so a guide has the same bytes in a batch,
a shard or ``guidegen guide``, on any machine (the superset comes from the pinned uharfbuzz,
like every subset, fontsubset.py).  :class:`FontPrograms` (one per PdfMaker, i.e. per
worker) only remembers the work: the superset, its program, and the program's serialised
and compressed PDF stream (maker.py asks :func:`stream_data` while writing).  Without a
``FontPrograms`` (a font subset outside a PdfMaker's write) the same program is computed
again.  Text extraction is unaffected: widths and the ToUnicode map come from the glyphs
the guide used, not from the font program.
"""

from __future__ import annotations

import hashlib

# (first, last) code points, inclusive: ASCII, Latin-1, Latin Extended-A (es, de, en and
# most European names), general punctuation, the euro and trade marks, arrows
REPERTOIRE = ((0x20, 0x7E), (0xA0, 0xFF), (0x2010, 0x2027), (0x2030, 0x203A),
              (0x20AC, 0x20AC), (0x2122, 0x2122), (0x2190, 0x2193))
# larger font files (CJK, emoji) are always subset to the glyphs each guide uses: their
# guides rarely repeat a glyph set, and a superset of such a font would be most of it
MAX_FONT_BYTES = 4 * 2**20


def eligible(data: bytes, notdef_outline: bool) -> bool:
    """Whether a font may be embedded as its superset program (a pure rule)."""
    return not notdef_outline and len(data) <= MAX_FONT_BYTES


def superset_glyphs(hb, data: bytes, index: int) -> frozenset[int]:
    """The glyph ids of ``REPERTOIRE`` in this font, closed over its default features."""
    subset_input = hb.SubsetInput()
    for first, last in REPERTOIRE:
        subset_input.unicode_set.add_range(first, last)
    subset_input.flags = hb.SubsetFlags.RETAIN_GIDS
    try:
        plan = hb.SubsetPlan(hb.Face(data, index), subset_input)
    except RuntimeError:  # HarfBuzz could not plan it: every guide subsets on its own
        return frozenset()
    return frozenset(plan.old_to_new_glyph_mapping.keys())


class _Font:
    __slots__ = ("source", "glyphs", "program", "streams")

    def __init__(self, source: bytes, glyphs: frozenset[int], program: bytes | None):
        self.source = source  # the whole font file, to tell fonts of the same size apart
        self.glyphs = glyphs
        self.program = program  # the superset subset (None: HarfBuzz could not subset it)
        self.streams: dict = {}  # (compress, extra) -> the serialised PDF stream


class FontPrograms:
    """Per worker: each font's superset and its program, computed once."""

    def __init__(self):
        self._fonts: dict[tuple, _Font] = {}
        self._by_program: dict[int, _Font] = {}  # id(program) -> its font (kept alive)
        self.counts = {"supersets": 0, "covered": 0, "own": 0}

    def find(self, data: bytes, index: int, hinting: bool) -> _Font | None:
        found = self._fonts.get((len(data), index, bool(hinting),
                                 hashlib.blake2b(data[:4096], digest_size=16).digest()))
        return found if found is not None and found.source == data else None

    def add(self, data: bytes, index: int, hinting: bool, glyphs: frozenset[int],
            program: bytes | None) -> _Font:
        font = _Font(data, glyphs, program)
        self._fonts[(len(data), index, bool(hinting),
                     hashlib.blake2b(data[:4096], digest_size=16).digest())] = font
        self.counts["supersets"] += 1
        if program is not None:
            self._by_program[id(program)] = font
        return font

    def stream_data(self, stream, serialise) -> bytes | None:
        """The PDF bytes of a font file ``stream`` holding a superset program, serialised
        (and compressed) once per worker; None for any other stream."""
        content = stream.stream
        if len(content) != 1:
            return None
        font = self._by_program.get(id(content[0]))
        if font is None or font.program is not content[0]:
            return None
        key = (stream.compress, repr(stream.extra))
        if key not in font.streams:
            font.streams[key] = serialise(stream)
        return font.streams[key]


active: FontPrograms | None = None  # the PdfMaker's, while it writes a PDF (maker.py)
