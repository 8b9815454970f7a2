"""Helpers for the site tests: a copy of the example project and one ``guidegen build``.

Plain functions and constants; the fixtures that use them are in ``site_fixtures.py``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from conftest import REPO_ROOT, invoke_cli

from generator.publish.plans import plan_token

SECRET = "site-tests-secret-0123456789abcdef"
EPOCH = "1790000000"  # 2026-09-21T14:13:20Z
BUILD_ENV = {"GUIDEGEN_PLAN_SECRET": SECRET, "SOURCE_DATE_EPOCH": EPOCH}
ATHLETES = ("hb-zoe-01", "sm-hanako-03")
BASE_URL = "https://guides.harbour-sports-therapy.example/"


def copy_example(target: Path, athletes: tuple[str, ...] = ATHLETES) -> Path:
    """The example project (content, templates, brands, config) with a smaller roster."""
    target.mkdir(parents=True, exist_ok=True)
    for rel in ("content", "templates", "brands"):
        shutil.copytree(REPO_ROOT / rel, target / rel,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(REPO_ROOT / "guidegen.toml", target / "guidegen.toml")
    lines = (REPO_ROOT / "data" / "athletes.csv").read_text(encoding="utf-8").splitlines()
    rows = [lines[0]] + [ln for ln in lines[1:] if ln.split(",", 1)[0] in athletes]
    (target / "data").mkdir()
    (target / "data" / "athletes.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return target


@dataclass(frozen=True)
class ExampleBuild:
    root: Path
    out: Path
    stderr: str

    @property
    def site(self) -> Path:
        return self.out / "site"

    @property
    def tokens(self) -> dict[str, str]:
        return {a: plan_token(SECRET.encode(), a) for a in ATHLETES}

    def public_files(self) -> list[Path]:
        return sorted(p for p in self.site.rglob("*")
                      if p.is_file() and "plans" not in p.relative_to(self.site).parts)

    def html_pages(self) -> list[Path]:
        return [p for p in self.public_files() if p.suffix == ".html"]


def run_build(root: Path, out: Path, *extra: str) -> ExampleBuild:
    result = invoke_cli(["build", "--out", out, *extra], cwd=root, env=BUILD_ENV)
    assert result.exception is None, result.exception
    assert result.exit_code == 0, result.stderr
    return ExampleBuild(root, out, result.stderr)
