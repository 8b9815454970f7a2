"""What WeasyPrint 70's PDF tagging leaves undone for PDF/UA, done at the two places where
it decides: while painting (what is marked content and what is an Artifact) and while
building the structure tree (weasyprint/pdf/tags.py).

While painting:

* the page margins (running header, "Page X of Y") are Artifacts of type Pagination
  (Subtype Header or Footer). WeasyPrint marks their text as tagged content whose
  elements it then leaves out of the tree: content that belongs to nothing;
* the dots of ``leader()`` (the contents' dotted lines) are Artifacts, not text a
  screen reader spells out dot by dot (and, from the third, written as the second was
  painted: leaders.py).

While building the tree (each rule is what the HTML already says, carried into the PDF):

* an element with ``role="img"`` and an ``aria-label`` is one ``Figure`` whose ``/Alt`` is
  the label and which owns everything drawn inside it (the drawn timeline), as a browser
  presents it;
* a ``lang`` attribute becomes ``/Lang`` on the element (a name in another script), and
  an inline one in a right-to-left script also gets ``/ActualText``: its text in reading
  order, as the page draws those glyphs right to left;
* a ``th`` gets ``/Scope`` (Row for ``scope="row"``, else Column);
* a link's annotation gets the link's text as ``/Contents`` (not its bare target), and
  the boxes inside a link (``::before``/``::after``, leaders, ``<strong>``) join that
  ``Link`` element instead of nesting a Link per box;
* boxes that draw nothing get no element (no empty Div, Span or NonStruct), and HTML
  elements WeasyPrint does not know are mapped: ``header``/``nav``/``footer``/``aside``
  to Sect, ``figure``/``address`` to Div, phrasing (``strong``, ``em``, ``bdi``...) to Span.

``improve_tags()`` installs this once per process; without the internals it needs
(``internals.TAGGING_NEEDED``) it does nothing and the PDFs are tagged as WeasyPrint does.
Nothing here changes layout or the drawing itself, and everything is deterministic.
tests/test_pdfua.py checks the result with tests/pdfua_checks.py.
"""

from __future__ import annotations

import contextlib
import unicodedata

from generator.pdf import internals, leaders

EXTRA_TAGS = {
    **dict.fromkeys(("header", "nav", "footer", "aside"), "Sect"),
    **dict.fromkeys(("figure", "address"), "Div"),
    **dict.fromkeys(("strong", "em", "b", "i", "bdi", "bdo", "small", "abbr", "time", "mark",
                     "cite", "sub", "sup", "s", "u", "kbd", "samp", "var", "del", "ins"),
                    "Span"),
    "code": "Code", "q": "Quote",
}


def improve_tags() -> bool:
    """Install the tagging rules above (once); False when the internals are missing."""
    if internals.missing(internals.TAGGING_NEEDED):
        return False
    from weasyprint import draw
    from weasyprint.pdf import stream as stream_module
    from weasyprint.pdf import tags

    if getattr(tags._build_box_tree, "guidegen", False):
        return True
    _patch_painting(draw, stream_module.Stream)
    _patch_tree(tags)
    return True


# ----------------------------------------------------------------------------- painting

@contextlib.contextmanager
def _artifact(stream, properties=None):
    """Draw as one Artifact: marked content inside is not tagged (no MCID)."""
    if stream._tags is None:
        yield
        return
    stream.begin_marked_content("Artifact", properties)
    before = getattr(stream, "guidegen_artifact", False)
    stream.guidegen_artifact = True
    try:
        yield
    finally:
        stream.guidegen_artifact = before
        stream.end_marked_content()


def _patch_painting(draw, stream_class) -> None:
    import pydyf
    from weasyprint.formatting_structure.boxes import MarginBox

    plain_marked = stream_class.marked
    plain_context = draw.draw_stacking_context
    plain_inline = draw.draw_inline_level

    @contextlib.contextmanager
    def marked(self, box, tag):
        if getattr(self, "guidegen_artifact", False):
            yield  # inside an Artifact: drawn, not tagged
            return
        with plain_marked(self, box, tag):
            yield

    def draw_stacking_context(stream, stacking_context):
        box = stacking_context.box
        if not isinstance(box, MarginBox):
            return plain_context(stream, stacking_context)
        properties = pydyf.Dictionary({"Type": "/Pagination"})
        if box.at_keyword.startswith(("@top", "@bottom")):
            properties["Subtype"] = "/Header" if box.at_keyword.startswith("@top") \
                else "/Footer"
        with _artifact(stream, properties):
            return plain_context(stream, stacking_context)

    def draw_inline_level(stream, page, box, *args, **kwargs):
        if getattr(box, "is_leader", False):
            with _artifact(stream, pydyf.Dictionary({"Type": "/Layout"})):
                return leaders.draw(stream, page, box, plain_inline, *args, **kwargs)
        return plain_inline(stream, page, box, *args, **kwargs)

    stream_class.marked = marked
    draw.draw_stacking_context = draw_stacking_context
    draw.draw_inline_level = draw_inline_level


# ------------------------------------------------------------------------ the structure

def _patch_tree(tags) -> None:
    import pydyf
    from weasyprint.formatting_structure import boxes
    from weasyprint.layout.absolute import AbsolutePlaceholder

    plain_tag, plain_tree = tags._get_pdf_tag, tags._build_box_tree
    table_boxes = (boxes.TableBox, boxes.TableRowGroupBox, boxes.TableRowBox,
                   boxes.TableCellBox, boxes.TableColumnGroupBox, boxes.TableColumnBox)

    def descendants(box):
        """``box`` and every box inside it, in document order."""
        pending = [box]
        while pending:
            current = pending.pop()
            if isinstance(current, AbsolutePlaceholder):
                current = current._box
            yield current
            if isinstance(current, boxes.ParentBox):
                pending.extend(reversed(current.children))

    replaced_inside: dict[int, bool] = {}  # id(box) -> holds a replaced box; one page's

    def holds_replaced(box) -> bool:
        """``box`` or a box inside it is a replaced box (an image, an SVG).  Worked out for
        a box's whole subtree in one pass, children first, and kept for the page (asking
        each box alone walked its subtree again at every level of nesting)."""
        if id(box) not in replaced_inside:
            order = list(descendants(box))
            for current in reversed(order):  # every box after the boxes inside it
                children = current.children if isinstance(current, boxes.ParentBox) else ()
                replaced_inside[id(current)] = isinstance(current, boxes.ReplacedBox) or any(
                    replaced_inside[id(child._box if isinstance(child, AbsolutePlaceholder)
                                       else child)] for child in children)
        return replaced_inside[id(box)]

    def draws(box, tags_left) -> bool:
        return any(b in tags_left or getattr(b, "link_annotation", None) is not None
                   for b in descendants(box))

    def own_element(box):
        """The HTML element ``box`` is the box of (None for pseudo-elements)."""
        element = box.element
        return element if element is not None and box.element_tag == element.tag else None

    def right_to_left(text: str) -> bool:
        """Text with right-to-left letters: the page draws its glyphs in visual order,
        so the element says its text in reading order (/ActualText)."""
        return any(unicodedata.bidirectional(c) in ("R", "AL") for c in text)

    def get_pdf_tag(tag):
        return EXTRA_TAGS.get(tag) or plain_tag(tag)

    def link_text(element) -> str:
        label = (element.get("aria-label") or "").strip()
        text = label or "".join(element.itertext())
        if not text.strip():
            text = " ".join(img.get("alt") or "" for img in element.iter("img"))
        return " ".join(text.split())

    def objr(annotation, page_number, pdf):
        reference = pydyf.Dictionary({"Type": "/OBJR", "Obj": annotation.reference,
                                      "Pg": pdf.page_references[page_number]})
        pdf.add_object(reference)
        return reference.reference

    def fold(box, owner, pdf, page_number, nums, annotations, tags_left) -> None:
        """Everything ``box`` draws and links belongs to ``owner`` directly."""
        for inner in descendants(box):
            annotation = getattr(inner, "link_annotation", None)
            if annotation is not None and not isinstance(inner, boxes.TextBox):
                annotations.append((owner.reference, annotation))
                owner["K"].append(objr(annotation, page_number, pdf))
            if inner in tags_left:
                mcid = tags_left.pop(inner)["mcid"]
                owner["K"].append(mcid)
                nums[mcid] = owner.reference

    def figure(box, alt, parent, pdf, page_number, nums, annotations, tags_left):
        x, y = box.border_box_x(), box.border_box_y()
        element = pydyf.Dictionary({
            "Type": "/StructElem", "S": "/Figure", "K": pydyf.Array([]),
            "Pg": pdf.page_references[page_number], "P": parent.reference,
            "Alt": pydyf.String(alt),
            "A": pydyf.Dictionary({"O": "/Layout", "BBox": pydyf.Array(
                (x, y, x + box.border_width(), y + box.border_height()))})})
        pdf.add_object(element)
        fold(box, element, pdf, page_number, nums, annotations, tags_left)
        return element

    def build_box_tree(box, parent, pdf, page_number, nums, annotations, tags_left):
        inner = box._box if isinstance(box, AbsolutePlaceholder) else box
        if isinstance(inner, boxes.PageBox):  # a new page: its boxes, new ids
            replaced_inside.clear()
        if isinstance(inner, boxes.MarginBox):
            return  # painted as Pagination artifacts: nothing to tag
        has_replaced = holds_replaced(inner)
        if (parent["S"] == "/Link" and not isinstance(inner, table_boxes)
                and not has_replaced):
            fold(inner, parent, pdf, page_number, nums, annotations, tags_left)
            return
        if not isinstance(inner, table_boxes) and not draws(inner, tags_left):
            return  # no empty Div, Span or NonStruct
        element = own_element(inner)
        alt = " ".join((element.get("aria-label") or "").split()) \
            if element is not None and element.get("role") == "img" else ""
        if alt:
            yield figure(inner, alt, parent, pdf, page_number, nums, annotations, tags_left)
            return
        annotation = getattr(inner, "link_annotation", None)
        if annotation is not None and inner.element is not None:
            text = link_text(inner.element)
            if text:
                annotation["Contents"] = pydyf.String(text)
        for built in plain_tree(box, parent, pdf, page_number, nums, annotations, tags_left):
            if element is not None and inner.element_tag not in ("html", "body"):
                if element.get("lang"):
                    built["Lang"] = pydyf.String(element.get("lang"))
                    text = " ".join("".join(element.itertext()).split())
                    if inner.element_tag in ("bdi", "span") and right_to_left(text):
                        built["ActualText"] = pydyf.String(text)
                if built["S"] == "/TH" and "A" in built:
                    scope = (element.get("scope") or "").lower()
                    built["A"]["Scope"] = "/Row" if scope in ("row", "rowgroup") \
                        else "/Column"
            yield built

    build_box_tree.guidegen = True
    tags._get_pdf_tag = get_pdf_tag
    tags._build_box_tree = build_box_tree
