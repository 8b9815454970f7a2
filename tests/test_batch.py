"""Batches: incremental rebuilds from the manifest, removal, shards, parallel == serial."""

from __future__ import annotations

import json
from pathlib import Path

from generator.build import BuildOptions
from generator.build import build as run_build
from generator.load.project import load_project
from generator.publish.batch import in_shard, parse_shard
from tests.conftest import tree

MANIFESTS = ("manifest*",)  # tree(skip=...): the build manifests are not compared
ROSTER_HEADER = "id,name,race_name,race_date,massage_frequency,notes\n"


def roster(n: int, note: str = "") -> str:
    rows = [f"r{i:03d},Runner {i},Test Marathon,2027-0{1 + i % 8}-1{i % 9},weekly,{note}"
            for i in range(n)]
    return ROSTER_HEADER + "\n".join(rows) + "\n"


def build(root: Path, out: Path, formats=("html", "ics"), **kw):
    options = BuildOptions(site=False, roster=root / "data" / "athletes.csv",
                           formats=tuple(formats), **kw)
    report = run_build(load_project(root), out, options)
    assert not report.inputs.errors, report.inputs.errors
    return report.guides


def test_second_build_with_unchanged_inputs_renders_nothing(scratch_project, tmp_path):
    root = scratch_project({"data/athletes.csv": roster(6)}, copy=("templates",))
    out = tmp_path / "out"
    first = build(root, out, jobs=1)
    assert (first.built, first.unchanged) == (6, 0)
    again = build(root, out, jobs=1)
    assert (again.built, again.unchanged, again.failed) == (0, 6, 0)


def test_one_changed_row_rebuilds_exactly_that_guide(scratch_project, tmp_path):
    root = scratch_project({"data/athletes.csv": roster(5)}, copy=("templates",))
    out = tmp_path / "out"
    build(root, out, jobs=1)
    before = tree(out, skip=MANIFESTS)
    text = (root / "data/athletes.csv").read_text().replace("Runner 3,", "Runner Three,")
    (root / "data/athletes.csv").write_text(text)
    summary = build(root, out, jobs=1)
    assert (summary.built, summary.unchanged) == (1, 4)
    after = tree(out, skip=MANIFESTS)
    changed = {k for k in after if after[k] != before.get(k)}
    assert changed == {"guides/clinic/r003.html", "guides/clinic/r003.ics"}


def test_template_change_rebuilds_every_guide(scratch_project, tmp_path):
    root = scratch_project({"data/athletes.csv": roster(3)}, copy=("templates",))
    out = tmp_path / "out"
    build(root, out, jobs=1)
    css = root / "templates/assets/guide.css"
    css.write_text(css.read_text() + "\n/* changed */\n")
    assert build(root, out, jobs=1).built == 3


def test_athletes_removed_from_the_roster_lose_their_outputs(scratch_project, tmp_path):
    root = scratch_project({"data/athletes.csv": roster(4)}, copy=("templates",))
    out = tmp_path / "out"
    build(root, out, jobs=1)
    assert (out / "guides/clinic/r003.html").is_file()
    (root / "data/athletes.csv").write_text(roster(2))
    summary = build(root, out, jobs=1)
    assert summary.removed == 2
    assert not (out / "guides/clinic/r003.html").exists()
    assert not (out / "guides/clinic/r002.ics").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(manifest["outputs"]) == ["r000", "r001"]


def test_force_rebuilds_unchanged_guides(scratch_project, tmp_path):
    root = scratch_project({"data/athletes.csv": roster(3)}, copy=("templates",))
    out = tmp_path / "out"
    build(root, out, jobs=1)
    assert build(root, out, jobs=1, force=True).built == 3


def test_deleted_output_file_is_rebuilt(scratch_project, tmp_path):
    root = scratch_project({"data/athletes.csv": roster(3)}, copy=("templates",))
    out = tmp_path / "out"
    build(root, out, jobs=1)
    (out / "guides/clinic/r001.ics").unlink()
    summary = build(root, out, jobs=1)
    assert summary.built == 1
    assert (out / "guides/clinic/r001.ics").is_file()


def test_parallel_build_is_byte_identical_to_serial(scratch_project, tmp_path):
    root = scratch_project({"data/athletes.csv": roster(8)}, copy=("templates",))
    serial = build(root, tmp_path / "serial", jobs=1)
    parallel = build(root, tmp_path / "parallel", jobs=2)
    assert serial.built == parallel.built == 8
    assert (tree(tmp_path / "serial", skip=MANIFESTS)
            == tree(tmp_path / "parallel", skip=MANIFESTS))


def test_union_of_shards_equals_the_unsharded_build(scratch_project, tmp_path):
    root = scratch_project({"data/athletes.csv": roster(12)}, copy=("templates",))
    build(root, tmp_path / "whole", jobs=1)
    union: dict[str, str] = {}
    counts = []
    for i in (1, 2, 3):
        out = tmp_path / f"shard{i}"
        counts.append(build(root, out, jobs=1, shard=(i, 3)).built)
        part = tree(out, skip=MANIFESTS)
        assert not set(part) & set(union), "shards overlap"
        union.update(part)
    assert sum(counts) == 12
    assert union == tree(tmp_path / "whole", skip=MANIFESTS)


def test_shard_assignment_is_stable_and_complete():
    ids = [f"athlete-{i}" for i in range(500)]
    owners = [[i for i in range(1, 5) if in_shard(x, (i, 4))] for x in ids]
    assert all(len(o) == 1 for o in owners)
    sizes = [sum(1 for o in owners if o == [i]) for i in range(1, 5)]
    assert min(sizes) > 80  # roughly balanced
    assert parse_shard("2/4") == (2, 4)


def test_bad_shard_is_a_usage_error(scratch_project, run_cli):
    root = scratch_project(copy=("templates",))
    result = run_cli(["batch", "data/athletes.csv", "--shard", "5/4", "--formats", "ics"],
                     cwd=root)
    assert result.exit_code == 2
    assert "--shard" in result.stderr


def test_batch_prints_a_summary_and_no_progress_bar_off_terminal(scratch_project, run_cli):
    root = scratch_project(copy=("templates",))
    result = run_cli(["batch", "data/athletes.csv", "--formats", "html", "--jobs", "1"],
                     cwd=root)
    assert result.exit_code == 0, result.stderr
    assert "guides: 2 built, 0 unchanged, 0 failed, 0 removed" in result.stderr
    assert "\x1b[" not in result.stderr  # no terminal control codes when not a TTY


def test_build_report_lists_every_problem_as_json(scratch_project, run_cli):
    from tests.conftest import SCRATCH_TOML

    bad = roster(1) + "r999,Bad Date,Test Marathon,2027-02-30,weekly,\n"
    root = scratch_project({"data/athletes.csv": bad,
                            "guidegen.toml": SCRATCH_TOML + "\n[plans]\nenabled = false\n"},
                           copy=("templates",))
    result = run_cli(["build", "--report", "report.json", "--jobs", "1"], cwd=root)
    assert result.exit_code == 1, result.stderr
    data = json.loads((root / "report.json").read_text())
    assert data["errors"] == 1
    assert data["command"] == "build"
    assert data["problems"][0]["path"] == "data/athletes.csv"
    assert data["problems"][0]["line"] == 3 and data["problems"][0]["field"] == "race_date"
    assert data["summary"]["built"] == 1 and data["summary"]["site"] is True
    assert (root / "output/guides/clinic/r000.pdf").is_file()


def test_workers_are_replaced_every_few_guides_with_the_same_output(scratch_project, tmp_path,
                                                                    monkeypatch, worker_pids):
    """GUIDEGEN_WORKER_GUIDES=2 with two workers: each worker leaves after 2 guides and a
    fresh one takes its place (max_tasks_per_child: bounded native memory per worker),
    and the files are those of a serial build. With tasks queued all along, as here,
    the pool of Python 3.11 and 3.12 would wait forever for a replacement
    (python/cpython#115634; core/parallel.py)."""
    root = scratch_project({"data/athletes.csv": roster(9)}, copy=("templates",))
    serial = build(root, tmp_path / "serial", jobs=1)
    monkeypatch.setenv("GUIDEGEN_WORKER_GUIDES", "2")
    recycled = build(root, tmp_path / "recycled", jobs=2)
    assert serial.built == recycled.built == 9
    assert (tree(tmp_path / "serial", skip=MANIFESTS)
            == tree(tmp_path / "recycled", skip=MANIFESTS))
    pids = worker_pids()
    # 9 guides, 2 per worker: at least 5 workers; at most the first two and one
    # replacement for each of the 4 that left
    assert len(pids) == len(set(pids)) and 5 <= len(pids) <= 6
