"""Helpers for the site tests: the example project's two-runner roster and one ``guidegen build``.

Plain functions and constants; the fixtures that use them are in ``site_fixtures.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from conftest import invoke_cli

from generator.publish.plans import plan_token

SECRET = "site-tests-secret-0123456789abcdef"
EPOCH = "1790000000"  # 2026-09-21T14:13:20Z
BUILD_ENV = {"GUIDEGEN_PLAN_SECRET": SECRET, "SOURCE_DATE_EPOCH": EPOCH}
ATHLETES = ("hb-zoe-01", "sm-hanako-03")  # the roster of copy_example(..., athletes=ATHLETES)
BASE_URL = "https://guides.harbour-sports-therapy.example/"


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
