"""Where a guide's PDF time goes: one worker, the fast path against the naive render.

    .venv/bin/python benchmarks/profile.py [--athletes 40] [--warm 8]

Renders a generated roster in one process.  For each athlete after the warm-up
it times, in CPU seconds and alternately (so machine noise hits both alike),
the naive render (full guide HTML -> write_pdf, as in benchmarks/run.py) and
guidegen's fast path, split into its parts: the personal cover and body, the
repeated parts (contents, closing pages, shared modules: layout on a cache
miss, lookup on a hit), the numbered frames grafted onto reused pages, and
writing the PDF (repeated pages' painting replayed, paintcache.py).  Prints
seconds per guide for each, and how many pages were personal or reused.
"""

from __future__ import annotations

import argparse
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
    args = ap.parse_args()
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1790000000")

    import weasyprint
    from projects import make_project

    import generator.pdf.fastpdf as fastpdf
    import generator.pdf.paintcache as paintcache
    from generator.load.inputs import load_inputs
    from generator.load.project import load_project
    from generator.pdf.maker import make_fetcher
    from generator.plan.guideplan import plan_guide
    from generator.publish.guides import GuideMaker

    with tempfile.TemporaryDirectory(prefix="guidegen-profile-") as tmp:
        root = make_project(Path(tmp) / "project", args.warm + args.athletes)
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
                    return made
                finally:
                    seconds[part] += time.process_time() - start
                    if self.stats["laid_out"] + len(self._frames) != before:
                        misses[part] += 1
            setattr(fastpdf.FastGuidePdf, name, wrapper)

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

        plans = [plan_guide(inputs, a) for a in inputs.athletes]
        for plan in plans[:args.warm]:
            maker.make(plan, ("pdf",))
        seconds.clear()
        misses.clear()
        pages.clear()
        painted = dict(paintcache.counts)
        naive = fast = 0.0
        for plan in plans[args.warm:]:
            start = time.process_time()
            html = maker.renderer.guide_html(plan, "pdf")
            weasyprint.HTML(string=html, base_url=root.as_uri() + "/",
                            url_fetcher=fetcher).write_pdf(
                stylesheets=css, pdf_tags=True, pdf_variant="pdf/ua-1")
            middle = time.process_time()
            maker.make(plan, ("pdf",))
            naive += middle - start
            fast += time.process_time() - middle

    n = args.athletes
    print(f"{n} guides after {args.warm} warm-up, CPU seconds per guide (one worker)")
    print(f"  naive full render      {naive / n:6.3f}")
    print(f"  fast path, total       {fast / n:6.3f}   ({naive / fast:.2f}x per worker)")
    for part in ("cover", "body", "toc", "closing", "shared", "frame", "write"):
        extra = f"   cache misses {misses[part]}/{n}" if part in misses or part in (
            "toc", "closing", "shared", "frame") else ""
        print(f"    {part:<20} {seconds[part] / n:6.3f}{extra}")
    rest = fast - sum(seconds.values())
    print(f"    {'HTML, joining, other':<20} {rest / n:6.3f}")
    personal = sum(pages[p] for p in ("cover", "body", "toc")) / n
    repeated = (pages["closing"] + pages["shared"]) / n
    replayed = (paintcache.counts["replayed"] - painted["replayed"]) / n
    print(f"  pages per guide: {personal:.1f} laid out for the athlete (cover, contents, body), "
          f"{repeated:.1f} reused (closing, shared); {replayed:.1f} painting replays")


if __name__ == "__main__":
    main()
