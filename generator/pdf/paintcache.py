"""Paint a repeated page once per worker and replay its drawing in every PDF.

The fast path (fastpdf.py) reuses the *layout* of the pages that repeat across
athletes (shared modules, closing pages), but WeasyPrint still paints every
page of every PDF: it walks the boxes, re-shapes each line with Pango and
formats thousands of drawing operators.  For a page whose content and margins
are the same objects as last time, that work gives the same operators.

So the first time such a page is written, it is painted into an isolated
stream (its own font, resource and image tables), and the result is kept with
the page: the content stream's bytes and what painting added to the PDF's
shared state (fonts and the glyphs used, transparency states, tagged-content
ids).  Later PDFs append the bytes and merge that state in the order painting
would have, which gives the same file as painting again
(tests/test_fastpdf.py compares the bytes with the cache on and off).

A page is replayed only where that equivalence is certain; otherwise it is
painted as usual: pages with images, patterns, shadings, groups or numbered
graphics states (their resource names depend on the rest of the PDF), glyphs
missing from their font, a font the PDF has not used before this page (its
entry is created from the live Pango font), or a glyph whose width the PDF
already holds with a different rounding (text positions use the first width
recorded in the PDF).
"""

from __future__ import annotations

import functools
import re

# transparency states are named by their value (weasyprint/pdf/stream.py), so
# they mean the same in every PDF; "s<N>" states are numbered per PDF
_ALPHA_STATE = re.compile(r"[aA][0-9.e+-]+\Z")

enabled = True  # tests turn it off to compare the bytes
# per worker: pages painted alone to be kept, kept records that cannot be replayed,
# replays, and replays refused at write time (the page was painted as usual)
counts = {"recorded": 0, "unreplayable": 0, "replayed": 0, "refused": 0}


class _Painted:
    """What painting one page wrote and added to the PDF's shared tables."""

    __slots__ = ("ops", "fonts", "states", "tags_before", "tags", "data")

    def __init__(self, ops, fonts, states, tags_before, tags):
        self.ops = ops  # the page's operators, serialised (None: nothing drawn)
        self.fonts = fonts  # font key -> (widths, to_unicode) of the glyphs used
        self.states = states  # [(name, state)] in first-use order
        self.tags_before = tags_before  # marked content ids already taken by links
        self.tags = tags  # [(box, {"tag", "mcid"})] or None when untagged
        self.data = {}  # the stream's start -> the whole stream, serialised (pdf.py)


def attach(page, content, frame) -> None:
    """Replay the painting of ``page``: ``content``'s boxes with ``frame``'s margins."""
    if enabled:
        records = content.__dict__.setdefault("guidegen_painted", {})
        page.paint = functools.partial(_paint, page, records, frame)


def _paint(page, records: dict, frame, stream, scale=1) -> None:
    key = (id(frame), scale)
    found = records.get(key)
    if found is None:  # the frame is kept with its record, so its id is not reused
        found = records[key] = (frame, _record(page, stream, scale))
        counts["recorded" if found[1] else "unreplayable"] += 1
    painted = found[1]
    if painted is not None and _replay(painted, stream):
        counts["replayed"] += 1
        return
    counts["refused"] += painted is not None
    type(page).paint(page, stream, scale)


def _record(page, stream, scale) -> _Painted | None:
    import pydyf

    tags = None if stream._tags is None else dict(stream._tags)
    resources = pydyf.Dictionary({
        "ExtGState": pydyf.Dictionary(), "XObject": pydyf.Dictionary(),
        "Pattern": pydyf.Dictionary(), "Shading": pydyf.Dictionary(),
        "ColorSpace": stream._resources["ColorSpace"]})
    alone = stream.clone(fonts={}, resources=resources, images={}, tags=tags)
    alone._ctm_stack = list(stream._ctm_stack)
    type(page).paint(page, alone, scale)

    states = resources["ExtGState"]
    if (alone._images or resources["XObject"] or resources["Pattern"]
            or resources["Shading"] or not all(map(_ALPHA_STATE.match, states))
            or any(font.missing or font.used_in_forms for font in alone._fonts.values())):
        return None
    new_tags = None
    if tags is not None:
        new_tags = [(box, value) for box, value in tags.items() if box not in stream._tags]
        if any(box is page._page_box for box, _ in new_tags):  # a copy per PDF
            return None
    ops = b"\n".join(pydyf._to_bytes(op) for op in alone.stream) if alone.stream else None
    # not the Font objects: each holds its whole font file (~0.7 MB) and pointers into
    # Pango that live only as long as the layouts using them
    fonts = {key: (font.widths, font.to_unicode) for key, font in alone._fonts.items()}
    return _Painted(ops, fonts, list(states.items()),
                    None if tags is None else len(stream._tags), new_tags)


def _replay(painted: _Painted, stream) -> bool:
    if (stream._tags is None) != (painted.tags is None) or (
            painted.tags is not None and len(stream._tags) != painted.tags_before):
        return False
    fonts = stream._fonts
    for key, (widths, _text) in painted.fonts.items():  # decide before changing anything
        held = fonts.get(key)
        if held is None:  # a font this PDF has not used yet: WeasyPrint creates it
            return False
        held = held.widths
        if any(held.get(glyph, width) != width for glyph, width in widths.items()):
            return False
    if painted.ops is not None:
        stream.stream.append(painted.ops)
    for key, (widths, text) in painted.fonts.items():  # as painting does: first use wins
        held = fonts[key]
        for glyph, width in widths.items():
            held.widths.setdefault(glyph, width)
        for glyph, chars in text.items():
            held.to_unicode.setdefault(glyph, chars)
    states = stream._resources["ExtGState"]
    for name, state in painted.states:
        if name not in states:
            states[name] = state
    for box, value in painted.tags or ():
        stream._tags[box] = dict(value)
    stream.guidegen_painted = painted
    return True

