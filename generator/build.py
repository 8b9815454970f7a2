"""The orchestrator: load, plan, render, publish (one screen, MkDocs-style)."""

from __future__ import annotations

from pathlib import Path

from generator.load.inputs import Inputs
from generator.publish.batch import Summary, run_batch

__all__ = ["Summary", "build_guides"]


def build_guides(inputs: Inputs, out: Path, formats: tuple[str, ...],
                 progress=None, plan_tokens: dict[str, str] | None = None,
                 jobs: int | None = None, force: bool = False,
                 shard: tuple[int, int] | None = None) -> Summary:
    """Render and write each athlete's guide (in parallel, only what changed).

    With ``plan_tokens`` (athlete id -> token) each athlete also gets a private
    plan page folder under ``out/site/plans/<token>/`` (page, PDF and ICS).
    """
    return run_batch(inputs, out, formats, plan_tokens=plan_tokens, jobs=jobs, force=force,
                     shard=shard, progress=progress)
