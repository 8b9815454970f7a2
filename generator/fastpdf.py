"""Lay every repeated part of a guide out once: the PDF fast path for batches.

In print a guide is five parts, each starting on a new page:

    cover | contents | body (timeline, dated sessions, notes, the modules that
    carry the runner's dates) | closing (booking page, notice) | shared modules

The cover and the body are personal and laid out for every athlete.  The
contents, the closing pages and the shared background modules repeat across
athletes: each is rendered to HTML (microseconds), and its WeasyPrint layout is
looked up by the hash of that HTML (plus the brand, whose stylesheets apply), so
an identical part is laid out once per worker and its pages are reused.  Keying
on the exact HTML means a reused part is, by construction, what a full render
would have laid out.

Numbers are given to each part explicitly: its first page number and the
guide's total ("page X of Y"), and the contents get every entry's page number
(no target-counter pass).  Page counts of the repeated parts do not depend on
those numbers (they are drawn in the page margins), so they are measured once.
The body is laid out before its length is known: its footer's "of Y" is a
counter style mapping its own page count to the guide's total.  The parts'
pages are joined into one Document before writing, so the outline, internal
links and metadata are those of a single PDF.
tests/test_fastpdf.py proves the result matches a full render (pages, labels,
outline, links, text).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

from generator.render import TOTALS, PdfPages

CACHE_SIZE = 48  # distinct laid-out parts kept per worker (memory stays bounded)
MEASURED_SIZE = 256  # page counts and anchors of repeated parts (small)


class FastGuidePdf:
    def __init__(self, maker):
        self.maker = maker  # a guides.GuideMaker
        self._pages: OrderedDict = OrderedDict()  # (brand, html hash) -> laid-out pages
        self._measured: OrderedDict = OrderedDict()  # (brand, html hash) -> (count, anchors)
        self._toc_pages: dict = {}  # shape of the contents -> their page count last time
        self.stats = {"laid_out": 0, "reused": 0, "relayouts": 0}

    # -- one part --------------------------------------------------------------
    def _html(self, guide, part: str, pages: PdfPages) -> str:
        athlete, brand, modules, timeline = guide
        return self.maker.renderer.guide_html(athlete, brand, modules, timeline, "pdf", part,
                                              pages)

    def _document(self, guide, html: str):
        m = self.maker
        return m.pdf_maker.document(html, m.base_url, m.stylesheets(guide[1]))

    def _personal(self, guide, part: str, pages: PdfPages):
        """A part laid out for this athlete only (never cached)."""
        return self._document(guide, self._html(guide, part, pages))

    def _repeated(self, guide, part: str, pages: PdfPages) -> list:
        """A part's pages, laid out once per distinct HTML and brand."""
        html = self._html(guide, part, pages)
        key = (guide[1].id, hashlib.sha256(html.encode()).digest())
        if key in self._pages:
            self._pages.move_to_end(key)
            self.stats["reused"] += 1
            return self._pages[key]
        laid_out = self._document(guide, html).pages
        self.stats["laid_out"] += 1
        self._pages[key] = laid_out
        while len(self._pages) > CACHE_SIZE:
            self._pages.popitem(last=False)
        return laid_out

    def _measure(self, guide, part: str) -> tuple[int, dict[str, int]]:
        """Page count and anchor -> page offset of a repeated part (numbering aside)."""
        html = self._html(guide, part, PdfPages())
        key = (guide[1].id, hashlib.sha256(html.encode()).digest())
        if key not in self._measured:
            pages = self._document(guide, html).pages
            self._measured[key] = (len(pages), _anchor_pages(pages))
            while len(self._measured) > MEASURED_SIZE:
                self._measured.popitem(last=False)
        return self._measured[key]

    # -- the whole guide -------------------------------------------------------
    def render(self, athlete, brand, modules, timeline) -> tuple[bytes, list[str]]:
        pdf = self.maker.pdf_maker
        refused_from = len(pdf.refused)
        guide = (athlete, brand, modules, timeline)
        kinds = {s.module for s in timeline.sessions if s.module}
        has_shared = any(m.slug not in kinds for m in modules)

        cover = self._personal(guide, "cover", PdfPages())
        n_cover = len(cover.pages)
        n_closing, closing_anchors = self._measure(guide, "closing")
        n_shared, shared_anchors = self._measure(guide, "shared") if has_shared else (0, {})
        toc_shape = (brand.id, len(modules), bool(athlete.notes))
        n_toc = self._toc_pages.get(toc_shape, 1)
        for _attempt in range(3):
            # the body's own length is only known once laid out: its footer prints
            # "of <its pages + the others>" through a counter style (PdfPages.others)
            body_start = n_cover + n_toc + 1
            body = self._personal(guide, "body", PdfPages(
                start=body_start, others=n_cover + n_toc + n_closing + n_shared))
            n_body = len(body.pages)
            total = n_cover + n_toc + n_body + n_closing + n_shared
            closing_start = body_start + n_body
            shared_start = closing_start + n_closing
            numbers = {**{a: shared_start + i for a, i in shared_anchors.items()},
                       **{a: closing_start + i for a, i in closing_anchors.items()},
                       **{a: body_start + i for a, i in _anchor_pages(body.pages).items()}}
            toc = self._repeated(guide, "toc", PdfPages(start=n_cover + 1, total=total,
                                                        toc=numbers))
            if len(toc) == n_toc and n_body <= TOTALS:
                break
            n_toc = len(toc)
            self.stats["relayouts"] += 1
        else:  # numbering did not settle: a straightforward render is always right
            html = self._html(guide, "all", PdfPages())
            data, _ = pdf.pdf(html, self.maker.base_url, self.maker.stylesheets(brand),
                              f"{brand.id}/{athlete.id}")
            return data, pdf.refused[refused_from:]
        self._toc_pages[toc_shape] = n_toc

        pages = cover.pages + toc + body.pages
        pages += self._repeated(guide, "closing", PdfPages(start=closing_start, total=total))
        if has_shared:
            pages += self._repeated(guide, "shared", PdfPages(start=shared_start, total=total))
        # the cover's Document carries this athlete's metadata (title, author, language)
        data = pdf.write(cover.copy(pages), f"{brand.id}/{athlete.id}")
        return data, pdf.refused[refused_from:]


def _anchor_pages(pages) -> dict[str, int]:
    """Anchor name -> 0-based page index within a part."""
    found = {}
    for index, page in enumerate(pages):
        for name in page.anchors:
            found.setdefault(name, index)
    return found
