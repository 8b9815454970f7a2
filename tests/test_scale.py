"""Big rosters in bounded memory: ``timeline --json`` streamed (the same bytes as the whole
list dumped at once), ``--jsonl``, ``check`` planned a chunk at a time on every core, the
manifest saved entry by entry, and HTML/ICS batches in the same worker pool as PDFs.
(The 50,000-runner figures are measured by ``benchmarks/scale.py``, not here.)"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from generator.core import parallel
from generator.core.jsonstream import array_item, json_array
from generator.core.parallel import pstream
from generator.publish.manifest import Manifest
from tests.conftest import invoke_cli

COUNT = 150  # more than parallel.MIN_ITEMS: the parallel path runs


def roster(n: int = COUNT) -> str:
    rnd = random.Random(5)
    race = '"Scale Marathon «東京» \\ ""q"""'  # quoted CSV cell: quotes, a backslash
    rows = [f"r{i:04d},Rünner {i} 名,{race},2098-0{1 + i % 8}-1{i % 9},"
            f"{rnd.choice(['weekly', 'biweekly', 'auto'])},{rnd.choice(['sat', 'sun', ''])},"
            f"\"note with a line\nbreak\"" for i in range(n)]
    return ("id,name,race_name,race_date,massage_frequency,long_run_day,notes\n"
            + "\n".join(rows) + "\n")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    from tests.conftest import ScratchProject

    return ScratchProject(tmp_path_factory.mktemp("scale"))(
        {"data/athletes.csv": roster()}, copy=("templates",))


def plans_at_once(root: Path) -> list[dict]:
    """What ``timeline --json`` printed before it streamed: every plan, then one dump."""
    from generator.load.inputs import load_inputs
    from generator.load.project import load_project
    from generator.plan.guideplan import plan_guide

    inputs = load_inputs(load_project(root), root / "data" / "athletes.csv")
    return [plan_guide(inputs, a).timeline.to_dict() for a in inputs.athletes]


def test_streamed_timeline_json_is_the_same_bytes_as_the_whole_list(project):
    result = invoke_cli(["timeline", "data/athletes.csv", "--json"], cwd=project)
    assert result.exit_code == 0, result.stderr
    expected = plans_at_once(project)
    assert len(expected) == COUNT
    assert result.stdout == json.dumps(expected, ensure_ascii=False, indent=2) + "\n"
    assert json.loads(result.stdout) == expected


def test_timeline_jsonl_is_one_plan_a_line(project):
    result = invoke_cli(["timeline", "data/athletes.csv", "--jsonl"], cwd=project)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.split("\n")
    assert lines[-1] == "" and len(lines) == COUNT + 1
    assert [json.loads(line) for line in lines[:-1]] == plans_at_once(project)
    one = invoke_cli(["timeline", "data/athletes.csv", "--jsonl", "--id", "r0007"], cwd=project)
    assert one.stdout == lines[7] + "\n"
    both = invoke_cli(["timeline", "data/athletes.csv", "--json", "--jsonl"], cwd=project)
    assert both.exit_code == 2 and "choose one" in both.stderr


def test_json_array_pieces_equal_json_dumps():
    cases = [[], [{}], [[]], [{"a": [1, {"b": "x\ny\u2028é"}], "c": []}, 3, "z", None]]
    for items in cases:
        assert "".join(json_array(map(array_item, items))) == json.dumps(
            items, indent=2, ensure_ascii=False)


def test_check_in_parallel_says_what_it_says_serially(project, monkeypatch):
    parallel_run = invoke_cli(["check", "data/athletes.csv"], cwd=project)
    monkeypatch.setattr(parallel, "cores", lambda: 1)
    serial_run = invoke_cli(["check", "data/athletes.csv"], cwd=project)
    assert parallel_run.exit_code == serial_run.exit_code
    assert parallel_run.stderr == serial_run.stderr
    assert parallel_run.stderr_lines[-1].startswith(f"2 modules, 1 brand, {COUNT} athletes")


def _squares(offset: int, items) -> list[int]:
    return [offset + i * i for i in items]


def test_pstream_yields_in_input_order_a_few_chunks_at_a_time():
    got = list(pstream(_squares, range(1000), 7, chunk=33))
    assert got == [7 + i * i for i in range(1000)]
    assert list(pstream(_squares, range(5), 0)) == [0, 1, 4, 9, 16]  # small: in-process


def test_manifest_is_saved_entry_by_entry_as_json_dumps_would(tmp_path):
    manifest = Manifest(tmp_path / "manifest.json")
    for i in range(50):
        manifest.record(f"r{i:03d}é", "d" * 64, "i" * 64, {f"guides/a/r{i}.pdf": "s" * 64})
    manifest.state = {"r001é": {"issued": "2027-01-01", "sessions": [{"uid": "x", "seq": 2}]}}
    manifest.extra = {"zz-later": [1, {"b": []}], "aa": {}}
    manifest.save()
    from generator import __version__

    data = {"aa": {}, "generator": __version__, "outputs": manifest.outputs,
            "state": manifest.state, "zz-later": [1, {"b": []}]}
    assert (tmp_path / "manifest.json").read_text() == json.dumps(
        data, indent=1, sort_keys=True) + "\n"
    again = Manifest.load(tmp_path / "manifest.json")
    assert (again.outputs, again.state, again.extra) == (
        manifest.outputs, manifest.state, manifest.extra)


def test_html_and_ics_batches_use_the_worker_pool_and_progress(project, tmp_path,
                                                               worker_pids):
    import generator.publish.batch as batch
    from generator.build import BuildOptions, build
    from generator.load.project import load_project

    class Progress:
        def __init__(self):
            self.total, self.done = None, 0

        def start(self, total):
            self.total = total

        def advance(self):
            self.done += 1

        def stop(self):
            pass

    for formats in (("ics",), ("html",)):
        progress = Progress()
        report = build(load_project(project), tmp_path / "-".join(formats), BuildOptions(
            site=False, roster=project / "data" / "athletes.csv", formats=formats, jobs=2,
            progress=progress))
        assert report.guides.built == COUNT
        assert progress.total == progress.done == COUNT
    workers = worker_pids()
    assert len(set(workers)) == len(workers) == 4  # two workers for each batch
    assert batch._chunk_size(("ics",), 5000, 2) == batch.CHUNK
    assert batch._chunk_size(("pdf", "ics"), 5000, 2) == 1


def test_a_big_csv_cell_still_loads_with_the_rows_read_lazily(tmp_path):
    from generator.load.roster import load_roster

    notes = "x" * 200_000  # over the csv module's default 128 KiB cell limit
    path = tmp_path / "athletes.csv"
    path.write_text("id,name,race_name,race_date,notes\n"
                    f"a-1,Ann,Big Marathon,2098-04-18,{notes}\n"
                    "b-2,Bo,Big Marathon,2098-04-18,short\n", encoding="utf-8")
    import csv

    before = csv.field_size_limit()
    athletes, problems = load_roster(path)
    assert [a.id for a in athletes] == ["b-2"]  # the long notes are refused at their row
    assert problems[0].line == 2 and problems[0].field == "notes"
    assert csv.field_size_limit() == before
