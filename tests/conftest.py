"""Shared fixtures: scratch projects (Lektor / MkDocs style) and a CLI runner.

``scratch_project`` builds a tiny, valid project under ``tmp_path``; a test
overrides or removes single files and asserts on the result. ``run_cli``
runs ``guidegen`` in-process (Click's CliRunner) from a given folder and
returns exit code, stdout and stderr separately.
"""

from __future__ import annotations

import contextlib
import inspect
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

REPO_ROOT = Path(__file__).resolve().parents[1]

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
        for rel in copy:
            shutil.copytree(REPO_ROOT / rel, root / rel)
        for rel, text in wanted.items():
            if text is None:
                continue
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(text, bytes):
                path.write_bytes(text)
            else:
                path.write_text(text, encoding="utf-8")
        return root


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


def invoke_cli(args: list[str], cwd: Path, env: Mapping[str, str] | None = None) -> CliResult:
    """Run ``guidegen ARGS`` in-process with ``cwd`` as the working folder."""
    from generator.cli import cli

    with contextlib.chdir(cwd):
        result = _runner().invoke(cli, [str(a) for a in args], env=dict(env or {}),
                                  prog_name="guidegen", catch_exceptions=True)
    exc = result.exception
    if isinstance(exc, SystemExit):
        exc = None
    return CliResult(result.exit_code, result.stdout, result.stderr, exc)


@pytest.fixture
def run_cli() -> Callable[..., CliResult]:
    """``run_cli(["check", "data/athletes.csv"], cwd=root)`` -> :class:`CliResult`."""
    return invoke_cli
