"""Shards on a cluster engine: ``--shard auto`` from Kubernetes' and AWS Batch's
environment, N shard processes at once on one output folder, ``merge-shards`` and the
Kubernetes recipe (deploy/kubernetes/)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

import generator
from generator.core.errors import UsageError
from generator.publish.shards import Shard, read_shard, shard_of
from tests.conftest import EXAMPLE_PARTS, REPO_ROOT, copy_example, invoke_cli, tree

SHARDS = 3
FORMATS = "html,ics"  # the files of every guide but its PDF: seconds, not minutes
ENGINE_VARS = ("JOB_COMPLETION_INDEX", "GUIDEGEN_SHARD_COUNT", "AWS_BATCH_JOB_ARRAY_INDEX",
               "AWS_BATCH_JOB_ARRAY_SIZE")
SKIP = ("manifest*", "guidegen*.lock", "workers.txt")  # tree(): the bookkeeping, not outputs


# ----------------------------------------------------------------- --shard from the environment

@pytest.mark.parametrize(("text", "env", "expected"), [
    ("2/4", {"JOB_COMPLETION_INDEX": "0"}, Shard(2, 4)),  # explicit: the environment unread
    ("auto/4", {"JOB_COMPLETION_INDEX": "0"},
     Shard(1, 4, "$JOB_COMPLETION_INDEX=0, --shard auto/4")),
    ("auto", {"JOB_COMPLETION_INDEX": "3", "GUIDEGEN_SHARD_COUNT": "4"},
     Shard(4, 4, "$JOB_COMPLETION_INDEX=3, $GUIDEGEN_SHARD_COUNT=4")),
    ("auto/4", {"JOB_COMPLETION_INDEX": "2", "GUIDEGEN_SHARD_COUNT": " 4 "},  # said twice, agreeing
     Shard(3, 4, "$JOB_COMPLETION_INDEX=2, --shard auto/4, $GUIDEGEN_SHARD_COUNT=4")),
    ("auto", {"AWS_BATCH_JOB_ARRAY_INDEX": "9", "AWS_BATCH_JOB_ARRAY_SIZE": "10"},
     Shard(10, 10, "$AWS_BATCH_JOB_ARRAY_INDEX=9, $AWS_BATCH_JOB_ARRAY_SIZE=10")),
    ("auto/10", {"AWS_BATCH_JOB_ARRAY_INDEX": "0", "AWS_BATCH_JOB_ARRAY_SIZE": "10"},
     Shard(1, 10, "$AWS_BATCH_JOB_ARRAY_INDEX=0, --shard auto/10, "
                  "$AWS_BATCH_JOB_ARRAY_SIZE=10")),
])
def test_the_shard_comes_from_the_engines_environment(text, env, expected):
    assert read_shard(text, env) == expected


@pytest.mark.parametrize(("text", "env", "message"), [
    ("auto", {}, "no shard index in the environment ($JOB_COMPLETION_INDEX"),
    ("auto/4", {"GUIDEGEN_SHARD_COUNT": "4"}, "no shard index in the environment"),
    ("auto", {"JOB_COMPLETION_INDEX": "1"},
     "$JOB_COMPLETION_INDEX gives the shard but not how many there are: give it once, "
     "as --shard auto/N or in $GUIDEGEN_SHARD_COUNT"),
    ("auto/3", {"JOB_COMPLETION_INDEX": "1", "GUIDEGEN_SHARD_COUNT": "4"},
     "the shard counts disagree: --shard auto/3, $GUIDEGEN_SHARD_COUNT=4"),
    ("auto/4", {"AWS_BATCH_JOB_ARRAY_INDEX": "1", "AWS_BATCH_JOB_ARRAY_SIZE": "5"},
     "the shard counts disagree: --shard auto/4, $AWS_BATCH_JOB_ARRAY_SIZE=5"),
    ("auto/4", {"JOB_COMPLETION_INDEX": "1", "AWS_BATCH_JOB_ARRAY_INDEX": "2"},
     "the shard indexes disagree: $JOB_COMPLETION_INDEX=1, $AWS_BATCH_JOB_ARRAY_INDEX=2"),
    ("auto/4", {"JOB_COMPLETION_INDEX": "4"},
     "$JOB_COMPLETION_INDEX=4 is not one of 4 shards (0-based: 0 to 3)"),
    ("auto", {"JOB_COMPLETION_INDEX": "2", "AWS_BATCH_JOB_ARRAY_SIZE": "4"},
     "$AWS_BATCH_JOB_ARRAY_SIZE is set but $AWS_BATCH_JOB_ARRAY_INDEX is not"),
    ("auto/4", {"JOB_COMPLETION_INDEX": "-1"},
     "JOB_COMPLETION_INDEX must be a whole number; got '-1'"),
    ("auto/4", {"JOB_COMPLETION_INDEX": "one"},
     "JOB_COMPLETION_INDEX must be a whole number; got 'one'"),
    ("auto/0", {"JOB_COMPLETION_INDEX": "0"},
     "--shard auto/N must be a whole number of at least 1; got '0'"),
    ("auto/x", {"JOB_COMPLETION_INDEX": "0"}, "--shard auto/N must be a whole number"),
    ("auto", {"JOB_COMPLETION_INDEX": "0", "GUIDEGEN_SHARD_COUNT": "٣"},  # not ASCII digits
     "GUIDEGEN_SHARD_COUNT must be a whole number of at least 1"),
    ("automatic", {"JOB_COMPLETION_INDEX": "0"}, "--shard must be I/N (e.g. 2/8, 1-based)"),
    ("5/4", {}, "--shard 5/4: need 1 <= I <= N"),
    ("0/4", {}, "--shard 0/4: need 1 <= I <= N"),
])
def test_a_shard_that_cannot_be_told_is_a_usage_error(text, env, message):
    with pytest.raises(UsageError) as caught:
        read_shard(text, env)
    assert message in str(caught.value)
    assert caught.value.exit_code == 2


def test_an_inconsistent_environment_stops_the_batch_with_exit_2(scratch_project):
    root = scratch_project()
    result = invoke_cli(["batch", "data/athletes.csv", "--shard", "auto/3", "--formats", "ics"],
                        root, env={"JOB_COMPLETION_INDEX": "3"})
    assert result.exit_code == 2
    assert result.exception is None and "Traceback" not in result.stderr
    assert result.stderr_lines == ["error: --shard auto: $JOB_COMPLETION_INDEX=3 is not one "
                                   "of 3 shards (0-based: 0 to 2)"]
    assert not (root / "output").exists()  # nothing built, no folder made


# ------------------------------------------------------------ N shard processes, one folder

# Installed in every process of a shard run (the batch, its fork server and the workers
# forked from it), through PYTHONPATH: logs each rename into the output folder (every
# file guidegen writes is renamed into place, core/write.py) with the shard that made it,
# and holds the first guide written by each shard until every shard has reached that
# point, so the shards provably write side by side (a lock that kept them apart would
# leave the first one waiting for the others: "BARRIER TIMEOUT").
SITECUSTOMIZE = textwrap.dedent('''\
    import os, sys, time

    _out = os.environ.get("SHARD_TEST_OUT")
    _shard = os.environ.get("JOB_COMPLETION_INDEX", "?")
    _waited = []

    def _log(line):
        fd = os.open(os.environ["SHARD_TEST_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        os.write(fd, (line + "\\n").encode())
        os.close(fd)

    def _hook(event, args):
        if event != "os.rename" or not _out:
            return
        target = os.fsdecode(os.fspath(args[1]))
        if not target.startswith(_out + os.sep):
            return
        relative = target[len(_out) + 1:]
        if relative.startswith("guides" + os.sep) and not _waited:
            _waited.append(True)
            barrier = os.environ["SHARD_TEST_BARRIER"]
            open(os.path.join(barrier, _shard), "a").close()
            deadline = time.monotonic() + 60
            while len(os.listdir(barrier)) < int(os.environ["GUIDEGEN_SHARD_COUNT"]):
                if time.monotonic() > deadline:
                    _log("BARRIER TIMEOUT")
                    break
                time.sleep(0.01)
        _log(f"{_shard} {os.getpid()} {relative}")

    if _out:
        sys.addaudithook(_hook)
''')


def start_shard(project: Path, out: Path, index: int, hooks: Path) -> subprocess.Popen:
    """``guidegen batch --shard auto`` as a pod of a Kubernetes Indexed Job runs it:
    its index in $JOB_COMPLETION_INDEX, the count in $GUIDEGEN_SHARD_COUNT."""
    env = {k: v for k, v in os.environ.items() if k not in ENGINE_VARS}
    path = [str(hooks), str(Path(generator.__file__).parents[1]),  # this test's guidegen
            *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env.update(JOB_COMPLETION_INDEX=str(index), GUIDEGEN_SHARD_COUNT=str(SHARDS),
               PYTHONPATH=os.pathsep.join(path), SHARD_TEST_OUT=str(out.resolve()),
               SHARD_TEST_LOG=str(hooks / "renames.log"),
               SHARD_TEST_BARRIER=str(hooks / "barrier"))
    return subprocess.Popen(
        [sys.executable, "-m", "generator", "batch", "data/athletes.csv", "--out", str(out),
         "--formats", FORMATS, "--shard", "auto", "--jobs", "2",
         "--report", str(hooks / f"report-{index}.json")],
        cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stamps(folder: Path) -> dict[str, tuple[int, int]]:
    """(inode, mtime) of each output file: an atomic rewrite changes the inode."""
    return {k: (os.stat(folder / k).st_ino, os.stat(folder / k).st_mtime_ns)
            for k in tree(folder, skip=SKIP)}


def test_shards_side_by_side_make_the_whole_build_once_and_merge_into_its_state(tmp_path):
    project = copy_example(tmp_path / "clinic", parts=(*EXAMPLE_PARTS, "data"))
    hooks = tmp_path / "hooks"
    (hooks / "barrier").mkdir(parents=True)
    (hooks / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    out, whole = project / "out", project / "whole"

    started = time.monotonic()
    shards = [start_shard(project, out, i, hooks) for i in range(SHARDS)]
    try:
        done = [(p.wait(timeout=300), *p.communicate()) for p in shards]
    finally:
        for p in shards:  # never left running, even when failing
            if p.poll() is None:
                p.kill()
                p.communicate()
    seconds = time.monotonic() - started
    for i, (code, _stdout, stderr) in enumerate(done):
        assert code in (0, 1), f"shard {i + 1}: {stderr}"  # 1: the roster's own problems
        assert "Traceback" not in stderr
        summary = json.loads((hooks / f"report-{i}.json").read_text())["summary"]
        assert summary["built"] > 0 and summary["failed"] == 0, f"shard {i + 1}: {stderr}"
        assert f"shard {i + 1} of {SHARDS} ($JOB_COMPLETION_INDEX={i}, " \
               f"$GUIDEGEN_SHARD_COUNT={SHARDS})" in stderr

    # the whole build, unsharded, in another folder
    reference = invoke_cli(["batch", "data/athletes.csv", "--out", whole, "--formats", FORMATS,
                            "--jobs", "1"], project)
    assert reference.exit_code in (0, 1) and reference.exception is None, reference.stderr
    state = json.loads((whole / "manifest.json").read_text())
    runners = sorted(state["outputs"])
    assert len(runners) >= 3 * SHARDS and sorted(state["state"]) == runners  # issued, UIDs

    # every guide file written exactly once, by the one shard that builds its runner,
    # while all shards were writing (the barrier)
    log = (hooks / "renames.log").read_text().splitlines()
    assert "BARRIER TIMEOUT" not in log, f"the shards did not run side by side ({seconds:.1f}s)"
    writes = [line.split(" ", 2) for line in log]
    guides = [(shard, rel) for shard, _pid, rel in writes if rel.startswith("guides/")]
    assert sorted(rel for _shard, rel in guides) == sorted(
        f"guides/{rel}" for rel in tree(whole / "guides"))
    for shard, rel in guides:
        runner = Path(rel).stem
        assert shard_of(runner, SHARDS) == int(shard) + 1, f"{rel} written by shard {shard}"
    assert {shard for shard, _rel in guides} == {str(i) for i in range(SHARDS)}
    # written in the shards' worker pools (which the hook watched too)
    assert {pid for _shard, pid, rel in writes if rel.startswith("guides/")} - {
        str(p.pid) for p in shards}

    # each shard's manifest lists its own runners, the union all of them
    manifests = {i: json.loads((out / f"manifest.shard-{i}-of-{SHARDS}.json").read_text())
                 for i in range(1, SHARDS + 1)}
    listed = [r for m in manifests.values() for r in m["outputs"]]
    assert sorted(listed) == runners
    for i, manifest in manifests.items():
        assert all(shard_of(r, SHARDS) == i for r in manifest["outputs"])

    # the union is the unsharded build, byte for byte
    assert tree(out, skip=SKIP) == tree(whole, skip=SKIP)
    assert not list(out.glob("*.lock")) and not list(out.rglob("*.tmp"))

    # merged: one manifest.json, the very one of the unsharded build (state included)
    merged = invoke_cli(["merge-shards", "--out", out], project)
    assert merged.exit_code == 0, merged.stderr
    assert merged.stderr_lines[-1] == (f"merged {SHARDS} of {SHARDS} shard manifests into "
                                       f"manifest.json ({len(runners)} runners)")
    assert sorted(p.name for p in out.glob("manifest*")) == ["manifest.json"]
    assert (out / "manifest.json").read_bytes() == (whole / "manifest.json").read_bytes()

    # the next, unsharded run has nothing to do: no file rebuilt, rewritten or removed
    before = stamps(out)
    again = invoke_cli(["batch", "data/athletes.csv", "--out", out, "--formats", FORMATS,
                        "--report", tmp_path / "again.json"], project)
    summary = json.loads((tmp_path / "again.json").read_text())["summary"]
    assert (summary["built"], summary["unchanged"], summary["removed"], summary["failed"]) == (
        0, len(runners), 0, 0), again.stderr
    assert stamps(out) == before
    assert (out / "manifest.json").read_bytes() == (whole / "manifest.json").read_bytes()


# ------------------------------------------------------------------ merging and its refusals

@pytest.fixture
def sharded(tmp_path) -> tuple[Path, Path]:
    """An example project with a roster of 9 and an output folder built in 3 shards, one
    after the other (in-process: the merge is what is tested here)."""
    lines = (REPO_ROOT / "data" / "athletes.csv").read_text(encoding="utf-8").splitlines()
    project = copy_example(tmp_path / "clinic", files={
        "data/athletes.csv": "\n".join(lines[:10]) + "\n"})  # the header and 9 runners
    out = project / "out"
    for i in range(1, 4):
        batch(project, out, "--shard", f"{i}/3")
    return project, out


def batch(project: Path, out: Path, *args, report: Path | None = None):
    extra = ["--report", report] if report else []
    result = invoke_cli(["batch", "data/athletes.csv", "--out", out, "--formats", "ics",
                         "--jobs", "1", *args, *extra], project)
    assert result.exit_code in (0, 1) and result.exception is None, result.stderr
    return json.loads(report.read_text())["summary"] if report else result


def test_a_runner_in_two_shard_manifests_is_refused_and_nothing_merged(sharded):
    project, out = sharded
    first = out / "manifest.shard-1-of-3.json"
    second = json.loads((out / "manifest.shard-2-of-3.json").read_text())
    stray = next(iter(second["outputs"]))
    data = json.loads(first.read_text())
    data["outputs"][stray] = second["outputs"][stray]
    first.write_text(json.dumps(data))
    before = {p.name: p.read_bytes() for p in out.glob("manifest*")}
    result = invoke_cli(["merge-shards", "--out", out], project)
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert result.stderr_lines == [
        f"out: {stray}: in 2 shard manifests (out/manifest.shard-1-of-3.json, "
        f"out/manifest.shard-2-of-3.json); the runner belongs to shard 2 of 3 only",
        "out: nothing was merged: mend or delete the shard manifests named above, then "
        "merge again"]
    assert {p.name: p.read_bytes() for p in out.glob("manifest*")} == before


def test_a_runner_in_the_wrong_shard_manifest_is_refused(sharded):
    project, out = sharded
    path = out / "manifest.shard-1-of-3.json"
    data = json.loads(path.read_text())
    stranger = next(f"stranger-{i}" for i in range(99) if shard_of(f"stranger-{i}", 3) == 2)
    data["state"][stranger] = {"issued": "2026-01-01"}
    path.write_text(json.dumps(data))
    result = invoke_cli(["merge-shards", "--out", out], project)
    assert result.exit_code == 2
    assert result.stderr_lines[0] == (f"out/manifest.shard-1-of-3.json: {stranger}: belongs "
                                      "to shard 2 of 3, not 1")


def test_shard_manifests_of_two_counts_are_refused_by_the_merge_and_by_a_shard(sharded):
    project, out = sharded
    (out / "manifest.shard-1-of-2.json").write_text('{"outputs": {}}')
    result = invoke_cli(["merge-shards", "--out", out], project)
    assert result.exit_code == 2
    assert "shard manifests of 2 different shard counts" in result.stderr
    assert "manifest.shard-1-of-2.json" in result.stderr
    shard = invoke_cli(["batch", "data/athletes.csv", "--out", out, "--formats", "ics",
                        "--shard", "2/2"], project)
    assert shard.exit_code == 2 and shard.exception is None
    assert "the manifests of a run in 3 shards are not merged yet" in shard.stderr
    assert "run guidegen merge-shards" in shard.stderr


def test_a_corrupt_shard_manifest_is_refused(sharded):
    project, out = sharded
    (out / "manifest.shard-3-of-3.json").write_text('{"outputs": ')
    result = invoke_cli(["merge-shards", "--out", out], project)
    assert result.exit_code == 2
    assert "manifest.shard-3-of-3.json:1: corrupt (not valid JSON" in result.stderr
    assert "not merged: run the shard again (--shard 3/3) or delete it" in result.stderr


def test_a_missing_shard_is_a_warning_and_its_runners_keep_their_entries(sharded, tmp_path):
    project, out = sharded
    batch(project, out)  # a whole batch: merges the three, then finds nothing to do
    whole = (out / "manifest.json").read_bytes()
    batch(project, out, "--shard", "1/2")
    result = invoke_cli(["merge-shards", "--out", out, "--strict"], project)
    assert result.exit_code == 1
    assert (f"{Path('out') / 'manifest.shard-2-of-2.json'}: warning: missing: shard 2 of 2 "
            "did not finish") in result.stderr
    assert (out / "manifest.json").read_bytes() == whole  # nothing changed since
    nothing = invoke_cli(["merge-shards", "--out", out], project)
    assert nothing.exit_code == 0
    assert nothing.stderr_lines == ["out: no shard manifests to merge; manifest.json is the "
                                    "whole state"]
    empty = invoke_cli(["merge-shards", "--out", tmp_path / "typo"], project)
    assert empty.exit_code == 2 and "is this the output folder?" in empty.stderr


def test_a_first_shard_run_starts_from_the_whole_builds_manifest(sharded, tmp_path):
    """After a whole batch, a shard rebuilds nothing and keeps each runner's state; the
    whole batch after it merges that shard by itself."""
    project, out = sharded
    assert batch(project, out, report=tmp_path / "whole.json")["built"] == 0  # merged first
    whole = json.loads((out / "manifest.json").read_text())
    assert whole["state"] and not list(out.glob("manifest.shard-*"))
    shard = batch(project, out, "--shard", "2/3", report=tmp_path / "shard.json")
    assert (shard["built"], shard["removed"]) == (0, 0)
    own = json.loads((out / "manifest.shard-2-of-3.json").read_text())
    assert own["outputs"] == {k: v for k, v in whole["outputs"].items() if shard_of(k, 3) == 2}
    assert own["state"] == {k: v for k, v in whole["state"].items() if shard_of(k, 3) == 2}
    again = batch(project, out, report=tmp_path / "again.json")
    assert (again["built"], again["unchanged"]) == (0, len(whole["outputs"]))
    assert json.loads((out / "manifest.json").read_text()) == whole
    assert not list(out.glob("manifest.shard-*"))


def test_a_runner_who_left_is_removed_by_their_shard_and_from_the_merged_state(sharded):
    project, out = sharded
    batch(project, out)  # merged
    runners = len(json.loads((out / "manifest.json").read_text())["outputs"])
    roster = project / "data" / "athletes.csv"
    lines = roster.read_text(encoding="utf-8").splitlines(keepends=True)
    gone = lines[1].split(",", 1)[0]
    roster.write_text("".join([lines[0], *lines[2:]]), encoding="utf-8")
    shard = shard_of(gone, 3)
    result = batch(project, out, "--shard", f"{shard}/3")
    assert ", 1 removed" in result.stderr
    assert invoke_cli(["merge-shards", "--out", out], project).exit_code == 0
    merged = json.loads((out / "manifest.json").read_text())
    assert gone not in merged["outputs"] and gone not in merged["state"]
    assert len(merged["outputs"]) == runners - 1
    assert not [p for p in out.rglob(f"{gone}.*")]


# ------------------------------------------------------------------------ deploy/kubernetes

def test_the_kubernetes_job_is_an_indexed_job_of_shards_on_a_shared_volume():
    from generator.cli import cli

    documents = list(yaml.safe_load_all((REPO_ROOT / "deploy/kubernetes/job.yaml").read_text()))
    by_kind = {d["kind"]: d for d in documents}
    job, claim = by_kind["Job"], by_kind["PersistentVolumeClaim"]
    assert job["apiVersion"] == "batch/v1"
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed"
    count = spec["completions"]
    assert isinstance(count, int) and count >= 2 and spec["parallelism"] == count
    assert isinstance(spec["backoffLimit"], int)
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    (container,) = pod["containers"]
    assert container["image"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["GUIDEGEN_SHARD_COUNT"] == str(count)
    args = container["args"]
    assert "batch" in args and "--shard=auto" in args

    # the args are a valid command line, and the last pod builds the last shard
    at = args.index("batch")
    group = cli.make_context("guidegen", [*args[:at], "batch"])
    options = cli.commands["batch"].make_context("batch", args[at + 1:], parent=group).params
    assert read_shard(options["shard"], {**env, "JOB_COMPLETION_INDEX": str(count - 1)}
                      ) == Shard(count, count, f"$JOB_COMPLETION_INDEX={count - 1}, "
                                               f"$GUIDEGEN_SHARD_COUNT={count}")

    # every pod writes to one ReadWriteMany volume, mounted where --out points
    (volume,) = pod["volumes"]
    assert volume["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    assert "ReadWriteMany" in claim["spec"]["accessModes"]
    (mount,) = container["volumeMounts"]
    assert mount["name"] == volume["name"] and str(options["out"]) == mount["mountPath"]

    # and the merge Job after it merges on that volume
    merge = yaml.safe_load((REPO_ROOT / "deploy/kubernetes/merge-job.yaml").read_text())
    assert merge["apiVersion"] == "batch/v1" and merge["kind"] == "Job"
    merge_pod = merge["spec"]["template"]["spec"]
    assert merge_pod["restartPolicy"] == "Never"
    (merger,) = merge_pod["containers"]
    assert merger["image"] == container["image"]
    assert merger["args"][0] == "merge-shards" and f"--out={mount['mountPath']}" in merger["args"]
    assert merge_pod["volumes"] == pod["volumes"]
    assert merger["volumeMounts"] == container["volumeMounts"]
