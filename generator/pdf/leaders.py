"""The dots of a ``leader()`` written as painting them would, without shaping each again.

WeasyPrint lays a leader out as one text box per dot, copies of one box (the same text,
style and Pango layout, each at its own x), and paints each as any text: Pango
reactivated, the line shaped, every glyph looked up and formatted.  The contents page
has about fifty dots a line, a thousand a page, and painting it cost as much as four
body pages (0.049 s against 0.012 s a page, benchmarks/profile.py's guides).

Painting a dot after the first appends the same operators each time but for its text
matrix (``Tm``, where its x is), and leaves the stream as it found it.  So the first
two dots are painted as usual and the second is watched: if it took off the text
object the first one closed (WeasyPrint joins adjacent text objects) and appended its
``Tm``, operators that do not depend on x and an ``ET``, and left every other attribute
of the stream as it was, each further dot is written as those operators with its own
``Tm``.  Anything else (a decoration, an emoji, marked content, a colour that changes,
boxes that are not copies of one) is painted dot by dot, as before.  The bytes are the
same either way (tests/test_leaders.py).
"""

from __future__ import annotations

from generator.pdf.shaped import text_matrix

enabled = True  # tests turn it off to compare the bytes
counts = {"written": 0, "painted": 0}  # leaders written from their second dot, or painted


def draw(stream, page, box, plain, offset_x=0, text_overflow="clip",
         block_ellipsis="none") -> None:
    """``plain(stream, page, box, ...)`` (WeasyPrint's draw_inline_level) for a leader
    box, with its dots after the second written from the second's operators."""
    children = box.children
    if not (enabled and len(children) > 2 and block_ellipsis == "none"
            and text_overflow != "ellipsis" and _copies(children)):
        counts["painted"] += 1
        return plain(stream, page, box, offset_x, text_overflow, block_ellipsis)
    box.children = children[:1]  # the box's own background and border, its first dot
    try:
        plain(stream, page, box, offset_x, text_overflow, block_ellipsis)
    finally:
        box.children = children
    items, second = stream.stream, children[1]
    end, state = len(items) - 1, _state(stream)
    closed = end >= 0 and items[end] == b"ET"
    _paint_dot(stream, box, second, offset_x, text_overflow)
    tail = items[end:]
    if not (closed and len(tail) > 1 and tail[0] == _matrix(stream, second)
            and tail[-1] == b"ET" and _state(stream) == state):
        counts["painted"] += 1
        for dot in children[2:]:
            _paint_dot(stream, box, dot, offset_x, text_overflow)
        return
    counts["written"] += 1
    middle = tail[1:-1]
    for dot in children[2:]:  # what painting it gives, as tail shows (see above)
        stream.begin_text()  # takes off the last dot's ET, its font state back
        stream.set_text_matrix(*text_matrix(dot))
        items.extend(middle)
        stream.end_text()


def _paint_dot(stream, box, dot, offset_x, text_overflow) -> None:
    """One dot as WeasyPrint's draw_inline_level paints a text box inside ``box``
    (never the last of a leader drawn here: no ellipsis)."""
    from weasyprint import draw

    with stream.marked(dot, "Span"):
        draw.draw_text(stream, dot, offset_x + dot.position_x - box.position_x,
                       text_overflow, "none")


def _copies(children) -> bool:
    """Every dot a copy of the first: the same kind of box, text, style and Pango layout,
    on the same baseline."""
    from weasyprint.formatting_structure.boxes import TextBox

    first = children[0]
    return type(first) is TextBox and all(
        type(dot) is TextBox and dot.text == first.text and dot.style is first.style
        and dot.pango_layout is first.pango_layout and dot.position_y == first.position_y
        and dot.baseline == first.baseline for dot in children)


def _matrix(stream, dot) -> bytes:
    """The ``Tm`` operator ``stream`` writes for ``dot``."""
    import pydyf

    probe = pydyf.Stream(compress=stream.compress)
    probe.set_text_matrix(*text_matrix(dot))
    return probe.stream[0]


def _state(stream) -> dict:
    """The stream's attributes but its operators: values, and containers by identity
    and size (painting a dot only ever adds to them)."""
    return {name: (id(value), len(value)) if isinstance(value, (dict, list, set))
            else value for name, value in vars(stream).items() if name != "stream"}
