"""A line of text painted once per worker, then written again from what painting it did.

WeasyPrint paints each line of text (a text box) by setting its Pango layout up again,
shaping it and formatting every glyph: most of a page's painting.  The guides of a batch
share most of their lines (the same modules, in the same fonts), and a line's operators
follow from what shaped it: its text, the style properties Pango is given
(weasyprint/text/line_break.py ``Layout.setup`` and ``set_text``), its justification, the
font configuration, and, for the gaps between glyphs, the widths the PDF has already
recorded for those glyphs.

So the first time a line is painted (in a batch's fast path, :func:`recording`) it is
painted alone into a scratch stream whose fonts hold no glyph yet, and its text operators
are noted (the fonts chosen, the ``Tf`` sizes, the ``TJ`` strings) with every glyph it
used: its width and the text it stands for.  Then, and whenever the same line is painted
again, in this PDF or another one, those operators are written at its own position
through the stream's own methods (so its colour, text objects and current font follow as
painting would have them), and its glyphs are registered with the PDF's fonts as painting
does (a glyph's first width and text in a PDF are the ones kept).

A line is written from its record only where that is certain to give the same bytes; it
is painted as usual when its PDF has not used one of its fonts yet, or holds one of its
glyphs with another width, and it is never recorded when it has decorations, emoji, a
raised glyph, a glyph its font lacks, a bitmap font, an ellipsis or nothing visible.
tests/test_shaped.py compares the bytes with records on and off, and a batch's guides are
the same bytes as ``guidegen guide``'s, which paints every line (tests/test_fastpdf.py).
"""

from __future__ import annotations

import re
from collections import OrderedDict

from generator.pdf import internals
from generator.pdf.scope import Scope

enabled = True  # tests turn it off to compare the bytes
counts = {"recorded": 0, "written": 0, "painted": 0}
LIMIT = 10_000  # lines kept per worker, the least recently used dropped first

# what Layout.setup and set_text give Pango, besides the text
_SHAPING = ("direction", "font_language_override", "lang", "font_family", "font_style",
            "font_stretch", "font_weight", "font_size", "font_variant_caps",
            "font_variation_settings", "font_kerning", "font_variant_ligatures",
            "font_variant_position", "font_variant_numeric", "font_variant_alternates",
            "font_variant_east_asian", "font_feature_settings", "word_spacing",
            "letter_spacing", "overflow_wrap", "tab_size")
_HEX = re.compile(r"<([0-9a-f]*)>")
# key -> (operators, glyphs), or None: painted as usual. Operators are ("tm",),
# ("tf", font key, size) and ("tj", string), in order; glyphs are (font key, glyph ids,
# their widths, the text each stands for) per font, as tuples: a few kB a line at most,
# and nothing the collector keeps tracking
_records: OrderedDict = OrderedDict()
_scratch: dict = {}  # font configuration -> the fonts lines are recorded with
# ``with recording():`` lines painted inside are recorded and written from their records
# (the fast path of a batch: a guide alone has too few lines in common to pay for it)
recording = Scope()


def install() -> bool:
    """Paint text through the records (once per process); False when the internals it
    needs (``internals.SHAPING_NEEDED``) are missing: then every line is painted."""
    if internals.missing(internals.SHAPING_NEEDED):
        return False
    from weasyprint import draw

    if getattr(draw.draw_text, "guidegen", False):
        return True
    plain = draw.draw_text

    def draw_text(stream, textbox, offset_x, text_overflow, block_ellipsis="none"):
        key = _key(textbox, text_overflow, block_ellipsis) if enabled and recording.on else None
        if key is None:
            counts["painted"] += 1
            return plain(stream, textbox, offset_x, text_overflow, block_ellipsis)
        try:
            found = _records.get(key, False)
        except TypeError:  # a property value that cannot be a key: painted as usual
            counts["painted"] += 1
            return plain(stream, textbox, offset_x, text_overflow, block_ellipsis)
        if found is False:
            found = _records[key] = _record(plain, stream, textbox, offset_x, text_overflow)
            if len(_records) > LIMIT:
                _records.popitem(last=False)
        else:
            _records.move_to_end(key)
        if found is None or not _write(found, stream, textbox):
            counts["painted"] += 1
            plain(stream, textbox, offset_x, text_overflow, block_ellipsis)

    draw_text.guidegen = True
    draw.draw_text = draw_text
    return True


def _key(textbox, text_overflow, block_ellipsis):
    """What shapes ``textbox``'s line, or None: a line never recorded."""
    style = textbox.style
    if (text_overflow == "ellipsis" or block_ellipsis != "none"
            or style["visibility"] != "visible" or style["text_decoration_line"] != "none"
            or style["font_size"] < 1e-6 or not textbox.text.strip()):
        return None
    layout = textbox.pango_layout
    return (layout.text, layout.justification_spacing, style.font_config,
            *(_hashable(style[name]) for name in _SHAPING))


def _hashable(value):
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value


def _record(plain, stream, textbox, offset_x, text_overflow) -> tuple | None:
    """Paint ``textbox`` alone, into a scratch stream whose fonts hold no glyph yet, noting
    its text operators and every glyph it used: its width and the text it maps to."""
    import pydyf
    from weasyprint.text.fonts import get_pango_font_key

    counts["recorded"] += 1
    fonts = _scratch.setdefault(textbox.style.font_config, {})  # key -> Font, kept
    for font in fonts.values():  # as a PDF's fonts are before their first glyph
        font.widths.clear()
        font.to_unicode.clear()
        font.missing.clear()
    resources = pydyf.Dictionary({
        "ExtGState": pydyf.Dictionary(), "XObject": pydyf.Dictionary(),
        "Pattern": pydyf.Dictionary(), "Shading": pydyf.Dictionary(),
        "ColorSpace": stream._resources["ColorSpace"]})
    alone = stream.clone(fonts=fonts, resources=resources, images={}, tags=None)
    ops, keys, raised = [], {}, []

    def add_font(pango_font):
        font, size = type(alone).add_font(alone, pango_font)
        keys[font.hash] = get_pango_font_key(pango_font)[0]
        return font, size

    def set_font_size(font, size):
        ops.append(("tf", keys.get(font), size))
        type(alone).set_font_size(alone, font, size)

    def set_text_matrix(*values):
        ops.append(("tm",))

    def show_text(text):
        ops.append(("tj", text))

    def set_text_rise(height):
        raised.append(height)

    vars(alone).update(add_font=add_font, set_font_size=set_font_size,
                       set_text_matrix=set_text_matrix, show_text=show_text,
                       set_text_rise=set_text_rise)
    plain(alone, textbox, offset_x, text_overflow, "none")
    if (raised or alone._images or resources["XObject"] or resources["Pattern"]
            or resources["Shading"] or ops[:1] != [("tm",)]
            or any(op[0] == "tf" and op[1] is None for op in ops)):
        return None
    glyphs: dict = {}  # font key -> ({glyph: width}, {glyph: text})
    for op in ops[1:]:
        if op[0] == "tf":
            font = fonts[op[1]]
            if font.bitmap or font.png or font.svg or font.colr or font.missing:
                return None
            widths, texts = glyphs.setdefault(op[1], ({}, {}))
            continue
        for run in _HEX.findall(op[1]):
            for i in range(0, len(run), 4):
                glyph = int(run[i:i + 4], 16)
                widths[glyph], texts[glyph] = font.widths[glyph], font.to_unicode[glyph]
    return tuple(ops), tuple((key, tuple(widths), tuple(widths.values()),
                              tuple(texts.values())) for key, (widths, texts) in glyphs.items())


def _write(line: tuple, stream, textbox) -> bool:
    """Write ``line``'s operators for ``textbox`` into ``stream`` and register its glyphs,
    if that gives what painting it would; False (nothing changed) otherwise."""
    ops, glyphs = line
    fonts = stream._fonts
    for key, ids, widths, _texts in glyphs:  # decide before changing anything
        font = fonts.get(key)
        if font is None:  # a font this PDF has not used yet: WeasyPrint creates it
            return False
        held = font.widths
        if any(held.get(glyph, width) != width for glyph, width in zip(ids, widths, strict=True)):
            return False
    stream.set_color(textbox.style["color"])
    stream.begin_text()
    for op in ops:
        if op[0] == "tj":
            stream.show_text(op[1])
        elif op[0] == "tf":
            stream.set_font_size(fonts[op[1]].hash, op[2])
        else:
            stream.set_text_matrix(*text_matrix(textbox))
    stream.end_text()
    for key, ids, widths, texts in glyphs:  # as painting does: a glyph's first use wins
        held, mapped = fonts[key].widths, fonts[key].to_unicode
        for glyph, width, text in zip(ids, widths, texts, strict=True):
            held.setdefault(glyph, width)
            mapped.setdefault(glyph, text)
    counts["written"] += 1
    return True


def text_matrix(textbox) -> tuple:
    """The text matrix painting ``textbox`` sets (weasyprint/draw/text.py draw_text)."""
    from weasyprint.matrix import Matrix

    return Matrix(d=-1, e=textbox.position_x, f=textbox.position_y + textbox.baseline).values
