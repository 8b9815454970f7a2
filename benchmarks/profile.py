"""Where a guide's PDF time goes: one worker, the fast path against the naive render.

    .venv/bin/python benchmarks/profile.py [--athletes 40] [--warm 8] [--roster 200]
                                           [--workers 2] [--no-system-harfbuzz]
    make profile PROFILE_ARGS=--no-system-harfbuzz

``--no-system-harfbuzz`` profiles as on a machine without ``libharfbuzz-subset0``:
WeasyPrint's own subsetting (the naive render's) falls back to fontTools; guidegen subsets
through the pinned uharfbuzz either way (generator/pdf/fontsubset.py).

Renders, in one process, the guides one worker gets in a batch of a generated roster
(``--roster`` runners shared by ``--workers``, queued as the batch queues them: guides that
reuse the same parts together, fastpdf.reuse_order).  For each athlete after the warm-up
it times, in CPU seconds and alternately (so machine noise hits both alike),
the naive render (full guide HTML -> write_pdf, as in benchmarks/run.py) and
guidegen's fast path, split into its parts: the personal cover and body, the
repeated parts (contents, closing pages, shared modules: layout on a cache
miss, lookup on a hit), the numbered frames grafted onto reused pages, and
writing the PDF (repeated pages' painting replayed, paintcache.py; fonts subset once per
worker, fontcache.py), and the garbage collection a batch worker runs after each guide
(core/heap.py).  Prints seconds per guide for each, how many pages were personal or
reused, and the issue 16 ratio: fast path per guide / the layout of the runner's own pages
(cover and body; target <= 1.25).  ``--json`` prints the numbers for benchmarks/run.py.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--athletes", type=int, default=40, help="athletes timed")
    ap.add_argument("--warm", type=int, default=8, help="athletes rendered first, untimed")
    ap.add_argument("--roster", type=int, default=200,
                    help="runners in the roster whose batch is sampled (make bench's 200)")
    ap.add_argument("--workers", type=int, default=2,
                    help="workers sharing that batch: the one profiled gets every N-th guide")
    ap.add_argument("--no-system-harfbuzz", action="store_true",
                    help="as without libharfbuzz-subset0 (WeasyPrint subsets with fontTools)")
    ap.add_argument("--json", action="store_true", help="one JSON line (benchmarks/run.py)")
    args = ap.parse_args()
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1790000000")
    if args.no_system_harfbuzz:
        without_system_harfbuzz()
    found = measure(args.athletes, args.warm, args.roster, args.workers)
    if args.json:
        print(json.dumps(found))
    else:
        report(found)


def without_system_harfbuzz() -> None:
    """This process as on a machine without libharfbuzz-subset0 (WeasyPrint's check)."""
    import weasyprint.pdf.fonts

    weasyprint.pdf.fonts.harfbuzz_subset = None


def measure(athletes: int, warm: int, roster: int = 200, workers: int = 2) -> dict:
    """CPU seconds per guide: naive render, fast path and its parts (one process), for the
    guides one of ``workers`` workers renders in a batch of ``roster`` runners: the batch
    queues them in reuse_order and a worker takes every ``workers``-th, so how often a
    repeated part is found in the worker's caches is as in that batch."""
    import weasyprint
    from projects import make_project
    from weasyprint.pdf.fonts import Font

    import generator.pdf.fastpdf as fastpdf
    import generator.pdf.paintcache as paintcache
    from generator.core.heap import GuideCollector
    from generator.load.inputs import load_inputs
    from generator.load.project import load_project
    from generator.pdf.fastpdf import reuse_order
    from generator.pdf.maker import make_fetcher
    from generator.plan.guideplan import plan_guide
    from generator.publish.guides import GuideMaker

    with tempfile.TemporaryDirectory(prefix="guidegen-profile-") as tmp:
        root = make_project(Path(tmp) / "project", max(roster, (warm + athletes) * workers))
        project = load_project(root)
        inputs = load_inputs(project, root / "data" / "athletes.csv")
        maker = GuideMaker(inputs)
        fetcher = make_fetcher([root], [])
        css = [str(project.templates_dir / "assets" / name)
               for name in ("guide.css", "print.css")]

        seconds: Counter = Counter()
        misses: Counter = Counter()
        pages: Counter = Counter()

        def timed(name, key):
            plain = getattr(fastpdf.FastGuidePdf, name)

            def wrapper(self, *a, **k):
                part = key(a)
                before = self.stats["laid_out"] + len(self._frames)
                start = time.process_time()
                try:
                    made = plain(self, *a, **k)
                    pages[part] += len(getattr(made, "pages", made))
                    if part in ("cover", "body"):
                        own.update(id(page) for page in made.pages)
                    return made
                finally:
                    seconds[part] += time.process_time() - start
                    if self.stats["laid_out"] + len(self._frames) != before:
                        misses[part] += 1
            setattr(fastpdf.FastGuidePdf, name, wrapper)

        own: set = set()  # the runner's own pages (cover, body) of the guide being made
        own_active = False
        plain_paint = weasyprint.document.Page.paint

        def paint(page, *a, **k):  # painting (a replayed page is not painted: paintcache)
            if not own_active:
                return plain_paint(page, *a, **k)  # the naive render's
            start = time.process_time()
            try:
                return plain_paint(page, *a, **k)
            finally:
                paint_s["own" if id(page) in own else "other"] += time.process_time() - start
        paint_s: Counter = Counter()
        weasyprint.document.Page.paint = paint

        timed("_personal", lambda a: a[1])
        timed("_cached", lambda a: a[3])
        pdf = maker.pdf_maker
        plain_write = pdf.write

        def write(doc, identifier):
            start = time.process_time()
            try:
                return plain_write(doc, identifier)
            finally:
                seconds["write"] += time.process_time() - start
        pdf.write = write

        # in the order a batch queues them (guides reusing the same parts together)
        plans = sorted((plan_guide(inputs, a) for a in inputs.athletes), key=reuse_order)
        plans = plans[::workers][:warm + athletes]
        collector = GuideCollector()  # as in a batch worker: collected between guides
        for plan in plans[:warm]:
            with collector.guide():
                maker.make(plan, ("pdf",))
        seconds.clear()
        misses.clear()
        pages.clear()
        paint_s.clear()
        painted = dict(paintcache.counts)
        naive = fast = 0.0
        for plan in plans[warm:]:
            start = time.process_time()
            html = maker.renderer.guide_html(plan, "pdf")
            # WeasyPrint's own subsetting, as in a plain script (guidegen's is patched in)
            ours, Font.subset = Font.subset, getattr(Font.subset, "guidegen_plain",
                                                     Font.subset)
            try:
                weasyprint.HTML(string=html, base_url=root.as_uri() + "/",
                                url_fetcher=fetcher).write_pdf(
                    stylesheets=css, pdf_tags=True, pdf_variant="pdf/ua-1")
            finally:
                Font.subset = ours
            middle = time.process_time()
            with collector.guide():
                own.clear()
                own_active = True
                maker.make(plan, ("pdf",))
                own_active = False
                made = time.process_time()
            seconds["collect"] += time.process_time() - made
            naive += middle - start
            fast += time.process_time() - middle

        fonts = dict(maker.pdf_maker.font_programs.counts)

    n = athletes
    parts = {part: seconds[part] / n for part in
             ("cover", "body", "toc", "closing", "shared", "frame", "write",
                          "collect")}
    return {
        "guides": n, "warm": warm, "naive": naive / n, "fast": fast / n, "parts": parts,
        "other": (fast - sum(seconds.values())) / n,
        "misses": {part: misses[part] for part in ("toc", "closing", "shared", "frame")},
        "own_layout": parts["cover"] + parts["body"],
        "pages_personal": sum(pages[p] for p in ("cover", "body", "toc")) / n,
        "pages_reused": (pages["closing"] + pages["shared"]) / n,
        "replays": (paintcache.counts["replayed"] - painted["replayed"]) / n,
        "fonts": fonts,
        # painting inside "write": the runner's own pages, and the rest (contents, first
        # paints of newly laid-out repeated pages, pages whose replay was refused)
        "paint_own": paint_s["own"] / n, "paint_other": paint_s["other"] / n,
    }


def report(found: dict) -> None:
    n, parts = found["guides"], found["parts"]
    print(f"{n} guides after {found['warm']} warm-up, CPU seconds per guide (one worker)")
    print(f"  naive full render      {found['naive']:6.3f}")
    print(f"  fast path, total       {found['fast']:6.3f}   "
          f"({found['naive'] / found['fast']:.2f}x per worker)")
    for part, value in parts.items():
        extra = f"   cache misses {found['misses'][part]}/{n}" if part in found["misses"] \
            else ""
        print(f"    {part:<20} {value:6.3f}{extra}")
    print(f"    {'HTML, joining, other':<20} {found['other']:6.3f}")
    print(f"  pages per guide: {found['pages_personal']:.1f} laid out for the athlete (cover, "
          f"contents, body), {found['pages_reused']:.1f} reused (closing, shared); "
          f"{found['replays']:.1f} painting replays")
    fonts = found["fonts"]
    print(f"  fonts: {fonts['supersets']} subset once, embedded {fonts['covered']} times; "
          f"{fonts['own']} guides' fonts needed a subset of their own")
    floor = found["own_layout"] + found["paint_own"]
    print(f"  painting in write: the runner's own pages {found['paint_own']:.3f}, other pages "
          f"{found['paint_other']:.3f}")
    print(f"  floor (the runner's own pages laid out and painted) {floor:.3f}: fast / own "
          f"layout >= {floor / found['own_layout']:.2f}x; two workers at best "
          f"{2 * found['naive'] / floor:.1f}x the naive loop")
    ratio = found["fast"] / found["own_layout"]
    print(f"  fast path / layout of the runner's own pages (cover + body "
          f"{found['own_layout']:.3f}): {ratio:.2f}x (issue 16 target <= 1.25)")


if __name__ == "__main__":
    main()
