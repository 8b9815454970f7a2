"""Embedded fonts subset the same way on every machine: HarfBuzz from the uharfbuzz wheel.

WeasyPrint 70 subsets each embedded font (``weasyprint.pdf.fonts.Font.subset``) with
the system's ``libharfbuzz-subset0`` when it loads (>= 4.1), else with fontTools.  The
two write different font programs, and two HarfBuzz releases may too, so the same
guide's PDF bytes depended on what the machine had installed.

:func:`subset_with_uharfbuzz` replaces ``Font.subset`` by :func:`subset`, which does
what WeasyPrint's ``Font._harfbuzz_subset`` does, call for call, on the HarfBuzz that
the pinned ``uharfbuzz`` wheel bundles (pyproject.toml) instead of the system's:

1. keep the used glyph ids with ``RETAIN_GIDS | PASSTHROUGH_UNRECOGNIZED |
   DESUBROUTINIZE`` (``| NOTDEF_OUTLINE`` when some character has no glyph), dropping
   the ``DROPPED`` tables on top of HarfBuzz's default drop set;
2. subset that result again with the same input, its glyph set grown to every id up to
   the highest used one (the empty glyphs after it go), flags ``PASSTHROUGH_UNRECOGNIZED
   | DESUBROUTINIZE`` (``| NO_HINTING`` unless hinting, ``| NOTDEF_OUTLINE`` as above);
3. store the result's bytes as ``Font.file_content``, the only attribute WeasyPrint's
   step sets (widths and the ToUnicode map come from layout, not from the subset); if
   HarfBuzz fails, log WeasyPrint's warning and keep the whole font, as WeasyPrint does.

The face subset is built from ``Font.file_content`` and ``Font.index`` (the font file
Pango loaded, the same bytes WeasyPrint embeds when it does not subset) rather than
from Pango's own ``hb_face``, which belongs to the system HarfBuzz.  Everything after
the subset step (variable fonts made static, colour glyphs blanked, both through
fontTools, fontstamps.py) is WeasyPrint's, unchanged.

A font whose superset program (fontcache.py: the glyphs of the Latin repertoire every
shipped language uses, subset once per worker) holds every glyph a guide uses is embedded
as that program, the same bytes in every such guide; any other guide gets the subset
above of its own glyphs.  Which of the two a guide gets depends only on the font and
its glyphs, so it is the same in a batch, a shard or ``guidegen guide``.

Falls back to WeasyPrint's own ``Font.subset``: when uharfbuzz does not import (checked
at every call, so the fallback is the real one), or, nothing patched, when the installed
WeasyPrint lacks a name in ``internals.SUBSET_NEEDED``.
"""

from __future__ import annotations

import importlib
import logging

from generator.pdf import fontcache, fontstamps, internals

MODULE = "weasyprint.pdf.fonts"
# the tables WeasyPrint 70's _harfbuzz_subset drops (fontTools' path drops GSUB, GPOS, SVG)
DROPPED = ("BASE", "DSIG", "EBDT", "EBLC", "EBSC", "GPOS", "GSUB", "JSTF", "LTSH", "PCLT",
           "SVG ")
LOGGER = logging.getLogger("weasyprint")  # WeasyPrint's logger: its warnings, its level


def _uharfbuzz():
    """The uharfbuzz module, or None when it cannot be imported."""
    try:
        import uharfbuzz
    except ImportError:
        return None
    return uharfbuzz


def _tag(name: str) -> int:
    """``hb_tag_from_string``: four characters, big-endian."""
    return int.from_bytes(name.encode("latin-1"), "big")


def subset_font(hb, data: bytes, index: int, glyphs, hinting: bool,
                notdef_outline: bool) -> bytes | None:
    """WeasyPrint 70's two-pass HarfBuzz subset of one font file, on ``hb`` (uharfbuzz).

    ``glyphs`` are the glyph ids used (WeasyPrint's ``to_unicode`` keys); returns the
    subset font file, or None when HarfBuzz cannot subset it.
    """
    flags = hb.SubsetFlags
    extra = flags.NOTDEF_OUTLINE if notdef_outline else flags.DEFAULT
    face = hb.Face(data, index)
    subset_input = hb.SubsetInput()
    subset_input.glyph_set.update(sorted(glyphs))
    subset_input.flags = (flags.RETAIN_GIDS | flags.PASSTHROUGH_UNRECOGNIZED
                          | flags.DESUBROUTINIZE | extra)
    subset_input.sets(hb.SubsetInputSets.DROP_TABLE_TAG).update(_tag(t) for t in DROPPED)
    try:
        face = hb.subset(face, subset_input)
        # drop the empty glyphs after the last one used: same input, ids 0..max kept
        subset_input.glyph_set.add_range(0, max(glyphs))
        subset_input.flags = (flags.PASSTHROUGH_UNRECOGNIZED | flags.DESUBROUTINIZE | extra
                              | (flags.DEFAULT if hinting else flags.NO_HINTING))
        face = hb.subset(face, subset_input)
    except RuntimeError:  # hb_subset_or_fail returned NULL
        return None
    return face.blob.data or None


def _program(hb, data: bytes, index: int, glyphs, hinting: bool,
             notdef_outline: bool) -> bytes | None:
    """The font program a guide embeds: the font's superset program when it holds every
    glyph used (fontcache.py, computed once per worker), else a subset of its own."""
    if not fontcache.eligible(data, notdef_outline):
        return subset_font(hb, data, index, glyphs, hinting, notdef_outline)
    cache = fontcache.active
    font = cache.find(data, index, hinting) if cache is not None else None
    if font is None:
        superset = fontcache.superset_glyphs(hb, data, index)
        program = subset_font(hb, data, index, superset, hinting, False) if superset \
            else None
        if cache is not None:
            font = cache.add(data, index, hinting, superset, program)
        elif program is not None and superset.issuperset(glyphs):
            return program
    if font is not None and font.program is not None and font.glyphs.issuperset(glyphs):
        cache.counts["covered"] += 1
        return font.program
    if cache is not None:
        cache.counts["own"] += 1
    return subset_font(hb, data, index, glyphs, hinting, notdef_outline)


def subset_with_uharfbuzz() -> bool:
    """Make WeasyPrint subset every embedded font through uharfbuzz (idempotent).

    Returns True when ``Font.subset`` is ours (patched now or before), False when the
    installed WeasyPrint lacks a name it relies on (then nothing is patched).
    """
    if internals.missing(internals.SUBSET_NEEDED):
        return False
    fonts = importlib.import_module(MODULE)
    if getattr(fonts.Font.subset, "guidegen_plain", None) is not None:
        return True
    plain = fonts.Font.subset

    def subset(self, to_unicode, hinting):
        """Remove unused glyphs and tables from font (guidegen: through uharfbuzz)."""
        if not to_unicode:
            return None
        hb = _uharfbuzz()
        if hb is None:
            return plain(self, to_unicode, hinting)
        data = _program(hb, self.file_content, self.index, to_unicode, hinting,
                        bool(self.missing))
        if data is None:
            LOGGER.warning('Unable to subset "%s" with HarfBuzz', self.family)
        else:
            self.file_content = data
        return None

    subset.guidegen_plain = plain
    fonts.Font.subset = subset
    return True


def subsetter() -> str:
    """Which subsetter runs in this process: "uharfbuzz" (guidegen's, the same bytes on
    every machine), else WeasyPrint's own choice, "harfbuzz" or "fonttools"."""
    try:
        fonts = importlib.import_module(MODULE)
    except ImportError:
        fonts = None
    ours = fonts is not None and getattr(getattr(fonts, "Font", None), "subset", None)
    if getattr(ours, "guidegen_plain", None) is not None and _uharfbuzz() is not None:
        return "uharfbuzz"
    return fontstamps.subsetter()


def fallback_warning() -> str | None:
    """One line for a build or ``guidegen doctor`` when fonts are not subset through
    uharfbuzz (PDF bytes then depend on the machine's libraries), else None."""
    if internals.missing(internals.SUBSET_NEEDED):
        return ("WeasyPrint lacks the font internals guidegen's subsetter uses; fonts are "
                "subset WeasyPrint's own way, so PDF bytes depend on this machine's "
                "HarfBuzz (or fontTools)")
    if _uharfbuzz() is None:
        return ("uharfbuzz is not installed (pip install -e . installs the pinned one); "
                "fonts are subset WeasyPrint's own way, so PDF bytes depend on this "
                "machine's HarfBuzz (or fontTools)")
    return None
