"""The orchestrator: load, plan, render, publish (one screen, MkDocs-style)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import GuidegenError, Problem
from generator.guides import PLAN, GuideMaker, guide_paths, plan_paths
from generator.inputs import Inputs
from generator.write import write_atomic


@dataclass
class Summary:
    built: int = 0
    unchanged: int = 0
    failed: int = 0
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)

    def line(self) -> str:
        return (f"guides: {self.built} built, {self.unchanged} unchanged, {self.failed} failed "
                f"in {self.seconds:.1f}s")


def build_guides(inputs: Inputs, out: Path, formats: tuple[str, ...],
                 progress=None, plan_tokens: dict[str, str] | None = None,
                 jobs: int | None = None, force: bool = False) -> Summary:
    """Render and write each athlete's guide; one failing guide never stops the rest.

    With ``plan_tokens`` (athlete id -> token) each athlete also gets a private
    plan page folder under ``out/site/plans/<token>/`` (page, PDF and ICS).
    """
    summary = Summary()
    started = time.perf_counter()
    maker = GuideMaker(inputs)
    want = formats if plan_tokens is None else tuple(dict.fromkeys((*formats, "pdf", "ics",
                                                                     PLAN)))
    for athlete in inputs.athletes:
        brand = inputs.brand_for(athlete)
        try:
            result = maker.make(athlete, want)
        except GuidegenError as exc:
            summary.failed += 1
            summary.problems.append(Problem(exc.path or "template", exc.line,
                                            f"{athlete.id}: {exc.message}"))
            continue
        summary.problems += result.problems
        paths = guide_paths(out, brand.id, athlete.id)
        for fmt in formats:
            write_atomic(paths[fmt], result.files[fmt])
        if plan_tokens is not None:
            for fmt, path in plan_paths(out, plan_tokens[athlete.id]).items():
                write_atomic(path, result.files[fmt])
        summary.built += 1
        if progress is not None:
            progress(athlete)
    summary.seconds = time.perf_counter() - started
    return summary
