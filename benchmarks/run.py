"""guidegen benchmarks: one run, ratios against baselines measured in the same run.

    make bench                      # 200 athletes, 500-module site, RSS at 200
    make bench BENCH_ARGS="--big"   # also peak RSS at 2000 athletes
    make bench BENCH_ARGS="--scale 0"   # without the 50,000-runner check/timeline figures
    make bench BENCH_ARGS="--scaling"   # also guides/s for --jobs 1, 2, 4 ... cores
    make bench-scaling              # only that

The PDF figures of issue 16 come side by side in one run, on this machine as it is
(HarfBuzz subsetting: ``libharfbuzz-subset0`` loaded) and as without that library
(``weasyprint.pdf.fonts.harfbuzz_subset = None``: WeasyPrint subsets with fontTools).
The naive loop uses WeasyPrint's own subsetting; guidegen always subsets through the
pinned uharfbuzz (generator/pdf/fontsubset.py), the same bytes on both.

Writes benchmarks/results.md (machine, library versions, numbers).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RESULTS = ROOT / "benchmarks" / "results.md"

import proctree  # noqa: E402 - CPU and memory of a process tree, from /proc
import site_edit  # noqa: E402 - the site beside Hugo and Pelican (also runs alone)
from projects import make_project, write_roster  # noqa: E402 - shared with scale.py, profile.py

# the two machines of issue 16's table: label -> True for "as without libharfbuzz-subset0"
MODES = {"HarfBuzz subsetting": False, "fontTools subsetting (no libharfbuzz-subset0)": True}
# imported by every Python process started with no_system_harfbuzz()'s environment (batch
# workers too, however they start: fork, fork server or spawn)
SITECUSTOMIZE = """import weasyprint.pdf.fonts as _fonts
_fonts.harfbuzz_subset = None  # as without libharfbuzz-subset0: WeasyPrint uses fontTools
"""


def no_system_harfbuzz(tmp: Path, without: bool) -> dict:
    """The environment of a process on a machine without libharfbuzz-subset0, or {}."""
    if not without:
        return {}
    folder = tmp / "no-system-harfbuzz"
    folder.mkdir(exist_ok=True)
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    return {"PYTHONPATH": os.pathsep.join(filter(None, [str(folder),
                                                        os.environ.get("PYTHONPATH")]))}


def timed(cmd: list[str], cwd: Path, env: dict | None = None, before=None) -> float:
    if before is not None:
        before()
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env={**os.environ, **(env or {})}, check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def naive_baseline(project: Path, limit: int,
                   env: dict | None = None) -> tuple[float, int, float]:
    """One process; per athlete HTML(string=full guide).write_pdf() with the same CSS files,
    fetcher and libraries: what a straightforward script would do. Returns wall seconds,
    guides and CPU seconds."""
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
t, cpu = time.perf_counter(), time.process_time()
for a in athletes:
    html = r.guide_html(plan_guide(i, a), "pdf")
    weasyprint.HTML(string=html, base_url=root.as_uri() + "/", url_fetcher=fetcher).write_pdf(
        stylesheets=css, pdf_tags=True, pdf_variant="pdf/ua-1")
print(time.perf_counter() - t, len(athletes), time.process_time() - cpu)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=project, env={**os.environ, **(env or {})})
    seconds, count, cpu = out.stdout.split()
    return float(seconds), int(count), float(cpu)


def batch(project: Path, *extra: str, env: dict | None = None,
          out: str = "output") -> tuple[float, dict]:
    cmd = [str(BIN / "guidegen"), "batch", "data/athletes.csv", "--out", str(project / out),
           *extra]
    start = time.perf_counter()
    # sampled from /proc: the fork server's workers are not waited for by the batch, so
    # getrusage(RUSAGE_CHILDREN) would miss their CPU (benchmarks/proctree.py)
    proc, tree = proctree.run(cmd, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env={**os.environ, **(env or {})})
    seconds = time.perf_counter() - start
    line = [x for x in proc.stderr.splitlines() if x.startswith("guides:")]
    return seconds, {"line": line[-1] if line else proc.stderr[-300:], "rc": proc.returncode,
                     "cpu": tree.cpu_seconds,  # CPU seconds of guidegen and its workers
                     "rss": tree.peak_rss_mb()}  # the largest process it started


def worker_peak_rss(project: Path, athletes: int) -> float:
    """Peak RSS (MB) of the largest worker process (VmHWM, sampled from /proc: the fork
    server's workers are not waited for by the batch, so RUSAGE_CHILDREN misses them)."""
    write_roster(project / "data" / "athletes.csv", athletes, seed=11)
    _seconds, made = batch(project, "--formats", "pdf", "--force", out="output-rss")
    return made["rss"]


def profiled(tmp: Path, without: bool, athletes: int, warm: int) -> dict:
    """benchmarks/profile.py's numbers (CPU seconds per guide, one warmed worker)."""
    cmd = [sys.executable, str(ROOT / "benchmarks" / "profile.py"), "--json",
           "--athletes", str(athletes), "--warm", str(warm)]
    out = subprocess.run(cmd + (["--no-system-harfbuzz"] if without else []),
                         capture_output=True, text=True, check=True, cwd=tmp,
                         env={**os.environ, **no_system_harfbuzz(tmp, without)})
    return json.loads(out.stdout.strip().splitlines()[-1])


def pdf_table(tmp: Path, proj: Path, args) -> tuple[list, list[str], float]:
    """Issue 16's table, both machines side by side: the naive loop and ``guidegen batch``
    (guides/s, wall clock) and one worker's profile (CPU s per guide). Returns the rows,
    the table's lines and the cold batch's seconds on this machine as it is."""
    head = ["| | naive full render | fast path total | runner's own pages laid out | "
            "PDF write (of it, own pages painted) | fast / own layout (floor) | naive loop | "
            "`guidegen batch` | batch / naive (floor) | CPU s per guide: naive loop / batch |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    rows, lines, cold = [], [], 0.0
    for label, without in MODES.items():
        env = no_system_harfbuzz(tmp, without)
        # the same guides timed just before and just after the batch: the machine's
        # speed drifts within minutes, and this shows by how much in this very run
        half = max(1, args.baseline // 2)
        before = naive_baseline(proj, half, env)
        seconds, made = batch(proj, "--formats", "pdf", "--force", env=env,
                              out="output-fonttools" if without else "output")
        after = naive_baseline(proj, half, env)
        base_s, base_n, base_cpu = (x + y for x, y in zip(before, after, strict=True))
        rate_before, rate_after = before[1] / before[0], after[1] / after[0]
        cold = cold or seconds
        found = profiled(tmp, without, args.profile, args.warm)
        base_rate, rate = base_n / base_s, args.athletes / seconds
        ratio = found["fast"] / found["own_layout"]
        # what no reuse can remove: the runner's own pages laid out and painted
        floor = found["own_layout"] + found["paint_own"]
        n_cores = len(os.sched_getaffinity(0))  # the batch's workers (--jobs default)
        # CPU per guide does not depend on how busy the machine was (wall clock does)
        cpu_naive, cpu_batch = base_cpu / base_n, made["cpu"] / args.athletes
        lines.append(
            f"| {label} | {found['naive']:.2f} s | {found['fast']:.2f} s | "
            f"{found['own_layout']:.2f} s | {found['parts']['write']:.2f} s "
            f"({found['paint_own']:.2f} s) | **{ratio:.2f}x** (target <= 1.25; floor "
            f"{floor / found['own_layout']:.2f}x) | {base_rate:.2f} guides/s "
            f"({rate_before:.2f} before the batch, {rate_after:.2f} after) | "
            f"{rate:.2f} guides/s | **{rate / base_rate:.1f}x** ({rate / rate_before:.1f}x "
            f"and {rate / rate_after:.1f}x; target >= 4x; floor "
            f"{n_cores * found['naive'] / floor:.1f}x on {n_cores} cores) | "
            f"{cpu_naive:.2f} s / {cpu_batch:.2f} s = {cpu_naive / cpu_batch:.2f}x |")
        print(f"a. {label}: naive {base_rate:.2f} guides/s ({base_n} in {base_s:.1f}s, CPU "
              f"{cpu_naive:.2f}s/guide; {rate_before:.2f} before the batch, {rate_after:.2f} "
              f"after); batch {rate:.2f} guides/s ({made['line']}, wall "
              f"{seconds:.1f}s, CPU {cpu_batch:.2f}s/guide) = {rate / base_rate:.1f}x; per "
              f"guide naive {found['naive']:.2f}s, fast {found['fast']:.2f}s, own layout "
              f"{found['own_layout']:.2f}s ({ratio:.2f}x), write "
              f"{found['parts']['write']:.2f}s (own pages painted {found['paint_own']:.2f}s, "
              f"other pages {found['paint_other']:.2f}s), collect "
              f"{found['parts']['collect']:.2f}s; fonts {found['fonts']}")
        rows.append((f"`guidegen batch`, {label}", f"{rate:.2f} guides/s",
                     f"{args.athletes} guides in {seconds:.1f}s; **{rate / base_rate:.1f}x** "
                     f"the naive loop ({base_rate:.2f} guides/s: {rate_before:.2f} just before "
                     f"the batch, {rate_after:.2f} just after, the same {half} guides; "
                     f"target >= 4x). 4x on {n_cores} cores needs at most "
                     f"{n_cores * cpu_naive / 4:.2f} s of CPU per guide in the batch (every "
                     f"core busy); it took {cpu_batch:.2f} s, against {found['fast']:.2f} s "
                     f"for one warmed worker alone (profile.py), whose runner's own pages "
                     f"take {floor:.2f} s to lay out and paint"))
    return rows, head + lines, cold


def scaling(tmp: Path, per_job: int) -> list:
    """guides/s of a cold ``guidegen batch`` for --jobs 1, 2, 4 ... cores, and the parallel
    efficiency (guides/s at N jobs / (N x guides/s at 1 job))."""
    cores = os.cpu_count() or 1
    jobs = sorted({*(2 ** i for i in range(cores.bit_length()) if 2 ** i <= cores), cores})
    proj = make_project(tmp / "scaling", per_job * max(jobs))
    rows, single = [], 0.0
    for n in jobs:
        write_roster(proj / "data" / "athletes.csv", per_job * n, seed=5)
        seconds, made = batch(proj, "--formats", "pdf", "--force", "--jobs", str(n),
                              out=f"output-{n}")
        rate = per_job * n / seconds
        single = single or rate
        rows.append((f"--jobs {n}", f"{rate:.2f} guides/s",
                     f"{per_job * n} guides in {seconds:.1f}s; parallel efficiency "
                     f"**{rate / (n * single):.2f}** (target >= 0.8 on 16 cores)"))
        print(f"f. --jobs {n}: {rate:.2f} guides/s, efficiency {rate / (n * single):.2f} "
              f"({made['line']})")
    return rows


def versions() -> str:
    names = ["weasyprint", "pydyf", "uharfbuzz", "jinja2", "markdown", "pelican", "icalendar",
             "pydantic"]
    found = []
    for n in names:
        try:
            found.append(f"{n} {metadata.version(n)}")
        except metadata.PackageNotFoundError:
            pass
    return ", ".join(found)


STARTED = time.gmtime()  # when the run began (results.md says when it ran)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--athletes", type=int, default=200)
    ap.add_argument("--baseline", type=int, default=24,
                    help="guides timed for the naive baseline, half just before the batch "
                         "and the same half just after (rate is per guide)")
    ap.add_argument("--modules", type=int, default=500)
    ap.add_argument("--profile", type=int, default=16,
                    help="athletes timed by benchmarks/profile.py, per machine")
    ap.add_argument("--warm", type=int, default=8, help="profile.py's untimed warm-up")
    ap.add_argument("--big", action="store_true", help="also measure RSS at 2000 athletes")
    ap.add_argument("--scaling", action="store_true",
                    help="also guides/s for --jobs 1, 2, 4 ... cores (parallel efficiency)")
    ap.add_argument("--scaling-only", action="store_true",
                    help="only print the --scaling figures (make bench-scaling)")
    ap.add_argument("--per-job", type=int, default=24,
                    help="guides per job in the --scaling runs")
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
        if args.scaling_only:  # printed; `make bench BENCH_ARGS=--scaling` records them
            for row in scaling(tmp, args.per_job):
                print("| " + " | ".join(row) + " |")
            return
        pdf_rows, table, cold_s = pdf_table(tmp, proj, args)
        rows += pdf_rows
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
        rows += site_edit.run(tmp, args.modules)  # cold vs Pelican, an edit vs Hugo
        for n in [200] + ([2000] if args.big else []):
            rss = worker_peak_rss(proj, n)
            rows.append((f"peak RSS per worker, {n} athletes", f"{rss:.0f} MB",
                         "largest worker process (target <= 250 MB at 2000)"))
            print(f"e. peak worker RSS at {n}: {rss:.0f} MB")
        if args.scale:
            import scale

            rows += scale.run(tmp, args.scale)
        if args.scaling:
            rows += scaling(tmp, args.per_job)
    flags = " ".join(sys.argv[1:])  # every option given, so the run can be repeated
    lines = ["PDF per guide (CPU s, one warmed worker, benchmarks/profile.py) and batch "
             "against the naive loop (wall clock), on this machine as it is and as without "
             "libharfbuzz-subset0:", "", *table, "",
             "| measure | result | notes |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    write_results(lines, f"make bench{f' BENCH_ARGS={flags!r}' if flags else ''}", env_note)


def write_results(lines: list[str], command: str, env_note: str) -> None:
    ended = time.gmtime()
    head = ["# Benchmark results", "", f"Command: `{command}`  ",
            f"Date: {time.strftime('%Y-%m-%d %H:%M', STARTED)}-"
            f"{time.strftime('%H:%M', ended)} UTC  ", f"Machine: {env_note}", ""]
    RESULTS.write_text("\n".join(head + lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
