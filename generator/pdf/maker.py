"""HTML -> PDF with WeasyPrint: locked-down fetcher, reused fonts and stylesheets.

WeasyPrint is imported lazily (inside :class:`PdfMaker`) so that HTML-only
commands never pay for its import or need Pango.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import urllib.parse
import zlib
from pathlib import Path

from generator.core.errors import DependencyError
from generator.pdf import (
    fontcache,
    fontstamps,
    fontsubset,
    internals,
    measures,
    shaped,
    styles,
    tagging,
)

PANGO_HINT = (
    "WeasyPrint needs Pango to make PDFs. On Debian/Ubuntu: "
    "apt-get install -y libpango-1.0-0 libpangoft2-1.0-0. "
    "Run 'guidegen doctor' for details."
)
VARIANTS = {"pdf/ua-1": "pdf/ua-1", "pdf/a-3b": "pdf/a-3b", "none": None}


def import_weasyprint():
    try:
        import weasyprint
    except OSError as exc:  # missing shared library (Pango, GObject...)
        raise DependencyError(f"{PANGO_HINT} ({exc})") from None
    return weasyprint


class RefusedURL(ValueError):
    pass


def make_fetcher(allowed_roots: list[Path], refused: list[str]):
    """A URLFetcher that serves only ``data:`` URLs and files inside ``allowed_roots``.

    Anything else (http, https, ftp, files outside, ``..`` escapes, symlinks that
    leave the project) is refused, recorded in ``refused`` and never fetched.
    """
    weasyprint = import_weasyprint()
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    roots = [r.resolve() for r in allowed_roots]

    class LockedFetcher(URLFetcher):
        def __init__(self):
            super().__init__(allowed_protocols={"data", "file"}, allow_redirects=False,
                             timeout=5)

        def fetch(self, url, headers=None):
            scheme = url.split(":", 1)[0].lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme == "file":
                parsed = urllib.parse.urlsplit(url)
                path = Path(urllib.parse.unquote(parsed.path))
                if parsed.netloc not in ("", "localhost") or ".." in path.parts:
                    return self._refuse(url)
                real = path.resolve()
                if any(real.is_relative_to(root) for root in roots) and real.is_file():
                    mime = mimetypes.guess_type(real.name)[0] or "application/octet-stream"
                    return URLFetcherResponse(url, real.read_bytes(), {"Content-Type": mime})
            return self._refuse(url)

        def _refuse(self, url):
            shown = url if len(url) < 120 else url[:117] + "..."
            refused.append(shown)
            raise RefusedURL(f"refused to fetch {shown} (only data: URLs and project files)")

    del weasyprint
    return LockedFetcher()


_data_memo: dict | None = None  # id(object) -> (object, bytes), during one PDF.write
# zlib's own default level. pydyf compresses streams at 9: on benchmarks/profile.py's
# guides that took 23 ms a guide (431 kB of content streams each), 6 takes 7 ms, and the
# compressed streams are 2.7% larger (533 against 548 kB for eight guides)
FLATE_LEVEL = 6


def _serialise_streams_once() -> None:
    """Make pydyf serialise each object once per file, and compress each stream once, at
    FLATE_LEVEL.

    With a file identifier (which we always set, for byte-identical output),
    ``pydyf.PDF.write`` hashes every object's ``data`` after writing it, and an object's
    ``data`` is recomputed each time: content streams are formatted and zlib-compressed
    (level 9) a second time, about a third of the write, and the thousands of
    dictionaries and arrays of the structure tree (PDF/UA) are formatted again. While
    ``PDF.write`` runs, every object is final, so remembering each stream's, dictionary's
    and array's bytes for the duration of that call gives the same file, faster
    (tests/test_pdf.py compares the bytes with and without). A guide written by this
    process is the same whichever path made it (the fast path or a full render, in any
    worker); only a process without these internals compresses at pydyf's level.
    """
    import pydyf

    if getattr(pydyf.PDF.write, "guidegen", False):
        return
    plain_write = pydyf.PDF.write
    plain_dict, plain_array = pydyf.Dictionary.data, pydyf.Array.data

    def remembered(plain, outside=None):
        """``data`` as ``plain`` makes it, kept while a write runs (``outside`` one,
        default ``plain``, makes it when none runs)."""
        def data(self):
            if _data_memo is None:
                return (outside or plain)(self)
            found = _data_memo.get(id(self))
            if found is None:  # the object is kept with its bytes, so its id is not reused
                found = _data_memo[id(self)] = (self, plain(self))
            return found[1]
        return property(data)

    def flate(self):
        """pydyf 0.13's ``Stream.data``, compressed at FLATE_LEVEL."""
        stream = b"\n".join(pydyf._to_bytes(item) for item in self.stream)
        extra = pydyf.Dictionary(self.extra.copy())
        if self.compress:
            extra["Filter"] = "/FlateDecode"
            compressor = zlib.compressobj(level=FLATE_LEVEL)
            stream = compressor.compress(stream) + compressor.flush()
        extra["Length"] = len(stream)
        return b"\n".join((extra.data, b"stream", stream, b"endstream"))

    def _replayed_data(self):
        """A page stream replayed by paintcache.py, and a font file holding a superset
        program (fontcache.py), are serialised once per worker."""
        fonts = fontcache.active
        found = fonts.stream_data(self, flate) if fonts is not None else None
        if found is not None:
            return found
        painted = getattr(self, "guidegen_painted", None)
        if painted is None or not self.stream or self.stream[-1] is not painted.ops:
            return flate(self)
        start = b"\n".join(pydyf._to_bytes(op) for op in self.stream[:-1])
        key = (start, self.compress, repr(self.extra))
        if key not in painted.data:
            painted.data[key] = flate(self)
        return painted.data[key]

    def write(self, *args, **kwargs):
        global _data_memo
        _data_memo = {}
        try:
            return plain_write(self, *args, **kwargs)
        finally:
            _data_memo = None

    write.guidegen = True
    # for tests/test_pdf.py: each class's own serialisation (a stream's at FLATE_LEVEL),
    # and pydyf's write
    write.plain = {pydyf.Stream: property(flate), pydyf.Dictionary: plain_dict,
                   pydyf.Array: plain_array, pydyf.PDF: plain_write}
    pydyf.Stream.data = remembered(_replayed_data, flate)
    pydyf.Dictionary.data = remembered(plain_dict.fget)
    pydyf.Array.data = remembered(plain_array.fget)
    pydyf.PDF.write = write


def _page_references_once() -> None:
    """Make ``pydyf.PDF.page_references`` build its tuple once per page count.

    WeasyPrint's tagging reads ``pdf.page_references[n]`` for every structure element (a
    few thousand per guide), and pydyf rebuilds the tuple of every page's reference at
    each read.  Pages are only ever appended (``add_page``), so the tuple is the same
    while their count is: the same references, built once.
    """
    import pydyf

    plain = pydyf.PDF.page_references
    if getattr(plain.fget, "guidegen", False):
        return

    def page_references(self):
        kids = self.pages["Kids"]
        found = self.__dict__.get("guidegen_page_references")
        if found is None or found[0] is not kids or found[1] != len(kids):
            found = (kids, len(kids), plain.fget(self))
            self.__dict__["guidegen_page_references"] = found
        return found[2]

    prop = property(page_references)
    prop.fget.guidegen = True
    pydyf.PDF.page_references = prop


class _ImageCache(dict):
    """WeasyPrint's image cache, kept across guides, minus failures.

    WeasyPrint caches a failed fetch as None; not keeping those means a refused
    URL goes through the fetcher (and is reported) for every guide that uses it.
    """

    def __setitem__(self, key, value):
        if value is not None:
            super().__setitem__(key, value)


class PdfMaker:
    """One per worker: keeps FontConfiguration and parsed CSS across guides."""

    def __init__(self, allowed_roots: list[Path], variant: str = "pdf/ua-1"):
        self.wp = import_weasyprint()
        from weasyprint.text.fonts import FontConfiguration

        self.font_config = FontConfiguration()
        fontsubset.subset_with_uharfbuzz()  # fonts subset alike on every machine (uharfbuzz)
        fontstamps.keep_font_timestamps()  # fontTools-written fonts: no wall-clock bytes
        tagging.improve_tags()  # PDF/UA: artifacts, alt text, /Lang, /Scope (tagging.py)
        shaped.install()  # a line of text painted once per worker (shaped.py)
        styles.install()  # an element's style computed once per worker (styles.py)
        measures.install()  # a style's used lengths taken once per worker (measures.py)
        if internals.reuse_supported():  # pydyf as proven: each stream serialised once
            _serialise_streams_once()
            _page_references_once()
        self.refused: list[str] = []
        self.fetcher = make_fetcher(allowed_roots, self.refused)
        self.variant = VARIANTS[variant]
        self._css: dict[str, object] = {}
        self._css_refused: dict[int, tuple[str, ...]] = {}  # id(stylesheet) -> refused URLs
        self._images = _ImageCache()  # decoded images (logos), shared across guides
        self.font_programs = fontcache.FontPrograms()  # each font subset once (fontcache.py)
        # WeasyPrint logs refused resources as errors; our fetcher already records them
        logging.getLogger("weasyprint").setLevel(logging.CRITICAL)

    def stylesheet(self, source: str, base_url: str):
        key = hashlib.sha256((base_url + "\0" + source).encode()).hexdigest()
        if key not in self._css:
            # @import and @font-face URLs are fetched while the CSS is parsed, i.e. once,
            # before any guide is laid out: remember what was refused so that document()
            # reports it for every guide using this stylesheet (not only the first, or never)
            start = len(self.refused)
            css = self.wp.CSS(string=source, base_url=base_url, url_fetcher=self.fetcher,
                              font_config=self.font_config)
            self._css[key] = css
            self._css_refused[id(css)] = tuple(self.refused[start:])
        return self._css[key]

    def document(self, html: str, base_url: str, stylesheets: list):
        """Lay out ``html``; returns WeasyPrint's Document (pages can be reused)."""
        start = len(self.refused)
        for css in stylesheets:  # refused while parsed (once), reported for every guide
            self.refused.extend(self._css_refused.get(id(css), ()))
        doc = self.wp.HTML(string=html, base_url=base_url, url_fetcher=self.fetcher).render(
            stylesheets=stylesheets, font_config=self.font_config, pdf_tags=True,
            pdf_variant=self.variant, cache=self._images)
        # the refusals travel with the pages: a guide that reuses pages laid out for
        # another athlete (fastpdf) reports them again when it is written
        refused = tuple(dict.fromkeys(self.refused[start:]))
        for page in doc.pages:
            page.guidegen_refused = refused
        return doc

    def write(self, document, identifier: str) -> bytes:
        """Deterministic PDF bytes: fixed identifier, no wall-clock dates (no Info or XMP
        dates, as the HTML has no dcterms meta; fonts keep their own, fontstamps.py)."""
        # see document(): pages reused from another layout repeat their refusals
        self.refused.extend(dict.fromkeys(url for page in document.pages
                                          for url in getattr(page, "guidegen_refused", ())))
        before, fontcache.active = fontcache.active, self.font_programs
        try:
            return document.write_pdf(
                pdf_identifier=hashlib.md5(identifier.encode()).digest(),
                pdf_variant=self.variant, pdf_tags=True)
        finally:
            fontcache.active = before

    def pdf(self, html: str, base_url: str, stylesheets: list, identifier: str) -> tuple[bytes,
                                                                                          list]:
        """Render one PDF; returns the bytes and the URLs refused while rendering."""
        start = len(self.refused)
        doc = self.document(html, base_url, stylesheets)
        data = self.write(doc, identifier)
        return data, list(dict.fromkeys(self.refused[start:]))
