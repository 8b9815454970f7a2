"""Measures WeasyPrint takes again and again from the same style, taken once per worker.

Two steps of laying a page out are pure functions of a box's style and a few numbers, and
with styles kept across guides (styles.py) the same style object comes back in every
guide of a batch:

- **A box's used margins, paddings, borders and sizes** (``resolve_percentages``): every
  box, each time it is laid out, turns its style's lengths and percentages into numbers
  against its containing block's width and height. The numbers follow from the style, the
  containing block's width and height, and whether the box is a page; they are noted with
  those as the key and set again on a later box. A style whose borders collapse (tables)
  is never noted: there the borders are the box's own, worked out with its neighbours.
- **The width of a line of text when the layout asks how wide content could be**
  (``split_first_line`` called from ``layout/preferred.py``: tables, flex items, floats,
  inline blocks, which try every word as a line of its own): only the width and where the
  next line starts are used there, and they follow from the text, the style, the width
  allowed, the justification and whether the line starts a line box.

Both are keyed by the style object itself (held, so that its id names it), only for a
style that outlives its document (kept by styles.py, or the style of anonymous boxes under
a kept one: a note on any other would hold a whole document's styles for nothing) and
only inside :func:`measuring` (the batch's fast path). WeasyPrint changes a style in place only once
it has copied it, or where every box of that style gets the same change before it is laid
out, so a style's measures do not go stale. tests/test_measures.py compares the bytes
with the measures on and off.
"""

from __future__ import annotations

from collections import OrderedDict

from generator.pdf import internals, styles
from generator.pdf.scope import Scope

enabled = True  # tests turn it off to compare the bytes
counts = {"noted": 0, "reused": 0}
LIMIT = 20_000  # measures kept per worker and per kind, the least recently used dropped

# what resolve_percentages sets on a box
USED = ("margin_top", "margin_right", "margin_bottom", "margin_left",
        "padding_top", "padding_right", "padding_bottom", "padding_left",
        "border_top_width", "border_right_width", "border_bottom_width", "border_left_width",
        "width", "min_width", "max_width", "height", "min_height", "max_height")
# the modules that call resolve_percentages by the name they imported
CALLERS = ("weasyprint.layout.absolute", "weasyprint.layout.block",
           "weasyprint.layout.column", "weasyprint.layout.float", "weasyprint.layout.grid",
           "weasyprint.layout.inline", "weasyprint.layout.page", "weasyprint.layout.table")

_used: OrderedDict = OrderedDict()  # (id(style), page?, cb width, cb height) -> (style, values)
_widths: OrderedDict = OrderedDict()  # (text, id(style), ...) -> (style, resume index, width)
# ``with measuring():`` measures taken inside are noted, and those noted before reused
measuring = Scope()


def install() -> bool:
    """Take the two measures through the notes (once per process); False when the
    internals it needs (``internals.MEASURES_NEEDED``) are missing: then none is noted."""
    if internals.missing(internals.MEASURES_NEEDED):
        return False
    import importlib

    from weasyprint.formatting_structure.boxes import Box, PageBox
    from weasyprint.layout import percent, preferred

    if getattr(percent.resolve_percentages, "guidegen", False):
        return True
    plain_used = percent.resolve_percentages
    plain_split = preferred.split_first_line

    def resolve_percentages(box, containing_block):
        style = box.style
        if not (enabled and measuring.on) or style["border_collapse"] == "collapse":
            return plain_used(box, containing_block)
        if isinstance(containing_block, Box):
            width, height = containing_block.width, containing_block.height
        else:
            width, height = containing_block
        key = (id(style), isinstance(box, PageBox), width, height)
        found = _used.get(key)
        if found is not None and found[0] is style:
            counts["reused"] += 1
            _used.move_to_end(key)
            for name, value in zip(USED, found[1], strict=True):
                setattr(box, name, value)
            return None
        plain_used(box, containing_block)
        if styles.lasting(style):
            _note(_used, key, (style, tuple(getattr(box, name) for name in USED)))
        return None

    def split_first_line(text, style, context, max_width, justification_spacing,
                         is_line_start=True, minimum=False):
        if not (enabled and measuring.on):
            return plain_split(text, style, context, max_width, justification_spacing,
                               is_line_start, minimum)
        key = (text, id(style), max_width, justification_spacing, is_line_start, minimum)
        found = _widths.get(key)
        if found is not None and found[0] is style:
            counts["reused"] += 1
            _widths.move_to_end(key)
            return None, None, found[1], found[2], None, None  # all preferred.py reads
        line = plain_split(text, style, context, max_width, justification_spacing,
                           is_line_start, minimum)
        if styles.lasting(style):
            _note(_widths, key, (style, line[2], line[3]))
        return line

    resolve_percentages.guidegen = True
    percent.resolve_percentages = resolve_percentages  # layout/flex.py calls it so
    for name in CALLERS:
        module = importlib.import_module(name)
        if getattr(module, "resolve_percentages", None) is plain_used:
            module.resolve_percentages = resolve_percentages
    preferred.split_first_line = split_first_line
    return True


def _note(notes: OrderedDict, key, value) -> None:
    notes[key] = value
    counts["noted"] += 1
    if len(notes) > LIMIT:
        notes.popitem(last=False)
