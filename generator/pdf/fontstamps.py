"""Embedded fonts without wall-clock bytes, whichever subsetter WeasyPrint uses.

WeasyPrint 70 subsets each embedded font with HarfBuzz when the system library
``libharfbuzz-subset0`` (>= 4.1) loads (``weasyprint.pdf.fonts.harfbuzz_subset`` is
not None), and with fontTools otherwise.  HarfBuzz copies the source font's ``head``
table dates.  fontTools, on ``TTFont.save``, stamps ``head.modified`` with
``fontTools.misc.timeTools.timestampNow()``: ``SOURCE_DATE_EPOCH`` when set, else the
wall clock, so two builds without the epoch differ (in each font: ``head.modified``,
``head.checkSumAdjustment`` and the ``head`` checksum, 12 bytes).  WeasyPrint also saves
through fontTools, on either subsetting path, when it turns a variable font into a
static one or blanks colour (emoji) glyphs.

:func:`keep_font_timestamps` makes every ``TTFont`` that ``weasyprint.pdf.fonts``
creates default to ``recalcTimestamp=False``, so a saved font keeps its source's
own ``head.modified``, like HarfBuzz's subset: same font file in, same bytes out, at
any time, with or without ``SOURCE_DATE_EPOCH``.  It relies on one name,
``weasyprint.pdf.fonts.TTFont`` (fontTools' class, imported there by name); if a
later release no longer has it, nothing is patched and PDFs are made as before
(tests/test_machine_determinism.py renders through the fontTools path with the clock
moved and fails if the bytes then change).

guidegen itself subsets every font through uharfbuzz (fontsubset.py), the same on
every machine; WeasyPrint's own subsetters, whose two font programs differ, run only
without uharfbuzz.  The fontTools writes above happen on every path, so this patch
matters either way; tests/test_machine_determinism.py holds the evidence.
"""

from __future__ import annotations

# the module and name patched: weasyprint.pdf.fonts does ``from fontTools.ttLib import
# TTFont`` and builds every font it rewrites (subset, instanced, emoji-less) from it
MODULE, NAME = "weasyprint.pdf.fonts", "TTFont"


def _fonts_module():
    import importlib

    try:
        return importlib.import_module(MODULE)
    except ImportError:  # OSError (no Pango) is handled by maker.import_weasyprint first
        return None


def keep_font_timestamps() -> bool:
    """Make WeasyPrint's fontTools writes keep each font's ``head.modified`` (idempotent).

    Returns True when the fonts WeasyPrint writes are free of the wall clock (patched
    now or before), False when the installed WeasyPrint has no ``TTFont`` to patch.
    """
    from fontTools.ttLib import TTFont

    fonts = _fonts_module()
    plain = getattr(fonts, NAME, None) if fonts is not None else None
    if not (isinstance(plain, type) and issubclass(plain, TTFont)):
        return False  # gone, or no longer fontTools' class: leave WeasyPrint alone
    if getattr(plain, "guidegen_keeps_timestamps", False):
        return True

    class TimestampKeepingTTFont(plain):
        """fontTools' TTFont, saved with the source font's ``head.modified``."""

        guidegen_keeps_timestamps = True

        def __init__(self, *args, recalcTimestamp=False, **kwargs):  # noqa: N803 - fontTools
            super().__init__(*args, recalcTimestamp=recalcTimestamp, **kwargs)

    setattr(fonts, NAME, TimestampKeepingTTFont)
    return True


def timestamps_kept() -> bool:
    """True while WeasyPrint's fonts are written without the wall clock."""
    fonts = _fonts_module()
    return bool(getattr(getattr(fonts, NAME, None), "guidegen_keeps_timestamps", False))


def subsetter() -> str:
    """Which subsetter WeasyPrint's own ``Font.subset`` uses in this process, "harfbuzz" or
    "fonttools" (guidegen's replacement, fontsubset.py, reports "uharfbuzz" instead)."""
    fonts = _fonts_module()
    if fonts is None:
        return "fonttools"
    harfbuzz, harfbuzz_subset = (getattr(fonts, "harfbuzz", None),
                                 getattr(fonts, "harfbuzz_subset", None))
    if harfbuzz_subset and harfbuzz is not None and harfbuzz.hb_version_atleast(4, 1, 0):
        return "harfbuzz"
    return "fonttools"
