"""Two full ``guidegen build`` runs give byte-identical trees.

The example project (three of its athletes, both brands) is copied into two
folders of different names and depths and built by two processes with different
``PYTHONHASHSEED``: site, guides, private plan pages and the manifest must hash
the same, file for file. (tests/test_determinism.py covers ``batch`` and golden
files; this covers the whole ``build``.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import copy_example, tree
from tests.guidekit import EPOCH

CHOSEN = ("hb-zoe-01", "hb-soren-02", "sm-hanako-03")  # both brands, accents, CJK
SECRET = "determinism-secret-0123456789abcdef"


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory) -> list[tuple[Path, subprocess.CompletedProcess]]:
    base = tmp_path_factory.mktemp("full")
    roots = [copy_example(base / "first", athletes=CHOSEN),
             copy_example(base / "a" / "much" / "deeper" / "x", athletes=CHOSEN)]
    runs = []
    for root, seed in zip(roots, ("0", "4242"), strict=True):
        env = {k: v for k, v in os.environ.items() if not k.startswith("GUIDEGEN_")}
        env.update(PYTHONHASHSEED=seed, SOURCE_DATE_EPOCH=EPOCH, GUIDEGEN_PLAN_SECRET=SECRET)
        runs.append((root, subprocess.Popen(
            [sys.executable, "-m", "generator", "build", "--out", "output"], cwd=root, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    done = []
    for root, process in runs:  # both run at once: half the wall time
        stdout, stderr = process.communicate(timeout=300)
        done.append((root, subprocess.CompletedProcess(process.args, process.returncode,
                                                       stdout, stderr)))
    return done


def test_both_builds_succeed_and_make_every_part(two_builds):
    for root, result in two_builds:
        assert result.returncode == 0, result.stderr
        out = root / "output"
        assert (out / "site" / "index.html").is_file()
        assert (out / "manifest.json").is_file()
        for athlete_id in CHOSEN:
            brand = "harbour" if athlete_id.startswith("hb-") else "summit"
            for fmt in ("pdf", "html", "ics"):
                assert (out / "guides" / brand / f"{athlete_id}.{fmt}").is_file()
        plans = sorted(p for p in (out / "site" / "plans").iterdir() if p.is_dir())
        assert len(plans) == len(CHOSEN)
        assert all({p.name for p in plan.iterdir()} == {"index.html", "guide.pdf", "plan.ics"}
                   for plan in plans)


def test_the_two_trees_are_identical_file_for_file(two_builds):
    (first, _), (second, _) = two_builds
    a, b = tree(first / "output"), tree(second / "output")
    assert sorted(a) == sorted(b)
    differing = [path for path in a if a[path] != b[path]]
    assert not differing, differing
    assert len(a) > 20


def test_no_build_folder_path_leaks_into_any_output(two_builds):
    for root, _ in two_builds:
        needle = str(root).encode()
        leaks = [str(p.relative_to(root)) for p in (root / "output").rglob("*")
                 if p.is_file() and needle in p.read_bytes()]
        assert not leaks, leaks
