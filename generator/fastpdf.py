"""Lay the shared pages out once: the PDF fast path for batches.

A guide is two parts: the personal part (cover, contents, timeline, dated
sessions, the modules that carry the athlete's dates, notes, booking) and
the shared part (background modules every athlete with the same brand and
module set reads word for word).  The shared part's layout depends only on
(brand, shared modules, its first page number, the guide's total pages), so
each worker lays it out once per distinct key and reuses the WeasyPrint
pages for every athlete.  The two parts' pages are joined into one Document
before writing, so the outline, internal links and metadata are those of a
single PDF; "page X of Y" and the contents' page numbers are given to each
part explicitly.  tests/test_fastpdf.py proves the result matches a full
render (pages, labels, outline, text).
"""

from __future__ import annotations

from collections import OrderedDict

from generator.render import PdfPages

CACHE_SIZE = 24  # distinct shared layouts kept per worker (memory stays bounded)


class FastGuidePdf:
    def __init__(self, maker):
        self.maker = maker  # a guides.GuideMaker
        self._shape: dict = {}  # (brand, shared slugs) -> (page count, anchor -> page offset)
        self._layouts: OrderedDict = OrderedDict()  # (shape key, start, total) -> pages
        self._personal_guess: dict = {}  # signature or brand -> personal page count
        self.stats = {"shared_layouts": 0, "shared_reused": 0, "personal_relayouts": 0}

    def _layout(self, athlete, brand, modules, timeline, part, pages: PdfPages):
        m = self.maker
        html = m.renderer.guide_html(athlete, brand, modules, timeline, "pdf", part, pages)
        return m.pdf_maker.document(html, m.base_url, m.stylesheets(brand))

    def render(self, athlete, brand, modules, timeline) -> tuple[bytes, list[str]]:
        pdf = self.maker.pdf_maker
        refused_from = len(pdf.refused)
        kinds = {s.module for s in timeline.sessions if s.module}
        shared = tuple(m.slug for m in modules if m.slug not in kinds)
        if not shared:
            doc = self._layout(athlete, brand, modules, timeline, "all", PdfPages())
            return pdf.write(doc, f"{brand.id}/{athlete.id}"), pdf.refused[refused_from:]
        shape_key = (brand.id, shared)
        if shape_key not in self._shape:
            doc = self._layout(athlete, brand, modules, timeline, "shared", PdfPages())
            self._shape[shape_key] = (len(doc.pages), _anchor_pages(doc))
        shared_count, anchors = self._shape[shape_key]

        # personal part: its own page count must be known to number the whole guide;
        # guess it from athletes with the same shape of personal content
        signature = (brand.id, tuple(m.slug for m in modules if m.slug in kinds),
                     len(timeline.sessions), len(timeline.warnings),
                     len(athlete.notes or "") // 150)
        guess = self._personal_guess.get(signature, self._personal_guess.get(brand.id, 6))
        for _attempt in range(4):
            total = guess + shared_count
            toc = {a: guess + offset + 1 for a, offset in anchors.items()}
            personal = self._layout(athlete, brand, modules, timeline, "personal",
                                    PdfPages(total=total, toc=toc))
            if len(personal.pages) == guess:
                break
            self.stats["personal_relayouts"] += 1
            guess = len(personal.pages)
        self._personal_guess[signature] = self._personal_guess[brand.id] = guess

        key = (shape_key, guess + 1, total)
        if key in self._layouts:
            self._layouts.move_to_end(key)
            self.stats["shared_reused"] += 1
        else:
            doc = self._layout(athlete, brand, modules, timeline, "shared",
                               PdfPages(start=guess + 1, total=total))
            self._layouts[key] = doc.pages
            self.stats["shared_layouts"] += 1
            while len(self._layouts) > CACHE_SIZE:
                self._layouts.popitem(last=False)
        doc = personal.copy(personal.pages + self._layouts[key])
        return pdf.write(doc, f"{brand.id}/{athlete.id}"), pdf.refused[refused_from:]


def _anchor_pages(doc) -> dict[str, int]:
    """Anchor name -> 0-based page index within the document."""
    found = {}
    for index, page in enumerate(doc.pages):
        for name in page.anchors:
            found.setdefault(name, index)
    return found
