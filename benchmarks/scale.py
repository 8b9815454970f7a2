"""Race-organiser scale: time and peak memory of the commands that read a whole roster, at
50,000 generated runners (a big city marathon), beside their targets.

    python benchmarks/scale.py                       # 50,000 runners
    python benchmarks/scale.py --runners 10000 --batch

Each command runs in a fresh wrapper process that reports its wall time and the peak
resident memory of the command and every process it started
(``getrusage(RUSAGE_CHILDREN).ru_maxrss``: the largest of them, workers included).
``make bench`` runs this too (``benchmarks/run.py --scale N``, 0 to skip).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from projects import make_project  # noqa: E402
from projects import write_roster as run_roster  # noqa: E402

# (command, seconds target or None, MB target or None)
TARGETS = {
    "check": (30.0, 200.0),
    "timeline --jsonl": (None, 200.0),
    "timeline --json": (None, None),
    "batch --formats ics": (None, None),
}

WRAPPER = """
import json, resource, subprocess, sys, time
cmd, out = json.loads(sys.argv[1]), sys.argv[2]
start = time.perf_counter()
with open(out, "wb") as fh:
    done = subprocess.run(cmd, stdout=fh, stderr=subprocess.PIPE)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "mb": peak, "rc": done.returncode,
                  "stderr": done.stderr.decode("utf-8", "replace")[-400:]}))
"""


def write_roster(path: Path, n: int, seed: int = 50) -> None:
    """``n`` runners whose races are 1 to 7 months from today (never in the past, which
    guidegen refuses for a new runner), 1 in 10 with notes (run.py's generator)."""
    run_roster(path, n, seed, first_race=dt.date.today() + dt.timedelta(days=30),
               notes_every=10)


def measure(args: list[str], project: Path, output: Path) -> dict:
    cmd = [str(BIN / "guidegen"), *args]
    done = subprocess.run([sys.executable, "-c", WRAPPER, json.dumps(cmd), str(output)],
                          cwd=project, capture_output=True, text=True, check=True)
    result = json.loads(done.stdout)
    result["bytes"] = output.stat().st_size
    output.unlink()
    return result


def run(tmp: Path, runners: int, batch: bool = False) -> list[tuple[str, str, str]]:
    """Measure at ``runners``; rows (measure, result, notes) for results.md."""
    project = make_project(tmp / f"scale-{runners}", 0)
    write_roster(project / "data" / "athletes.csv", runners)
    commands = {"check": ["check", "data/athletes.csv"],
                "timeline --jsonl": ["timeline", "data/athletes.csv", "--jsonl"],
                "timeline --json": ["timeline", "data/athletes.csv", "--json"]}
    if batch:
        commands["batch --formats ics"] = ["batch", "data/athletes.csv", "--formats", "ics",
                                           "--out", str(tmp / f"scale-out-{runners}")]
    rows = []
    for name, args in commands.items():
        found = measure(args, project, tmp / "stdout")
        seconds_target, mb_target = TARGETS[name]
        verdicts = []
        if seconds_target is not None:
            verdicts.append(f"time target <= {seconds_target:.0f} s: "
                            f"{'met' if found['seconds'] <= seconds_target else 'MISSED'}")
        if mb_target is not None:
            verdicts.append(f"memory target <= {mb_target:.0f} MB: "
                            f"{'met' if found['mb'] <= mb_target else 'MISSED'}")
        rc = "" if found["rc"] == 0 else f"; exit {found['rc']}: {found['stderr'][-200:]!r}"
        size = f"; {found['bytes'] / 2**20:.0f} MB of output" if found["bytes"] else ""
        result = f"{found['seconds']:.1f} s, {found['mb']:.0f} MB peak"
        rows.append((f"`guidegen {name}`, {runners:,} runners", result,
                     "; ".join(verdicts or ["no target"]) + size + rc))
        print(f"f. {name} at {runners:,}: {result} ({'; '.join(verdicts) or 'no target'})"
              f"{rc}", flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runners", type=int, default=50_000)
    ap.add_argument("--batch", action="store_true",
                    help="also time `batch --formats ics` (minutes at 50,000)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="guidegen-scale-") as t:
        for row in run(Path(t), args.runners, args.batch):
            print(" | ".join(row))


if __name__ == "__main__":
    main()
