"""Helpers for the guide tests (HTML, PDF, ICS): build guides, read PDFs back.

Plain functions, no fixtures: each test module renders what it needs once, in
module-scoped fixtures, because a PDF costs one to three seconds.
"""

from __future__ import annotations

import contextlib
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

from generator.core.context import BuildContext
from generator.load.inputs import Inputs, load_inputs
from generator.load.project import load_project
from generator.plan.guideplan import GuidePlan, plan_guide
from generator.publish.guides import GuideMaker, GuideResult
from generator.render.words import Words
from tests.conftest import EXAMPLE_ROSTER, REPO_ROOT  # defined once there; re-exported here

EPOCH = "1790000000"  # 2026-09-21, the Makefile's demo value: fixes "Prepared ..." and DTSTAMP
HARBOUR_ID = "hb-zoe-01"  # A4, notes, first marathon
SUMMIT_ID = "sm-ana-11"  # Letter, serif brand font
HOSTILE_NAME = "<script>alert(1)</script> O'Brien & Søn"
A4 = (595.28, 841.89)
LETTER = (612.0, 792.0)


@contextlib.contextmanager
def source_date_epoch(value: str | None = EPOCH) -> Iterator[None]:
    """Set (or unset) SOURCE_DATE_EPOCH for the duration of a render."""
    old = os.environ.get("SOURCE_DATE_EPOCH")
    if value is None:
        os.environ.pop("SOURCE_DATE_EPOCH", None)
    else:
        os.environ["SOURCE_DATE_EPOCH"] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = old


def on_and_off(monkeypatch, module, make, **fresh) -> tuple[object, object, dict]:
    """``make()`` with ``module.enabled`` True, then False, each time after setting the
    attributes named in ``fresh`` to a new value from their factory: both results, and
    how ``module.counts`` moved in each run ({True: ..., False: ...})."""
    made, counted = {}, {}
    for enabled in (True, False):
        monkeypatch.setattr(module, "enabled", enabled)
        for name, new in fresh.items():
            monkeypatch.setattr(module, name, new())
        before = dict(module.counts)
        made[enabled] = make()
        counted[enabled] = {k: module.counts[k] - before[k] for k in before}
    return made[True], made[False], counted


def batch_pdfs(count: int = 10) -> Callable[[], list[bytes]]:
    """A function that makes the PDFs of the example roster's first ``count`` guides in
    a batch's order (fastpdf.reuse_order: the guides that reuse the same parts together),
    with a new GuideMaker each time, as a fresh worker would; the example roster has two
    brands, three languages, a right-to-left name and notes. Call it, and what it
    returns, inside source_date_epoch()."""
    from generator.pdf.fastpdf import reuse_order

    inputs = load_inputs(load_project(REPO_ROOT), EXAMPLE_ROSTER)
    plans = sorted((plan_guide(inputs, a) for a in inputs.athletes), key=reuse_order)

    def guides() -> list[bytes]:
        maker = GuideMaker(inputs)
        return [maker.make(plan, ("pdf",)).files["pdf"] for plan in plans[:count]]
    return guides


def default_words() -> Words:
    """How the example project's own language (en-GB) writes: its guides' dates."""
    project = load_project(REPO_ROOT)
    return Words.of(project, project.languages.default_language())


def guide_ics(plan: GuidePlan, ctx: BuildContext) -> bytes:
    """``plan``'s calendar as the build makes it: in the runner's language."""
    from generator.publish.ics import make_ics

    return make_ics(plan, ctx, Words.of(load_project(REPO_ROOT), plan.language, plan.units))


def date_long(day) -> str:
    """A date as an example guide in the project's language writes it."""
    return default_words().date_long(day)


def context(epoch: str | None = EPOCH) -> BuildContext:
    """The build context of SOURCE_DATE_EPOCH=epoch (None: unset)."""
    env = {} if epoch is None else {"SOURCE_DATE_EPOCH": epoch}
    # "today" pinned like the whole suite's (tests/conftest.py): plans never follow the clock
    env["GUIDEGEN_AS_OF"] = os.environ.get("GUIDEGEN_AS_OF", "")
    return BuildContext.from_env(env)


def load(root: Path = REPO_ROOT, roster: Path | None = EXAMPLE_ROSTER,
         epoch: str | None = EPOCH) -> Inputs:
    inputs = load_inputs(load_project(root), roster, context(epoch))
    errors = [str(p) for p in inputs.errors]
    assert not errors, errors
    return inputs


@dataclass
class Built:
    """One athlete's guide and everything it was made from."""

    inputs: Inputs
    plan: GuidePlan
    result: GuideResult

    @property
    def athlete(self):
        return self.plan.athlete

    def module_titles(self) -> dict[str, str]:
        """slug -> the module's title as this runner's guide shows it (variables filled)."""
        from generator.render.modulevalues import guide_values

        values = guide_values(self.plan, self.words)
        return {m.slug: m.with_values(values).title for m in self.plan.modules}

    @property
    def words(self) -> Words:
        """How this runner's guide writes: its language, dates and units."""
        return Words.of(self.inputs.project, self.plan.language, self.plan.units)

    @property
    def brand(self):
        return self.plan.brand

    @property
    def timeline(self):
        return self.plan.timeline

    @property
    def files(self) -> dict[str, bytes]:
        return self.result.files

    @property
    def session_dates(self) -> list[str]:
        """Every dated entry as the guide prints it (``date_long``), race day included."""
        return [self.words.date_long(s.date) for s in self.timeline.sessions]


def build(inputs: Inputs, athlete_id: str, formats: tuple[str, ...],
          maker: GuideMaker | None = None) -> Built:
    plan = plan_of(inputs, athlete_id)
    return Built(inputs, plan, (maker or GuideMaker(inputs)).make(plan, formats))


def plan_of(inputs: Inputs, athlete_id: str) -> GuidePlan:
    return plan_guide(inputs, next(a for a in inputs.athletes if a.id == athlete_id))


# ------------------------------------------------------------------ reading PDFs

def normalise(text: str) -> str:
    """One space for every run of whitespace: line wraps must not break a match."""
    return re.sub(r"\s+", " ", text).strip()


def page_texts(reader: PdfReader) -> list[str]:
    return [normalise(page.extract_text() or "") for page in reader.pages]


def poppler_text(path: Path) -> str | None:
    """pdftotext's reading of the file (a second, independent text extractor)."""
    if shutil.which("pdftotext") is None:
        return None
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True,
                         capture_output=True)
    return normalise(out.stdout.decode("utf-8"))


def _resolve(obj):
    return obj.get_object() if isinstance(obj, IndirectObject) else obj


def fonts(reader: PdfReader) -> dict[str, DictionaryObject]:
    """Every font used on any page, including inside form XObjects (SVG, logos)."""
    found: dict[str, DictionaryObject] = {}
    seen: set[int] = set()

    def visit(resources) -> None:
        resources = _resolve(resources)
        if not isinstance(resources, DictionaryObject) or id(resources) in seen:
            return
        seen.add(id(resources))
        for font in (_resolve(resources.get("/Font")) or {}).values():
            font = _resolve(font)
            found[str(font.get("/BaseFont"))] = font
        for xobject in (_resolve(resources.get("/XObject")) or {}).values():
            xobject = _resolve(xobject)
            if "/Resources" in xobject:
                visit(xobject["/Resources"])
        for pattern in (_resolve(resources.get("/Pattern")) or {}).values():
            pattern = _resolve(pattern)
            if "/Resources" in pattern:
                visit(pattern["/Resources"])

    for page in reader.pages:
        if "/Resources" in page:
            visit(page["/Resources"])
    return found


def font_is_embedded(font: DictionaryObject) -> bool:
    """A simple font or the descendant of a Type0 font carries FontFile/2/3."""
    if font.get("/Subtype") == "/Type3":
        return True  # glyphs are drawn by content streams inside the PDF
    if font.get("/Subtype") == "/Type0":
        font = _resolve(_resolve(font["/DescendantFonts"])[0])
    descriptor = _resolve(font.get("/FontDescriptor"))
    return descriptor is not None and any(
        k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))


def notdef_codes(font: DictionaryObject) -> int:
    """How many character codes a Type0 font maps to glyph 0 (.notdef, drawn as a box)."""
    encoding = _resolve(font.get("/Encoding"))
    if not isinstance(encoding, StreamObject):
        return 0
    cmap = encoding.get_data().decode("latin-1")
    return len(re.findall(r"<[0-9a-fA-F]+>\s+0\s*$", cmap, flags=re.M))


def pdffonts_rows(path: Path) -> list[list[str]] | None:
    """``pdffonts`` table rows (name, type, encoding, emb, sub, uni, object, id)."""
    if shutil.which("pdffonts") is None:
        return None
    out = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True)
    lines = out.stdout.splitlines()[2:]
    return [line.split() for line in lines if line.strip()]


def every_byte(reader: PdfReader, raw: bytes) -> bytes:
    """The file plus every stream decoded: a leak cannot hide in a Flate stream."""
    chunks = [raw]
    refs = [(num, gen) for gen, numbers in reader.xref.items() for num in numbers]
    refs += [(num, 0) for num in reader.xref_objStm]
    for num, gen in refs:
        try:
            obj = reader.get_object(IndirectObject(num, gen, reader))
        except Exception:  # free or broken object numbers
            continue
        if isinstance(obj, StreamObject):
            with contextlib.suppress(Exception):  # image filters pypdf cannot decode
                chunks.append(obj.get_data())
    return b"\n".join(chunks)


@dataclass(frozen=True)
class Link:
    page: int  # index of the page holding the annotation
    name: str | None  # named destination (the HTML id), if any
    target: int  # index of the page the link jumps to


def internal_links(reader: PdfReader) -> list[Link]:
    """Link annotations with /Dest or a GoTo action, resolved to target page indexes.

    Raises when a destination does not resolve: a broken link fails the test.
    """
    named = reader.named_destinations
    pages = {page.indirect_reference.idnum: i for i, page in enumerate(reader.pages)}
    links = []
    for index, page in enumerate(reader.pages):
        for annot in _resolve(page.get("/Annots")) or []:
            annot = _resolve(annot)
            if annot.get("/Subtype") != "/Link":
                continue
            dest = annot.get("/Dest")
            action = _resolve(annot.get("/A"))
            if dest is None and action is not None and action.get("/S") == "/GoTo":
                dest = action.get("/D")
            if dest is None:
                continue  # an external URI link
            dest = _resolve(dest)
            name = None
            if isinstance(dest, ArrayObject):  # explicit [page /XYZ ...]
                target = pages[dest[0].idnum]
            else:
                name = str(dest)
                target = reader.get_destination_page_number(named[name])
            links.append(Link(index, name, target))
    return links


# ------------------------------------------------------------------ subprocesses

def run_python(code: str, cwd: Path, env: dict[str, str] | None = None,
               timeout: int = 300) -> subprocess.CompletedProcess:
    """Run ``python -c code`` with this venv's interpreter and a controlled environment."""
    full = {k: v for k, v in os.environ.items() if k not in ("SOURCE_DATE_EPOCH",
                                                               "PYTHONHASHSEED")}
    full.update(env or {})
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=full, timeout=timeout,
                          capture_output=True, text=True)


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Answers everything with a small body, and remembers every request."""

    requests: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        type(self).requests.append(self.path)
        body = b"body{background:red}" if self.path.endswith(".css") else b"\x89PNG\r\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_HEAD = do_GET

    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def recording_server() -> Iterator[tuple[str, list[str]]]:
    """A real HTTP server on 127.0.0.1 that must receive no request: (base URL, requests)."""

    class Handler(_Recorder):
        requests: list[str] = []

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", Handler.requests
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
