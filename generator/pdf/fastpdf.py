"""Lay every repeated part of a guide out once: the PDF fast path for batches.

In print a guide is five parts, each starting on a new page:

    cover | contents | body (timeline, dated sessions, notes, the modules that
    carry the runner's dates) | closing (booking page, notice) | shared modules

The cover and the body are personal and laid out for every athlete.  The
closing pages and the shared background modules repeat across athletes: each
is rendered to HTML without page numbers, and its WeasyPrint layout is looked
up by the hash of that HTML (plus ``shared_key``: the brand, whose stylesheets apply), so an
identical part is laid out once per worker and its pages are reused.  Keying on
the exact HTML means a reused part is, by construction, what a full render
would lay out.

Page numbers live in the page margins ("page X of Y", the running header),
which never change the layout of the page's content.  So a reused page gets
the margin boxes of a *frame*: empty pages laid out with this guide's numbering
(a few milliseconds), grafted onto the cached content.  The contents page lists
every entry's page number (no target-counter pass) and is cached by its HTML.
The body is laid out before its length is known: its footer's "of Y" is a
counter style mapping its own page count to the guide's total.  The parts'
pages are joined into one Document before writing, so the outline, internal
links and metadata are those of a single PDF.  tests/test_fastpdf.py proves
the result matches a full render (pages, labels, outline, links, text).
"""

from __future__ import annotations

import copy
import hashlib
from collections import OrderedDict

import generator.pdf.measures as measures
import generator.pdf.paintcache as paintcache
import generator.pdf.shaped as shaped
import generator.pdf.styles as styles
from generator.render.renderer import TOTALS, PdfPages

# per worker, least recently used first out, so memory stays bounded:
CACHE_SIZE = 4  # closing and shared parts (several pages each); a batch queues guides in
# reuse_order, so a part is needed again right away or not at all: on the benchmark roster 4
# entries miss no more than 16 did, and a worker's peak memory is 32 MB lower (RSS at 250
# guides: 232 MB against 264 MB)
TOC_SIZE = 32  # contents pages (one page each; their numbers vary more)
FRAMES_SIZE = 64  # numbered empty pages (small)


def shared_key(guide) -> tuple:
    """What a repeated part's pages are shared by, beside its exact HTML: the brand, whose
    stylesheets apply, and the language (its words and how it writes numbers: a German
    contents page is not a Spanish one).  The one place the caches below are keyed (the
    layouts, contents pages, frames and the contents' page counts): a guide can only reuse
    pages made for the same key."""
    return (guide.brand.id, guide.language.tag if guide.language else "")


def reuse_order(guide) -> tuple:
    """Where ``guide`` (a GuidePlan) goes in a batch's queue, so that guides that reuse the
    same repeated parts come one after another: a worker's caches then hold what the next
    guide needs instead of evicting it (on the benchmark roster of 2,000 runners, 28
    distinct shared parts: 590 layouts of them in roster order, 68 in this order).  The
    shared parts' words depend on the brand, the language, which modules are shared and
    the distance and units their variables show (load/modulevars.py, ``varies``)."""
    dated = guide.dated_modules
    return (*shared_key(guide), guide.athlete.distance, guide.units,
            tuple(m.slug for m in guide.modules if m.slug not in dated),
            tuple(m.slug for m in guide.modules if m.slug in dated), guide.id)


class FastGuidePdf:
    def __init__(self, maker):
        self.maker = maker  # a guides.GuideMaker
        self._pages: OrderedDict = OrderedDict()  # (shared key, html hash) -> laid-out pages
        self._tocs: OrderedDict = OrderedDict()  # the same, for contents pages
        self._frames: OrderedDict = OrderedDict()  # (shared key, html hash) -> numbered pages
        self._toc_pages: dict = {}  # shape of the contents -> their page count last time
        self.stats = {"laid_out": 0, "reused": 0, "relayouts": 0}

    # -- one part --------------------------------------------------------------
    def _html(self, guide, part: str, pages: PdfPages) -> str:
        return self.maker.renderer.guide_html(guide, "pdf", part, pages)

    def _document(self, guide, html: str):
        m = self.maker
        return m.pdf_maker.document(html, m.base_url, m.stylesheets(guide.brand))

    def _personal(self, guide, part: str, pages: PdfPages):
        """A part laid out for this athlete only (never cached)."""
        return self._document(guide, self._html(guide, part, pages))

    def _cached(self, cache: OrderedDict, size: int, guide, part: str, pages: PdfPages,
                count: bool = True) -> list:
        """A part's pages, laid out once per distinct HTML and brand."""
        html = self._html(guide, part, pages)
        key = (shared_key(guide), hashlib.sha256(html.encode()).digest())
        if key in cache:
            cache.move_to_end(key)
            self.stats["reused"] += count
            return cache[key]
        laid_out = self._document(guide, html).pages
        self.stats["laid_out"] += count
        cache[key] = laid_out
        while len(cache) > size:
            cache.popitem(last=False)
        return laid_out

    def _repeated(self, guide, part: str, pages: PdfPages | None = None) -> list:
        if part == "toc":  # many small variants: kept apart so they never evict big parts
            return self._cached(self._tocs, TOC_SIZE, guide, part, pages or PdfPages())
        return self._cached(self._pages, CACHE_SIZE, guide, part, pages or PdfPages())

    def _numbered(self, guide, part: str, pages: list, start: int, total: int) -> list:
        """A repeated part's ``pages`` with the running header and footer of pages
        ``start``.. of ``total``."""
        frames = self._cached(self._frames, FRAMES_SIZE, guide, "frame",
                              PdfPages(start=start, total=total, frame=len(pages)),
                              count=False)
        if len(frames) != len(pages):  # a template that breaks frames: lay it out numbered
            return self._repeated(guide, part, PdfPages(start=start, total=total))
        numbered = []
        for page, frame in zip(pages, frames, strict=True):
            numbered.append(_with_margins(page, frame))
            paintcache.attach(numbered[-1], page, frame)  # painted once, then replayed
        return numbered

    # -- the whole guide -------------------------------------------------------
    def render(self, guide) -> tuple[bytes, list[str]]:
        """``guide`` is a GuidePlan; returns the PDF and the URLs the fetcher refused."""
        # elements' styles and the measures taken from them: the same in the batch's guides
        with styles.keeping(), measures.measuring():  # (styles.py, measures.py)
            return self._render(guide)

    def _render(self, guide) -> tuple[bytes, list[str]]:
        pdf = self.maker.pdf_maker
        refused_from = len(pdf.refused)
        athlete, brand, modules = guide.athlete, guide.brand, guide.modules
        dated = guide.dated_modules
        has_shared = any(m.slug not in dated for m in modules)

        cover = self._personal(guide, "cover", PdfPages())
        n_cover = len(cover.pages)
        closing = self._repeated(guide, "closing")
        shared = self._repeated(guide, "shared") if has_shared else []
        toc_shape = (shared_key(guide), len(modules), bool(athlete.notes))
        n_toc = self._toc_pages.get(toc_shape, 1)
        for _attempt in range(3):
            # the body's own length is only known once laid out: its footer prints
            # "of <its pages + the others>" through a counter style (PdfPages.others)
            body_start = n_cover + n_toc + 1
            body = self._personal(guide, "body", PdfPages(
                start=body_start, others=n_cover + n_toc + len(closing) + len(shared)))
            n_body = len(body.pages)
            total = n_cover + n_toc + n_body + len(closing) + len(shared)
            closing_start = body_start + n_body
            shared_start = closing_start + len(closing)
            numbers = {**_anchor_pages(shared, shared_start),
                       **_anchor_pages(closing, closing_start),
                       **_anchor_pages(body.pages, body_start)}
            toc = self._repeated(guide, "toc", PdfPages(start=n_cover + 1, total=total,
                                                        toc=numbers))
            if len(toc) == n_toc and n_body <= TOTALS:
                break
            n_toc = len(toc)
            self.stats["relayouts"] += 1
        else:  # numbering did not settle: a straightforward render is always right
            data, _ = self.maker.full_pdf(guide)
            return data, pdf.refused[refused_from:]
        self._toc_pages[toc_shape] = n_toc

        pages = cover.pages + toc + body.pages
        pages += self._numbered(guide, "closing", closing, closing_start, total)
        if shared:
            pages += self._numbered(guide, "shared", shared, shared_start, total)
        # the cover's Document carries this athlete's metadata (title, author, language)
        with shaped.recording():  # lines the batch's guides share: shaped once (shaped.py)
            data = pdf.write(cover.copy(pages), f"{brand.id}/{athlete.id}")
        return data, pdf.refused[refused_from:]


def _with_margins(page, frame):
    """A copy of ``page`` whose margin boxes (running header, footer) are ``frame``'s."""
    from weasyprint.formatting_structure.boxes import MarginBox

    content = [box for box in page._page_box.children if not isinstance(box, MarginBox)]
    margins = [box for box in frame._page_box.children if isinstance(box, MarginBox)]
    numbered = copy.copy(page)
    numbered._page_box = page._page_box.copy()
    numbered._page_box.children = tuple(content + margins)
    return numbered


def _anchor_pages(pages, first: int) -> dict[str, int]:
    """Anchor name -> page number, for a part whose first page is number ``first``."""
    found = {}
    for index, page in enumerate(pages):
        for name in page.anchors:
            found.setdefault(name, first + index)
    return found
