"""Honest faults: a full disk, a read-only folder, a corrupt manifest or state, a damaged
send log. Each is said at the file it hit (and, for a guide, whose it was), what can go on
goes on, and a rerun does exactly what is left.

The full disk is a real 1 MB tmpfs when the tests may mount one (root), and a simulated
one otherwise (and always, in-process, so the path is covered without root either)."""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from generator.core.statefile import read_state
from generator.core.write import TEMP_RE
from tests.conftest import SCRATCH_BRAND_TOML, SCRATCH_LOGO_SVG, invoke_cli, tree

RUNNERS = [f"r{i:03d}" for i in range(40)]
HEADER = "id,name,race_name,race_date,massage_frequency,brand\n"


def roster(ids=RUNNERS) -> str:
    return HEADER + "".join(
        f"{a},Runner {a},Fault Marathon,2098-0{1 + i % 8}-1{i % 9},weekly,{brand_of(a)}\n"
        for i, a in ((RUNNERS.index(a), a) for a in ids))


def brand_of(athlete_id: str) -> str:
    return "other" if RUNNERS.index(athlete_id) % 4 == 3 else "clinic"


def line_of(athlete_id: str) -> int:
    return RUNNERS.index(athlete_id) + 2


@pytest.fixture
def project(scratch_project) -> Path:
    return scratch_project({
        "brands/other/brand.toml": SCRATCH_BRAND_TOML.replace("Scratch Clinic", "Other Clinic"),
        "brands/other/logo.svg": SCRATCH_LOGO_SVG,
        "data/athletes.csv": roster(),
    }, copy=("templates",))


def batch(root: Path, *extra, out: str = "out"):
    return invoke_cli(["batch", "data/athletes.csv", "--out", out, "--formats", "html,ics",
                       "-j", "1", *extra], cwd=root)


def manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def guides(out: Path) -> dict[str, str]:
    return tree(out, skip=("manifest*", "guidegen.lock", "*.corrupt-*"))


# ------------------------------------------------------------------- mounts (root only)

@pytest.fixture
def mounts():
    """mount(args...) runs mount and remembers what to unmount; skips when not allowed."""
    done: list[Path] = []

    def mount(*args: str, target: Path) -> None:
        if os.geteuid() != 0:
            pytest.skip("mounting a tmpfs or a read-only bind mount needs root")
        found = subprocess.run(["mount", *args, str(target)], capture_output=True, text=True)
        if found.returncode != 0:
            pytest.skip(f"cannot mount here ({found.stderr.strip()})")
        done.append(target)

    yield mount
    for target in reversed(done):
        if subprocess.run(["umount", str(target)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(target)], capture_output=True)


# ---------------------------------------------------------------------- a full disk

def check_stopped_on_a_full_disk(root: Path, out: Path, first, reference: dict) -> set[str]:
    """What a batch that filled the disk must leave: exit 1, each failure said at its file
    and runner, a stop line, whole files only, a manifest listing only files on disk.
    Returns the runners the manifest records."""
    assert first.exit_code == 1, first.stderr
    assert "Traceback" not in first.stderr
    full = [line for line in first.stderr_lines if ": no space left on device (runner " in line]
    assert full, first.stderr
    for line in full:
        path, _, rest = line.partition(": no space left on device (runner ")
        athlete_id = rest.split(",")[0]
        assert path in (f"out/guides/{brand_of(athlete_id)}/{athlete_id}.html",
                        f"out/guides/{brand_of(athlete_id)}/{athlete_id}.ics")
        assert rest == f"{athlete_id}, data/athletes.csv:{line_of(athlete_id)})"
    assert any(line.startswith("out: no space left on device: stopped; ") and
               "only the missing guides are built" in line for line in first.stderr_lines)
    assert not [p for p in out.rglob("*") if TEMP_RE.match(p.name)]
    written = guides(out)
    assert written and all(reference[rel] == sha for rel, sha in written.items())
    recorded = manifest(out)["outputs"]
    for entry in recorded.values():
        assert all((out / rel).is_file() for rel in entry["files"])
    for athlete_id in RUNNERS:  # a guide whole on disk is recorded: never built twice
        files = {f"guides/{brand_of(athlete_id)}/{athlete_id}.{fmt}" for fmt in ("html", "ics")}
        if files <= set(written):
            assert athlete_id in recorded, athlete_id
    return set(recorded)


def check_rerun_builds_exactly_the_missing(root: Path, out: Path, recorded: set[str],
                                           reference: dict) -> None:
    again = batch(root)
    assert again.exit_code == 0, again.stderr
    missing = len(RUNNERS) - len(recorded)
    assert 0 < missing < len(RUNNERS)
    assert f"guides: {missing} built, {len(recorded)} unchanged, 0 failed" in again.stderr
    assert guides(out) == reference
    assert sorted(manifest(out)["outputs"]) == RUNNERS


@pytest.fixture
def reference(project, tmp_path) -> dict:
    done = batch(project, out=str(tmp_path / "reference"))
    assert done.exit_code == 0, done.stderr
    return guides(tmp_path / "reference")


def test_a_disk_that_fills_up_on_a_real_tmpfs(project, reference, mounts):
    out = project / "out"
    out.mkdir()
    mounts("-t", "tmpfs", "-o", "size=1m", "tmpfs", target=out)
    first = batch(project)
    recorded = check_stopped_on_a_full_disk(project, out, first, reference)
    # free space (a bigger disk), run the same command again
    subprocess.run(["mount", "-o", "remount,size=64m", str(out)], check=True)
    check_rerun_builds_exactly_the_missing(project, out, recorded, reference)


def test_a_disk_that_fills_up_simulated(project, reference, monkeypatch):
    """Without mounting: the batch's writes raise ENOSPC once 1 MB is written."""
    import generator.publish.batch as batch_module

    real = batch_module.write_atomic
    used = [0]

    def small_disk(path, data, durable=True):
        used[0] += len(data)
        if used[0] > 1_000_000:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real(path, data, durable)

    out = project / "out"
    monkeypatch.setattr(batch_module, "write_atomic", small_disk)
    first = batch(project)
    recorded = check_stopped_on_a_full_disk(project, out, first, reference)
    monkeypatch.setattr(batch_module, "write_atomic", real)
    check_rerun_builds_exactly_the_missing(project, out, recorded, reference)


# -------------------------------------------------------------- read-only folders

def make_read_only(folder: Path, mounts) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return
    mounts("--bind", str(folder), target=folder)
    subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], check=True)


def test_a_read_only_brand_folder_fails_its_guides_and_the_rest_build(project, reference,
                                                                      mounts):
    out = project / "out"
    make_read_only(out / "guides" / "other", mounts)
    first = batch(project)
    assert first.exit_code == 1, first.stderr
    other = [a for a in RUNNERS if brand_of(a) == "other"]
    reason = "read-only file system" if os.geteuid() == 0 else "permission denied"
    assert [line for line in first.stderr_lines if not line.startswith("guides:")] == [
        f"out/guides/other/{a}.html: {reason} (runner {a}, data/athletes.csv:{line_of(a)})"
        for a in other]
    assert (f"guides: {len(RUNNERS) - len(other)} built, 0 unchanged, {len(other)} failed"
            in first.stderr)
    assert sorted(manifest(out)["outputs"]) == [a for a in RUNNERS if a not in other]
    # writable again: only the failed ones are built
    if os.geteuid() == 0:
        subprocess.run(["mount", "-o", "remount,bind,rw", str(out / "guides" / "other")],
                       check=True)
    else:
        (out / "guides" / "other").chmod(0o755)
    again = batch(project)
    assert again.exit_code == 0, again.stderr
    assert f"guides: {len(other)} built, {len(RUNNERS) - len(other)} unchanged" in again.stderr
    assert guides(out) == reference


def test_a_read_only_output_folder_builds_nothing_and_says_where(project, mounts):
    out = project / "out"
    make_read_only(out, mounts)
    result = batch(project)
    assert result.exit_code == 2
    reason = "read-only file system" if os.geteuid() == 0 else "permission denied"
    assert result.stderr_lines == [
        f"out/guidegen.lock: cannot write to the output folder: {reason}"]


# ------------------------------------------------------------- corrupt manifest and state

def test_a_corrupt_manifest_is_set_aside_and_rebuilt_from_the_files_on_disk(project,
                                                                            reference):
    out = project / "out"
    assert batch(project).exit_code == 0
    text = (out / "manifest.json").read_bytes()
    (out / "manifest.json").write_bytes(text[:len(text) // 2])  # cut short
    gone = RUNNERS[5]
    (project / "data/athletes.csv").write_text(roster([a for a in RUNNERS if a != gone]))
    result = batch(project)
    assert result.exit_code == 0, result.stderr
    [warning] = [line for line in result.stderr_lines if "manifest.json" in line]
    assert warning.startswith("out/manifest.json:")
    assert ": warning: corrupt (not valid JSON: " in warning
    aside = sorted(out.glob("manifest.json.corrupt-*"))
    assert [p.name for p in aside] == [warning.split("set aside as ")[1].split(";")[0]]
    assert warning.endswith("; rebuilt from the files on disk")
    assert aside[0].read_bytes() == text[:len(text) // 2]
    # the runner who left is found on disk and removed; the others are rebuilt once
    assert f"guides: {len(RUNNERS) - 1} built, 0 unchanged, 0 failed, 1 removed" in result.stderr
    assert not list((out / "guides").rglob(f"{gone}.*"))
    assert guides(out) == {k: v for k, v in reference.items() if f"/{gone}." not in k}
    again = batch(project)
    assert f"guides: 0 built, {len(RUNNERS) - 1} unchanged" in again.stderr
    assert again.stderr_lines == [again.stderr_lines[-1]]  # said once, not again


def test_a_manifest_whose_state_is_the_wrong_shape_is_corrupt_too(project):
    out = project / "out"
    assert batch(project).exit_code == 0
    data = manifest(out)
    data["state"] = ["not", "an", "object"]
    (out / "manifest.json").write_text(json.dumps(data))
    result = batch(project)
    assert result.exit_code == 0, result.stderr
    assert any(line.startswith("out/manifest.json: warning: corrupt ('state' is a JSON list, "
                               "not an object); set aside as manifest.json.corrupt-")
               for line in result.stderr_lines), result.stderr
    assert f"guides: {len(RUNNERS)} built, 0 unchanged, 0 failed, 0 removed" in result.stderr
    assert "state" not in manifest(out) or isinstance(manifest(out)["state"], dict)


def test_read_state_reports_sets_aside_and_validates(tmp_path):
    path = tmp_path / "state.json"
    assert read_state(path).data == {} and read_state(path).problem is None  # missing
    path.write_text('{"a": 1}')
    assert read_state(path).data == {"a": 1}

    def validate(data):
        if not isinstance(data.get("a"), str):
            raise ValueError("'a' is not text")

    found = read_state(path, shown="state.json", validate=validate, then="starting again")
    assert found.corrupt and found.data == {}
    assert str(found.problem) == (f"state.json: warning: corrupt ('a' is not text); set "
                                  f"aside as {found.set_aside.name}; starting again")
    assert not path.exists() and found.set_aside.read_text() == '{"a": 1}'
    # deterministic: the same damage is set aside under the same name
    path.write_text('{"a": 1}')
    assert read_state(path, validate=validate).set_aside == found.set_aside
    for damage, reason in ((b"", "empty"), (b"[1]", "a JSON list, not an object"),
                           (b'{"a": ', "not valid JSON: Expecting value (column 7)"),
                           (b"\xff{}", "not UTF-8 at byte 0")):
        path.write_bytes(damage)
        assert f"corrupt ({reason})" in read_state(path).problem.message
    path.write_bytes(b"{")
    kept = read_state(path, set_aside=False)  # a reader that does not own the file
    assert kept.corrupt and path.read_bytes() == b"{" and kept.set_aside is None


# ----------------------------------------------------------------- a damaged send log

def damaged_send_log(out: Path, how: str) -> None:
    from generator.deliver.sendlog import SendLog

    out.mkdir(parents=True, exist_ok=True)
    path = out / "sendlog.sqlite"
    if how == "garbage":
        path.write_bytes(b"this is not a database" * 200)
        return
    with SendLog(path) as log:  # enough rows for several pages, then one page damaged
        for i in range(400):
            log.begin_attempt(f"x{i:04d}", "h" * 64, f"x{i}@example.com", f"<m{i}@x>")
            log.mark(f"x{i:04d}", "h" * 64, "sent")
        log.scrub()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 4 * page
    data[2 * page: 2 * page + 8] = b"\xff" * 8  # a b-tree page's header
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["garbage", "damaged page"])
@pytest.mark.parametrize("send", [False, True])
def test_a_damaged_send_log_stops_email_before_any_message(project, tmp_path, how, send):
    out = project / "out"
    damaged_send_log(out, how)
    before = (out / "sendlog.sqlite").read_bytes()
    args = (["--smtp", "smtp://127.0.0.1:9", "--send"] if send
            else ["--outbox", str(tmp_path / "box")])
    result = invoke_cli(["email", "data/athletes.csv", "--out", "out", *args], cwd=project)
    assert result.exit_code == 2, result.stderr
    assert result.stderr_lines[-1].startswith("out/sendlog.sqlite: the send log is damaged (")
    assert result.stderr_lines[-1].endswith(
        "stopped before sending or changing anything. Restore it from a backup, or move it "
        "away to start an empty one (then every runner is emailed again)")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "box").exists() or not list((tmp_path / "box").iterdir())
    assert (out / "sendlog.sqlite").read_bytes() == before  # untouched, not set aside


def test_a_first_site_build_on_a_full_disk_says_where_and_leaves_no_short_file(
        project, tmp_path, mounts):
    """A site's first build writes its pages in place (``core.write.write_new``): a page
    the disk has no room for is said at its file and removed, never left short; once there
    is room, the next build writes the whole site."""
    env = {"SOURCE_DATE_EPOCH": "1790000000"}
    done = invoke_cli(["site", "--out", tmp_path / "reference"], cwd=project, env=env)
    assert done.exit_code == 0, done.stderr
    reference = tree(tmp_path / "reference" / "site")
    pages = sorted((tmp_path / "reference" / "site").rglob("*.html"))
    blocks = sum(-(-p.stat().st_size // 4096) for p in pages)  # tmpfs: 4 KiB pages
    out = project / "out"
    out.mkdir()
    # room for the cache and about half the pages: the disk fills while pages stream
    mounts("-t", "tmpfs", "-o", f"size={4 * (2 + blocks // 2)}k", "tmpfs", target=out)
    first = invoke_cli(["site", "--out", "out"], cwd=project, env=env)
    assert first.exit_code == 1, first.stderr
    assert "Traceback" not in first.stderr
    full = [line for line in first.stderr_lines if ": no space left on device" in line]
    assert full and all(line.startswith("out/site/") for line in full), first.stderr
    written = tree(out / "site")
    assert written and len(written) < len(reference)
    assert all(reference[rel] == sha for rel, sha in written.items())  # whole files only
    assert not [p for p in out.rglob("*") if TEMP_RE.match(p.name)]
    subprocess.run(["mount", "-o", "remount,size=64m", str(out)], check=True)
    again = invoke_cli(["site", "--out", "out"], cwd=project, env=env)
    assert again.exit_code == 0, again.stderr
    assert tree(out / "site") == reference
