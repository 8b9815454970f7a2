"""guidegen benchmarks: one run, ratios against baselines measured in the same run.

    make bench                      # 200 athletes, 500-module site, RSS at 200
    make bench BENCH_ARGS="--big"   # also peak RSS at 2000 athletes
    make bench BENCH_ARGS="--scale 0"   # without the 50,000-runner check/timeline figures

Writes benchmarks/results.md (machine, library versions, numbers).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RESULTS = ROOT / "benchmarks" / "results.md"

from projects import make_project, write_roster  # noqa: E402 - shared with scale.py, profile.py


def timed(cmd: list[str], cwd: Path, env: dict | None = None, before=None) -> float:
    if before is not None:
        before()
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env={**os.environ, **(env or {})}, check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def naive_baseline(project: Path, limit: int) -> tuple[float, int]:
    """One process; per athlete HTML(string=full guide).write_pdf() with the same CSS files,
    fetcher and libraries: what a straightforward script would do."""
    code = f"""
import sys, time
from pathlib import Path
import weasyprint
from generator.load.project import load_project
from generator.load.inputs import load_inputs
from generator.render.renderer import Renderer
from generator.plan.guideplan import plan_guide
from generator.pdf.maker import make_fetcher
root = Path({str(project)!r})
p = load_project(root); i = load_inputs(p, root / "data/athletes.csv")
r = Renderer(p.templates_dir, p, i.context); fetcher = make_fetcher([root], [])
css = [str(p.templates_dir / "assets/guide.css"), str(p.templates_dir / "assets/print.css")]
athletes = i.athletes[:{limit}]
t = time.perf_counter()
for a in athletes:
    html = r.guide_html(plan_guide(i, a), "pdf")
    weasyprint.HTML(string=html, base_url=root.as_uri() + "/", url_fetcher=fetcher).write_pdf(
        stylesheets=css, pdf_tags=True, pdf_variant="pdf/ua-1")
print(time.perf_counter() - t, len(athletes))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=project)
    seconds, count = out.stdout.split()
    return float(seconds), int(count)


def batch(project: Path, *extra: str) -> tuple[float, dict]:
    out = project / "output"
    cmd = [str(BIN / "guidegen"), "batch", "data/athletes.csv", "--out", str(out), *extra]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=project, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    line = [x for x in proc.stderr.splitlines() if x.startswith("guides:")]
    return seconds, {"line": line[-1] if line else proc.stderr[-300:], "rc": proc.returncode}


def worker_peak_rss(project: Path, athletes: int) -> float:
    """Peak RSS (MB) of the largest worker process, from RUSAGE_CHILDREN of a wrapper."""
    write_roster(project / "data" / "athletes.csv", athletes, seed=11)
    code = f"""
import resource, subprocess, sys
subprocess.run([{str(BIN / 'guidegen')!r}, "batch", "data/athletes.csv", "--out",
                "output-rss", "--formats", "pdf", "--force"], check=False,
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=project, check=True)
    return float(out.stdout.strip())


SITE_ROUNDS = 5


def site_vs_pelican(tmp: Path, modules: int) -> tuple[float, float]:
    gg = tmp / "site-project"
    gg.mkdir()
    for name in ("guidegen.toml", "templates", "brands"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, gg / name)
    (gg / "content").mkdir(parents=True)
    pel = tmp / "pelican"
    (pel / "content").mkdir(parents=True)
    rnd = random.Random(3)
    words = ("massage runner recovery calves tissue circulation taper marathon session "
             "pressure therapist training load soreness sleep hydration stride").split()
    for i in range(modules):
        paras = "\n\n".join(" ".join(rnd.choice(words) for _ in range(80)) + "."
                            for _ in range(6))
        body = f"## Section one\n\n{paras}\n\n## Section two\n\n- point a\n- point b\n"
        title = f"Module {i:03d} {rnd.choice(words)}"
        (gg / "content" / f"m{i:03d}.md").write_text(
            f"---\ntitle: {title}\norder: {i}\nsummary: Summary of module {i}.\n---\n{body}",
            encoding="utf-8")
        (pel / "content" / f"m{i:03d}.md").write_text(
            f"Title: {title}\nDate: 2027-01-01\nSlug: m{i:03d}\nSummary: Summary of module {i}."
            f"\n\n{body}", encoding="utf-8")
    (pel / "conf.py").write_text(
        "SITENAME='Bench'\nSITEURL=''\nTIMEZONE='UTC'\nDEFAULT_LANG='en'\n"
        "LOAD_CONTENT_CACHE=False\nRELATIVE_URLS=True\n", encoding="utf-8")
    # both start from an empty output folder every time (Pelican deletes its own); the
    # runs alternate, so a noisy spell on the machine hits both, and each keeps its best
    ours, theirs = [], []
    for _ in range(SITE_ROUNDS):
        ours.append(timed([str(BIN / "guidegen"), "site", "--out", str(gg / "out")], gg,
                          before=lambda: shutil.rmtree(gg / "out", ignore_errors=True)))
        theirs.append(timed([str(BIN / "pelican"), "content", "-s", "conf.py", "-o", "out",
                             "--delete-output-directory"], pel))
    return min(ours), min(theirs)


def versions() -> str:
    names = ["weasyprint", "pydyf", "jinja2", "markdown", "pelican", "icalendar", "pydantic"]
    found = []
    for n in names:
        try:
            found.append(f"{n} {metadata.version(n)}")
        except metadata.PackageNotFoundError:
            pass
    return ", ".join(found)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--athletes", type=int, default=200)
    ap.add_argument("--baseline", type=int, default=24,
                    help="athletes timed for the naive baseline (rate is per guide)")
    ap.add_argument("--modules", type=int, default=500)
    ap.add_argument("--big", action="store_true", help="also measure RSS at 2000 athletes")
    ap.add_argument("--scale", type=int, default=50_000, metavar="N",
                    help="check/timeline time and memory at N generated runners "
                         "(benchmarks/scale.py; 0 skips)")
    args = ap.parse_args()
    rows = []
    env_note = (f"{os.cpu_count()} cores, Python {platform.python_version()}, "
                f"{platform.machine()}, {versions()}")
    with tempfile.TemporaryDirectory(prefix="guidegen-bench-") as t:
        tmp = Path(t)
        proj = make_project(tmp / "project", args.athletes)
        os.environ.setdefault("SOURCE_DATE_EPOCH", "1790000000")
        base_s, base_n = naive_baseline(proj, args.baseline)
        base_rate = base_n / base_s
        print(f"a. naive baseline: {base_n} guides in {base_s:.1f}s = {base_rate:.2f} guides/s")
        cold_s, cold = batch(proj, "--formats", "pdf")
        rate = args.athletes / cold_s
        print(f"b. guidegen batch: {cold['line']} (wall {cold_s:.1f}s) = {rate:.2f} guides/s "
              f"= {rate / base_rate:.1f}x baseline")
        rows += [("naive baseline (1 process, full guide per write_pdf)",
                  f"{base_rate:.2f} guides/s", f"{base_n} guides in {base_s:.1f}s"),
                 ("`guidegen batch` (default jobs)", f"{rate:.2f} guides/s",
                  f"{args.athletes} guides in {cold_s:.1f}s; **{rate / base_rate:.1f}x** "
                  "baseline (target >= 8x)")]
        noop_s, noop = batch(proj, "--formats", "pdf")
        rows.append(("no-op rebuild", f"{noop_s:.2f}s",
                     f"{noop_s / cold_s * 100:.1f}% of cold build (target <= 2%); {noop['line']}"))
        print(f"c. no-op: {noop_s:.2f}s ({noop['line']})")
        roster = proj / "data" / "athletes.csv"
        text = roster.read_text(encoding="utf-8").splitlines()
        text[1] = text[1] + " (changed)" if text[1].endswith('"') is False else text[1]
        roster.write_text("\n".join(text) + "\n", encoding="utf-8")
        one_s, one = batch(proj, "--formats", "pdf")
        rows.append(("one athlete changed", f"{one_s:.2f}s",
                     f"{one_s / cold_s * 100:.1f}% of cold build; {one['line']}"))
        print(f"c. one changed: {one_s:.2f}s ({one['line']})")
        ours, theirs = site_vs_pelican(tmp, args.modules)
        rows.append((f"site build, {args.modules} modules", f"{ours:.2f}s",
                     f"Pelican {theirs:.2f}s: **{ours / theirs:.2f}x** Pelican's time "
                     "(target <= 0.5x)"))
        print(f"d. site: guidegen {ours:.2f}s vs pelican {theirs:.2f}s")
        for n in [200] + ([2000] if args.big else []):
            rss = worker_peak_rss(proj, n)
            rows.append((f"peak RSS per worker, {n} athletes", f"{rss:.0f} MB",
                         "largest worker process (target <= 300 MB at 2000)"))
            print(f"e. peak worker RSS at {n}: {rss:.0f} MB")
        if args.scale:
            import scale

            rows += scale.run(tmp, args.scale)
    lines = ["# Benchmark results", "",
             f"Command: `make bench{' BENCH_ARGS=--big' if args.big else ''}`  ",
             f"Machine: {env_note}", "",
             "| measure | result | notes |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
