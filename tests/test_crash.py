"""Crash safety: a batch killed with SIGKILL at any moment never leaves a broken output.

Outputs are written to a temp file and renamed (generator/write.py), so after a
kill every PDF, ICS and HTML file in ``out/`` is complete; the temp file of a write
in progress may remain, is never listed in the manifest, and the next batch removes
it. Workers notice their batch is gone and exit. A rerun builds what is missing and
leaves a manifest that lists every athlete and only files that exist.

The one exception is a site's first build, which makes its pages in place: a kill can
leave a page short, and the next build must make the site whole (the last test).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import icalendar
import pytest
from pypdf import PdfReader

from generator.core.write import TEMP_RE, remove_stale_temps, write_atomic

ATHLETES = [f"r-{i:02d}" for i in range(10)]
HEADER = "id,name,race_name,race_date,training_start,massage_frequency,long_run_day,brand\n"
ROSTER = HEADER + "".join(
    f"{a},Runner {i},Crash Test Marathon,2027-04-{10 + i},2027-01-0{1 + i % 9},"
    f"{'weekly' if i % 2 else 'biweekly'},{'sun' if i % 3 else 'sat'},"
    f"{'other' if i % 4 == 3 else 'clinic'}\n"
    for i, a in enumerate(ATHLETES))
BRANDS = {a: ("other" if i % 4 == 3 else "clinic") for i, a in enumerate(ATHLETES)}
FORMATS = ("pdf", "html", "ics")


def _alive(pid: int) -> bool:
    """Running (not a zombie waiting to be reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def _group(pgid: int) -> list[int]:
    """Live processes of a process group (the batch and its workers)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
                pids.append(int(entry.name))
    return pids


def start_batch(root: Path, out: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "GUIDEGEN_GUIDE_TIMEOUT"}
    env["SOURCE_DATE_EPOCH"] = "1790000000"
    return subprocess.Popen(
        [sys.executable, "-m", "generator", "batch", "data/athletes.csv", "--out", str(out),
         "-j", "2", "--formats", ",".join(FORMATS)],
        cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True)  # its own process group: we can kill the whole batch


def outputs(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*") if p.is_file() and not TEMP_RE.match(p.name))


def temp_files(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*") if p.is_file() and TEMP_RE.match(p.name))


def assert_every_output_is_complete(out: Path, context: str) -> None:
    for path in outputs(out):
        data = path.read_bytes()
        if path.suffix == ".pdf":
            assert data.rstrip().endswith(b"%%EOF"), f"{context}: truncated {path}"
            assert len(PdfReader(path).pages) >= 3, f"{context}: {path}"
        elif path.suffix == ".ics":
            calendar = icalendar.Calendar.from_ical(data)
            assert calendar.walk("VEVENT"), f"{context}: {path}"
            assert data.endswith(b"END:VCALENDAR\r\n"), f"{context}: truncated {path}"
        elif path.suffix == ".html":
            assert data.decode("utf-8").rstrip().endswith("</html>"), f"{context}: {path}"
        elif path.name == "manifest.json":
            manifest = json.loads(data)
            for entry in manifest["outputs"].values():
                for rel in entry["files"]:
                    assert (out / rel).is_file(), f"{context}: manifest lists missing {rel}"
        elif path.name == "guidegen.lock":  # a killed batch's lock: the next one takes over
            assert not data or json.loads(data)["command"] == "batch", f"{context}: {path}"
        else:
            pytest.fail(f"{context}: unexpected file {path}")


def _wait_for_a_temp_file(out: Path, batch: subprocess.Popen, limit: float = 20) -> None:
    folders = [out / "guides" / brand for brand in sorted(set(BRANDS.values()))]
    deadline = time.monotonic() + limit
    while batch.poll() is None and time.monotonic() < deadline:
        for folder in folders:
            try:
                if any(TEMP_RE.match(e.name) for e in os.scandir(folder)):
                    return
            except FileNotFoundError:
                pass
        time.sleep(0.0005)


@pytest.fixture
def project(scratch_project) -> Path:
    from tests.conftest import SCRATCH_BRAND_TOML, SCRATCH_LOGO_SVG

    return scratch_project({
        "brands/other/brand.toml": SCRATCH_BRAND_TOML.replace("Scratch Clinic", "Other Clinic"),
        "brands/other/logo.svg": SCRATCH_LOGO_SVG,
        "data/athletes.csv": ROSTER,
    }, copy=("templates",))


@pytest.mark.slow
def test_sigkill_at_random_moments_never_leaves_a_broken_output(project):
    out = project / "out"
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    context = f"seed {seed}"
    for attempt in range(5):
        batch = start_batch(project, out)
        if attempt < 4:
            time.sleep(rng.uniform(0.8, 5.0))
        else:  # aim for the middle of a write: kill as soon as a temp file shows up
            _wait_for_a_temp_file(out, batch)
        whole_group = attempt % 2 == 0
        if batch.poll() is None:
            workers = [p for p in _group(batch.pid) if p != batch.pid]
            if whole_group:  # the job is killed (OOM killer, scheduler, power loss)
                os.killpg(batch.pid, signal.SIGKILL)
            else:  # only the batch process: its workers must not linger
                os.kill(batch.pid, signal.SIGKILL)
            batch.wait(10)
            deadline = time.monotonic() + 10
            while any(_alive(p) for p in workers) and time.monotonic() < deadline:
                time.sleep(0.1)
            lingering = [p for p in workers if _alive(p)]
            for pid in lingering:  # never leave a process behind, even when failing
                os.kill(pid, signal.SIGKILL)
            assert not lingering, f"{context}: workers outlived their killed batch"
        else:
            batch.wait()
        batch.stdout.close()
        batch.stderr.close()
        assert_every_output_is_complete(out, f"{context}, kill {attempt + 1}")

    # a write that was cut short, as SIGKILL leaves it: the next run must remove it
    (out / "guides" / "clinic").mkdir(parents=True, exist_ok=True)
    stale = out / "guides" / "clinic" / ".r-00.pdf.k1ll3d_x.tmp"
    stale.write_bytes(b"%PDF-1.7\n% cut short")
    rerun = start_batch(project, out)
    stdout, stderr = rerun.communicate(timeout=150)
    assert rerun.returncode == 0, stderr.decode()
    assert "Traceback" not in stderr.decode()
    assert not temp_files(out), f"{context}: temp files left: {temp_files(out)}"
    assert_every_output_is_complete(out, f"{context}, rerun")
    expected = {f"guides/{BRANDS[a]}/{a}.{fmt}" for a in ATHLETES for fmt in FORMATS}
    assert {str(p.relative_to(out)) for p in outputs(out)} == expected | {"manifest.json"}
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(manifest["outputs"]) == ATHLETES
    for athlete_id, entry in manifest["outputs"].items():
        assert sorted(entry["files"]) == sorted(
            f"guides/{BRANDS[athlete_id]}/{athlete_id}.{fmt}" for fmt in FORMATS)
    again = start_batch(project, out)
    _, stderr = again.communicate(timeout=60)
    assert again.returncode == 0
    assert f"0 built, {len(ATHLETES)} unchanged, 0 failed" in stderr.decode()


# ---------------------------------------------------------------- temp files, unit level

def test_a_stale_temp_file_is_removed_and_a_live_writers_is_kept(tmp_path):
    stale = tmp_path / ".guide.pdf.abcd1234.tmp"
    stale.write_bytes(b"half")
    live = tmp_path / ".guide.ics.zz9_zz9z.tmp"
    live.write_bytes(b"being written")
    not_ours = [tmp_path / ".notes.tmp", tmp_path / "guide.pdf.abcd1234.tmp",
                tmp_path / ".guide.pdf.TOOLONG99.tmp"]
    for path in not_ours:
        path.write_bytes(b"keep me")
    holder = subprocess.Popen([sys.executable, "-c", (  # a writer in another process
        "import fcntl, time\n"
        f"f = open({str(live)!r}, 'rb'); fcntl.flock(f, fcntl.LOCK_EX)\n"
        "print('locked', flush=True); time.sleep(30)")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert remove_stale_temps(tmp_path) == [stale]
        assert live.exists() and all(p.exists() for p in not_ours)
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    assert remove_stale_temps(tmp_path) == [live]  # its writer died


def test_write_atomic_holds_its_temp_file_until_renamed(tmp_path, monkeypatch):
    """A cleaner running during the write finds the temp file locked."""
    target = tmp_path / "out.pdf"
    seen = []
    real_replace = os.replace

    def replace(src, dst):
        fd = os.open(src, os.O_RDONLY)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
        seen.append(remove_stale_temps(tmp_path))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    assert write_atomic(target, b"%PDF complete")
    assert seen == [[]]
    assert target.read_bytes() == b"%PDF complete"
    assert not temp_files(tmp_path)


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    target = tmp_path / "guide.html"
    target.write_text("<html>old</html>")

    def fail(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError):
        write_atomic(target, "<html>new</html>")
    assert target.read_text() == "<html>old</html>"
    assert not temp_files(tmp_path)


def test_site_pages_skip_the_per_file_fsync_and_sync_once(tmp_path, monkeypatch):
    """write_atomic(durable=False) renames a complete file without fsync; build_site
    writes its pages that way and then calls os.sync() once."""
    import os

    from generator.publish.layout import OutputLayout
    from generator.publish.site import build_site
    from tests.guidekit import load

    fsyncs, syncs = [], []
    monkeypatch.setattr(os, "fsync", lambda fd: fsyncs.append(fd))
    assert write_atomic(tmp_path / "a.html", b"<p>a</p>", durable=False)
    assert (tmp_path / "a.html").read_bytes() == b"<p>a</p>" and fsyncs == []
    assert write_atomic(tmp_path / "b.pdf", b"%PDF") and len(fsyncs) == 1

    monkeypatch.setattr(os, "sync", lambda: syncs.append(1))
    from generator.render.renderer import Renderer

    inputs = load()
    renderer = Renderer(inputs.project.templates_dir, inputs.project, inputs.context)
    layout = OutputLayout(tmp_path / "out")
    assert build_site(inputs, renderer, layout) == []
    assert (tmp_path / "out" / "site" / "index.html").is_file()
    assert len(fsyncs) == 1 and syncs == [1]
    assert build_site(inputs, renderer, layout) == []  # nothing changed
    assert syncs == [1]


@pytest.mark.slow
def test_a_first_site_build_killed_while_it_writes_is_made_whole_by_the_next(scratch_project):
    """A site's first build writes its pages in place as they render (no temp file:
    core.write.write_new), so a kill can leave a page short, in a site half written
    anyway. The next build finds no record of what it holds, compares every file with
    what it should hold, and leaves the site exactly as an uninterrupted build does."""
    modules = {f"content/m{i:03d}.md": (
        f"---\ntitle: Module {i}\norder: {i}\nsummary: Part {i} of the plan.\n---\n"
        + "\n\n".join(f"Paragraph {p} of module {i}, " + "words " * 120 for p in range(8)))
        for i in range(240)}
    root = scratch_project(modules, copy=("templates",))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["SOURCE_DATE_EPOCH"] = "1790000000"

    def site(out: Path) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "generator", "site", "--out", str(out)],
                                cwd=root, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, start_new_session=True)

    reference = root / "reference"
    assert site(reference).wait(timeout=120) == 0
    expected = {p.relative_to(reference / "site"): p.read_bytes()
                for p in (reference / "site").rglob("*") if p.is_file()}
    assert len(expected) > 240
    half_way = 0
    for at in (5, 20, 60):  # pages written when the build is killed
        out = root / f"out-{at}"
        build = site(out)
        deadline = time.monotonic() + 60
        while build.poll() is None and time.monotonic() < deadline:
            pages = out / "site" / "m000" / "index.html", out / "site" / f"m{at:03d}"
            if pages[0].exists() and (pages[1] / "index.html").exists():
                break  # pages come in order, from two workers: about ``at`` written
            time.sleep(0.0005)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(build.pid, signal.SIGKILL)
        build.wait()
        written = [p for p in (out / "site").rglob("*") if p.is_file()]
        half_way += 0 < len(written) < len(expected)
        again = site(out)
        assert again.wait(timeout=120) == 0, again.stderr.read().decode()
        found = {p.relative_to(out / "site"): p.read_bytes()
                 for p in (out / "site").rglob("*") if p.is_file()}
        assert found == expected, f"killed at {at} pages"
    assert half_way >= 2, "the builds were not killed half way"
