"""Shared fixtures and the one copy of each test helper.

The helpers are plain functions, importable by helper modules and module-scoped
fixtures (``from conftest import ...`` or ``from tests.conftest import ...``):

* ``REPO_ROOT``: the repository root, which is also the shipped example project;
* ``invoke_cli``: ``guidegen`` in-process (Click's CliRunner) from a given folder,
  with exit code, stdout and stderr separately; the ``run_cli`` fixture returns it;
* ``copy_example``: parts of the example project copied into a folder, optionally
  with a smaller roster and files written over it; ``scratch_project`` uses it to
  build a tiny, valid project (Lektor / MkDocs style) under ``tmp_path``;
* ``tree``: {relative path: sha256} of every file under a folder.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import inspect
import os
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

# "Today" for every plan the tests make (a new runner's first day, a past race, expiry):
# the example roster's races are fixed dates, the suite must not depend on the day it
# runs. Inherited by the guidegen subprocesses; a test about today sets its own --as-of.
EXAMPLE_TODAY = "2026-09-21"
os.environ["GUIDEGEN_AS_OF"] = EXAMPLE_TODAY

REPO_ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_ROSTER = REPO_ROOT / "data" / "athletes.csv"
EXAMPLE_PARTS = ("guidegen.toml", "content", "brands", "templates", "locales")

SCRATCH_TOML = """\
[project]
title = "Scratch Clinic Guides"
base_url = "https://guides.scratch.example/"
default_brand = "clinic"
roster = "data/athletes.csv"
"""

SCRATCH_BRAND_TOML = """\
name = "Scratch Clinic"
logo = "logo.svg"
timezone = "Europe/London"
open_days = ["mon", "tue", "wed", "thu", "fri", "sat"]
appointment_time = "17:30"
booking_url = "https://scratch.example/book"
address = "1 Test Street, Testtown"
legal_footer = "Scratch Clinic (fictional test company)."

[colors]
primary = "#0b5d6b"
accent = "#f2a541"
"""

SCRATCH_LOGO_SVG = """\
<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40" viewBox="0 0 120 40">
  <rect width="120" height="40" fill="#0b5d6b"/>
  <text x="10" y="26" fill="#ffffff" font-size="16">Scratch</text>
</svg>
"""

SCRATCH_TRAINING_MD = """\
---
title: Massage during training
order: 10
summary: A steady rhythm of moderate sessions through the block.
sessions:
  - kind: maintenance
    pressure: moderate
    duration: 60
    stop_days_before: 10
    every: athlete
---

Book a moderate session the day after your long run.
"""

SCRATCH_RACE_MD = """\
---
title: Around race day
order: 20
summary: One light session before the race and one after it.
sessions:
  - kind: pre-race
    pressure: light
    duration: 45
    days_before: [3, 5]
  - kind: post-race
    pressure: light
    duration: 45
    days_after: [1, 3]
---

Keep race week light.
"""

SCRATCH_ROSTER_CSV = """\
id,name,email,race_name,race_date,training_start,massage_frequency,long_run_day,focus_areas
ada-01,Ada Lovelace,ada@example.com,Scratch Marathon,2027-04-18,2027-01-03,weekly,sun,calves
bo-02,Bo Chen,,Scratch Marathon,2027-04-18,,biweekly,sat,
"""

SCRATCH_FILES: dict[str, str] = {
    "guidegen.toml": SCRATCH_TOML,
    "brands/clinic/brand.toml": SCRATCH_BRAND_TOML,
    "brands/clinic/logo.svg": SCRATCH_LOGO_SVG,
    "content/training.md": SCRATCH_TRAINING_MD,
    "content/race-days.md": SCRATCH_RACE_MD,
    "data/athletes.csv": SCRATCH_ROSTER_CSV,
}


def copy_example(
    target: Path,
    parts: Iterable[str] = EXAMPLE_PARTS,
    *,
    athletes: Iterable[str] | None = None,
    files: Mapping[str, str | bytes | None] | None = None,
) -> Path:
    """Copy ``parts`` of the example project (files or folders under ``REPO_ROOT``) into
    ``target`` and return ``target``.

    ``athletes``: also write ``data/athletes.csv`` with only these rows of the example
    roster (header first, roster order; every id must exist). ``files``: then write these
    texts or bytes, relative to ``target``, over the copy; ``None`` removes a file.
    """
    target.mkdir(parents=True, exist_ok=True)
    for rel in parts:
        source, dest = REPO_ROOT / rel, target / rel
        if source.is_dir():
            shutil.copytree(source, dest, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest)
    if athletes is not None:
        wanted = set(athletes)
        lines = EXAMPLE_ROSTER.read_text(encoding="utf-8").splitlines(keepends=True)
        rows = [line for line in lines[1:] if line.split(",", 1)[0] in wanted]
        assert len(rows) == len(wanted), f"not all of {sorted(wanted)} are in the roster"
        roster = target / "data" / "athletes.csv"
        roster.parent.mkdir(parents=True, exist_ok=True)
        roster.write_text(lines[0] + "".join(rows), encoding="utf-8")
    toml = target / "guidegen.toml"
    if "guidegen.toml" in parts and toml.is_file():
        # the example's races are fixed dates while tests run on today's: no plan page may
        # expire under a test that is about something else (tests/test_privacy.py tests expiry)
        text = toml.read_text(encoding="utf-8")
        toml.write_text(text.replace("[plans]\n", "[plans]\nkeep_days_after_race = 0\n", 1),
                        encoding="utf-8")
    for rel, text in (files or {}).items():
        path = target / rel
        if text is None:
            path.unlink(missing_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
    return target


def tree(folder: Path, skip: Iterable[str] = ()) -> dict[str, str]:
    """{POSIX path relative to ``folder``: sha256 hex} of every file below ``folder``,
    except those whose name matches one of the ``skip`` patterns (fnmatch, e.g.
    ``"manifest*"``)."""
    skip = tuple(skip)
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*"))
            if p.is_file() and not any(fnmatch.fnmatchcase(p.name, pat) for pat in skip)}


class ScratchProject:
    """Factory: ``scratch_project({"content/x.md": "...", "data/athletes.csv": None})``.

    Files in the dict replace the defaults (``SCRATCH_FILES``); ``None`` removes a
    default file. ``copy`` copies folders of the example project (for instance
    ``("templates",)`` for rendering tests). Each call builds a fresh folder.
    """

    defaults: Mapping[str, str] = SCRATCH_FILES

    def __init__(self, base: Path):
        self._base = base
        self._count = 0

    def __call__(
        self,
        files: Mapping[str, str | bytes | None] | None = None,
        *,
        defaults: bool = True,
        copy: tuple[str, ...] = (),
    ) -> Path:
        self._count += 1
        root = self._base / f"project{self._count}"
        root.mkdir(parents=True)
        wanted: dict[str, str | bytes | None] = dict(self.defaults) if defaults else {}
        wanted.update(files or {})
        return copy_example(root, copy, files=wanted)


@pytest.fixture
def scratch_project(tmp_path: Path) -> ScratchProject:
    """Build tiny projects in ``tmp_path`` (see :class:`ScratchProject`)."""
    return ScratchProject(tmp_path)


@pytest.fixture(scope="session")
def example_root() -> Path:
    """The repository root: the shipped example project."""
    return REPO_ROOT


@dataclass(frozen=True)
class CliResult:
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None

    @property
    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def _runner() -> CliRunner:
    # Click < 8.2 mixes stderr into stdout unless told not to; 8.2+ always separates
    if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters:
        return CliRunner(mix_stderr=False)
    return CliRunner()


def invoke_cli(args: list, cwd: Path, env: Mapping[str, str] | None = None, *,
               catch_exceptions: bool = True) -> CliResult:
    """Run ``guidegen ARGS`` in-process with ``cwd`` as the working folder.

    ``catch_exceptions=False`` lets an unexpected exception propagate (for module-scoped
    fixtures, where a traceback is more useful than a stored exception).
    """
    from generator.cli import cli

    with contextlib.chdir(cwd):
        result = _runner().invoke(cli, [str(a) for a in args], env=dict(env or {}),
                                  prog_name="guidegen", catch_exceptions=catch_exceptions)
    exc = result.exception
    if isinstance(exc, SystemExit):
        exc = None
    return CliResult(result.exit_code, result.stdout, result.stderr, exc)


@pytest.fixture
def run_cli() -> Callable[..., CliResult]:
    """``run_cli(["check", "data/athletes.csv"], cwd=root)`` -> :class:`CliResult`."""
    return invoke_cli


@dataclass(frozen=True)
class RecordingInit:
    """The batch workers' initializer, first writing the worker's pid to ``log``.
    Pickled into each worker (they start from a fork server, not from the test), where
    ``_init_worker`` is the module's own: nothing patched in the test reaches them."""

    log: str

    def __call__(self, *args) -> None:
        import generator.publish.batch as batch

        with open(self.log, "a", encoding="utf-8") as fh:
            fh.write(f"{os.getpid()}\n")
        batch._init_worker(*args)


@pytest.fixture
def worker_pids(tmp_path, monkeypatch) -> Callable[[], list[str]]:
    """Record the pid of every batch worker process started; call it for the list."""
    import generator.publish.batch as batch

    started = tmp_path / "workers.txt"
    monkeypatch.setattr(batch, "_init_worker", RecordingInit(str(started)))
    return lambda: started.read_text().split() if started.exists() else []
