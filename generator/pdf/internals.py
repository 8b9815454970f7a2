"""The WeasyPrint and pydyf internals guidegen relies on, checked in one place.

Reusing laid-out pages (fastpdf.py), replaying their painting (paintcache.py) and
serialising each stream once (maker.py) reach below WeasyPrint's public API. They were
proven (byte-identical to a plain render, tests/test_fastpdf.py and tests/test_pdf.py)
against the versions in ``PROVEN``, which pyproject.toml pins. If an installed release
lacks any name listed in ``NEEDED``, guides are rendered the plain way (the same pages,
slower) and the build says so once, instead of crashing.

fontsubset.py (every embedded font subset through uharfbuzz, the same bytes on every
machine) relies on the names in ``SUBSET_NEEDED``, checked apart from ``NEEDED``: without
them only that module steps aside (WeasyPrint subsets fonts its own way, with the system
HarfBuzz or fontTools), the fast path is unaffected.  tagging.py (the PDF/UA tagging that
WeasyPrint leaves undone) relies on ``TAGGING_NEEDED``, checked the same way: without them
the PDFs are tagged as WeasyPrint tags them.  fontstamps.py (fonts WeasyPrint
writes through fontTools keep their own timestamps) needs one more name,
``weasyprint.pdf.fonts.TTFont``; without it that module patches nothing.  shaped.py,
styles.py and measures.py (what a batch worker remembers from guide to guide: lines of
text, computed styles, used lengths and line widths) check ``SHAPING_NEEDED``,
``STYLES_NEEDED`` and ``MEASURES_NEEDED`` the same way: without them that one steps aside
and the guides are laid out and painted as WeasyPrint does.
"""

from __future__ import annotations

import functools
import importlib

PROVEN = "weasyprint 70.x with pydyf 0.13.x"

# (module, attribute path): classes and functions that must exist, plus attributes that
# are set in a constructor (looked up among the names its code assigns).
NEEDED = (
    ("weasyprint.formatting_structure.boxes", "MarginBox"),
    ("weasyprint.document", "Page.paint"),
    ("weasyprint.document", "Page.__init__:_page_box"),
    ("weasyprint.document", "Document.copy"),
    ("weasyprint.pdf.stream", "Stream.__init__:_fonts"),
    ("weasyprint.pdf.stream", "Stream.__init__:_resources"),
    ("weasyprint.pdf.stream", "Stream.__init__:_tags"),
    ("weasyprint.pdf.stream", "Stream.__init__:_ctm_stack"),
    ("weasyprint.pdf.stream", "Stream.__init__:_images"),
    ("pydyf", "_to_bytes"),
    ("pydyf", "Stream.data"),
    ("pydyf", "PDF.write"),
    ("pydyf", "PDF.page_references"),
    ("pydyf", "Dictionary"),
)

# what fontsubset.py replaces (Font.subset, as Font.clean calls it) and the attributes
# of Font that its replacement reads, as Font.__init__ sets them
SUBSET_NEEDED = (
    ("weasyprint.pdf.fonts", "Font.subset"),
    ("weasyprint.pdf.fonts", "Font.clean:subset"),
    ("weasyprint.pdf.fonts", "Font.__init__:file_content"),
    ("weasyprint.pdf.fonts", "Font.__init__:index"),
    ("weasyprint.pdf.fonts", "Font.__init__:missing"),
    ("weasyprint.pdf.fonts", "Font.__init__:family"),
)

# what shaped.py wraps (text painting) and reads (a Pango layout's text and spacing, the
# stream's fonts, and each Font's glyph tables)
SHAPING_NEEDED = (
    ("weasyprint.draw", "draw_text"),
    ("weasyprint.draw.text", "draw_text:draw_first_line"),
    ("weasyprint.draw.text", "draw_first_line:set_text_matrix"),
    ("weasyprint.text.fonts", "get_pango_font_key"),
    ("weasyprint.text.line_break", "Layout.__init__:justification_spacing"),
    ("weasyprint.text.line_break", "Layout.set_text:text"),
    ("weasyprint.pdf.stream", "Stream.add_font"),
    ("weasyprint.pdf.stream", "Stream.set_font_size"),
    ("weasyprint.pdf.stream", "Stream.begin_text"),
    ("weasyprint.pdf.stream", "Stream.__init__:_fonts"),
    ("weasyprint.pdf.fonts", "Font.__init__:missing"),
    ("weasyprint.pdf.fonts", "Font.__init__:bitmap"),
    ("weasyprint.matrix", "Matrix.values"),
)

# what styles.py wraps (an element's style computed) and reads (a document's cascaded and
# computed styles, its font configuration; the units that follow the page size)
STYLES_NEEDED = (
    ("weasyprint.css", "StyleFor.set_computed_styles"),
    ("weasyprint.css", "StyleFor.__init__:set_computed_styles"),
    ("weasyprint.css", "StyleFor.__init__:font_config"),
    ("weasyprint.css", "StyleFor.get_cascaded_styles"),
    ("weasyprint.css", "StyleFor.get_computed_styles"),
    ("weasyprint.css.units", "VIEWPORT_UNITS"),
    ("weasyprint.formatting_structure.build", "set_viewport_overflow"),
)

# what measures.py wraps: a box's used lengths (and the modules that call it by name), and
# the line widths the preferred-size code asks for
MEASURES_NEEDED = (
    ("weasyprint.layout.percent", "resolve_percentages"),
    ("weasyprint.layout.preferred", "split_first_line"),
    ("weasyprint.layout.preferred", "inline_line_widths:split_first_line"),
    ("weasyprint.layout.block", "resolve_percentages"),
    ("weasyprint.layout.inline", "resolve_percentages"),
    ("weasyprint.layout.table", "resolve_percentages"),
    ("weasyprint.formatting_structure.boxes", "PageBox"),
)

# what tagging.py wraps: the painting of margin boxes and leaders, marked content, and the
# structure tree's per-box builder and tag names (weasyprint/pdf/tags.py)
TAGGING_NEEDED = (
    ("weasyprint.draw", "draw_stacking_context"),
    ("weasyprint.draw", "draw_inline_level"),
    ("weasyprint.draw", "draw_text"),
    ("weasyprint.pdf.stream", "Stream.begin_text"),
    ("weasyprint.matrix", "Matrix.values"),
    ("weasyprint.pdf.stream", "Stream.marked"),
    ("weasyprint.pdf.stream", "Stream.__init__:_tags"),
    ("weasyprint.pdf.tags", "_build_box_tree"),
    ("weasyprint.pdf.tags", "_get_pdf_tag"),
    ("weasyprint.pdf.tags", "add_tags:_build_box_tree"),
    ("weasyprint.formatting_structure.boxes", "MarginBox"),
    ("weasyprint.layout.absolute", "AbsolutePlaceholder"),
)


def _has(module_name: str, path: str) -> bool:
    try:
        obj = importlib.import_module(module_name)
    except ImportError:
        return False
    dotted, _, assigned = path.partition(":")
    for part in dotted.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return False
    if assigned:
        code = getattr(obj, "__code__", None)
        return code is not None and assigned in code.co_names
    return True


def missing(needed: tuple[tuple[str, str], ...] | None = None) -> list[str]:
    """Names in ``needed`` (default ``NEEDED``) that the installed WeasyPrint/pydyf lack."""
    return [f"{module}.{path.replace(':', ' uses ')}" for module, path
            in (NEEDED if needed is None else needed) if not _has(module, path)]


@functools.cache
def reuse_supported() -> bool:
    """True when the fast path's internals are all present (checked once per process)."""
    return not missing()


def fallback_warning() -> str | None:
    """The one warning a build prints when it falls back to plain rendering."""
    if reuse_supported():
        return None
    import weasyprint

    gone = missing()
    return (f"WeasyPrint {weasyprint.__version__} lacks internals that guidegen's fast PDF "
            f"path uses ({', '.join(gone[:3])}{', ...' if len(gone) > 3 else ''}); guides "
            f"are rendered the plain way (same pages, slower). Proven with {PROVEN}.")
