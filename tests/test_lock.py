"""One run per output folder: a second build/batch/email waits for the first (or stops
with --no-wait, exit 2), never races it; a lock whose holder died is taken over."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from generator.core.lock import LOCK_NAME, FileLock, LockBusy, output_lock
from tests.conftest import invoke_cli

ROSTER = "id,name,race_name,race_date,massage_frequency\n" + "".join(
    f"r{i:03d},Runner {i},Lock Marathon,2098-0{1 + i % 8}-1{i % 9},weekly\n" for i in range(40))


def holder(out: Path, command: str = "batch", shard: str = "None") -> subprocess.Popen:
    """Another process that takes the folder's lock, says 'locked' and keeps it until it
    reads a line (or is killed)."""
    code = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from generator.core.lock import output_lock
        with output_lock(Path({str(out)!r}), {command!r}, shard={shard}):
            print("locked", flush=True)
            sys.stdin.readline()
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def release(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.stdin.write("go\n")
        proc.stdin.close()
        proc.wait(10)
    proc.stdout.close()


def guidegen(root: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "generator", *args], cwd=root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture
def project(scratch_project) -> Path:
    return scratch_project({"data/athletes.csv": ROSTER}, copy=("templates",))


def test_a_second_batch_on_the_folder_waits_for_the_first_and_says_so(project):
    out = project / "out"
    first = holder(out)
    try:
        second = guidegen(project, "batch", "data/athletes.csv", "--out", "out",
                          "--formats", "ics", "-j", "1")
        time.sleep(2.0)
        assert second.poll() is None, "the second batch did not wait"
        assert not (out / "guides").exists(), "it wrote while the folder was locked"
    finally:
        release(first)
    _, stderr = second.communicate(timeout=120)
    assert second.returncode == 0, stderr
    lines = stderr.splitlines()
    assert lines[0].startswith(f"out/{LOCK_NAME}: guidegen batch (pid {first.pid}")
    assert lines[0].endswith("is writing to this folder; waiting for it to finish "
                             "(--no-wait: stop instead)")
    assert "guides: 40 built, 0 unchanged, 0 failed" in stderr
    assert not (out / LOCK_NAME).exists()  # released and removed


def test_no_wait_stops_at_once_with_exit_code_2(project):
    out = project / "out"
    first = holder(out, "build")
    try:
        for command in (["batch", "data/athletes.csv", "--out", "out"],
                        ["build", "--out", "out"],
                        ["email", "data/athletes.csv", "--outbox", "box", "--out", "out"],
                        ["forget", "gone-99", "--out", "out"]):
            result = invoke_cli([*command, "--no-wait"], cwd=project,
                                env={"GUIDEGEN_PLAN_SECRET": "s" * 32})
            assert result.exit_code == 2, (command, result.stderr)
            [line] = result.stderr_lines
            assert line.startswith(f"out/{LOCK_NAME}: guidegen build (pid {first.pid}, since ")
            assert line.endswith("is writing to this folder; not waiting (--no-wait)")
    finally:
        release(first)
    assert not (out / "guides").exists() and not (project / "box").exists()


def test_two_batches_started_together_build_each_guide_once(project):
    runs = [guidegen(project, "batch", "data/athletes.csv", "--out", "out", "--formats",
                     "html,ics", "-j", "1") for _ in range(2)]
    results = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], results
    summaries = sorted(line for _, err in results for line in err.splitlines()
                       if line.startswith("guides:"))
    assert summaries[0].startswith("guides: 0 built, 40 unchanged, 0 failed")
    assert summaries[1].startswith("guides: 40 built, 0 unchanged, 0 failed")


def test_the_lock_of_a_killed_holder_is_taken_over(project):
    out = project / "out"
    dead = holder(out)
    dead.kill()
    dead.wait(10)
    dead.stdout.close()
    left = json.loads((out / LOCK_NAME).read_text())
    assert left["pid"] == dead.pid and left["command"] == "batch"
    result = invoke_cli(["batch", "data/athletes.csv", "--out", "out", "--formats", "ics",
                         "-j", "1", "--no-wait"], cwd=project)
    assert result.exit_code == 0, result.stderr
    assert result.stderr_lines[0].startswith(
        f"out/{LOCK_NAME}: took over the lock of guidegen batch (pid {dead.pid}")
    assert result.stderr_lines[0].endswith("which is no longer running")
    assert "guides: 40 built" in result.stderr
    assert not (out / LOCK_NAME).exists()


def test_a_lock_file_naming_a_dead_pid_is_taken_over_without_waiting(tmp_path):
    """A lock file left with content (its holder was killed) but no flock held."""
    stale = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    pid = int(stale.stdout)  # a process that has exited
    (tmp_path / LOCK_NAME).write_text(json.dumps({"pid": pid, "command": "email"}))
    told = []
    with output_lock(tmp_path, "batch", wait=False, notify=told.append) as lock:
        [holding] = lock.locks
        assert holding.taken_over.pid == pid
        assert json.loads((tmp_path / LOCK_NAME).read_text())["pid"] == os.getpid()
    assert told == [f"{tmp_path / LOCK_NAME}: took over the lock of guidegen email "
                    f"(pid {pid}), which is no longer running"]


def test_shards_run_together_but_not_beside_a_whole_build_or_themselves(tmp_path):
    shard = holder(tmp_path, "batch", shard="(1, 2)")
    try:
        with output_lock(tmp_path, "batch", shard=(2, 2), wait=False):
            pass  # another shard: runs at the same time
        with pytest.raises(LockBusy):
            with output_lock(tmp_path, "batch", shard=(1, 2), wait=False):
                pass  # the same shard twice
        with pytest.raises(LockBusy):
            with output_lock(tmp_path, "batch", wait=False):
                pass  # the whole build
    finally:
        release(shard)
    with output_lock(tmp_path, "batch", wait=False):
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # the last one out removed it


def test_waiting_is_said_once_then_the_lock_is_taken_when_freed(tmp_path):
    first = holder(tmp_path)
    told, slept = [], []

    def sleep(seconds):
        slept.append(seconds)
        if len(slept) == 3:
            release(first)

    with FileLock(tmp_path / LOCK_NAME, "email", notify=told.append, sleep=sleep):
        assert json.loads((tmp_path / LOCK_NAME).read_text())["command"] == "email"
    assert len(told) == 1 and "waiting for it to finish" in told[0]
    assert len(slept) >= 3


def test_an_output_folder_that_cannot_hold_a_lock_is_a_usage_error(tmp_path, run_cli,
                                                                   scratch_project):
    root = scratch_project(copy=("templates",))
    (root / "file").write_text("a file where a folder should be")
    result = run_cli(["batch", "data/athletes.csv", "--out", "file/out"], cwd=root)
    assert result.exit_code == 2
    assert result.stderr_lines == ["file/out: cannot write to the output folder: not a "
                                   "directory"]


def test_interrupting_a_wait_leaves_the_holder_alone(tmp_path):
    first = holder(tmp_path)
    waiter = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        from pathlib import Path
        from generator.core.lock import output_lock
        with output_lock(Path({str(tmp_path)!r}), "build", notify=print):
            print("got it", flush=True)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert "waiting" in waiter.stdout.readline()
        waiter.send_signal(signal.SIGINT)
        waiter.wait(10)
        assert waiter.returncode != 0
        assert json.loads((tmp_path / LOCK_NAME).read_text())["pid"] == first.pid
    finally:
        waiter.stdout.close()
        release(first)
