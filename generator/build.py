"""The orchestrator: load, plan, render, publish (one screen, MkDocs-style)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import GuidegenError, Problem
from generator.guides import GuideMaker, guide_paths
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
                 progress=None) -> Summary:
    """Render and write each athlete's guide; one failing guide never stops the rest."""
    summary = Summary()
    started = time.perf_counter()
    maker = GuideMaker(inputs)
    for athlete in inputs.athletes:
        brand = inputs.brand_for(athlete)
        try:
            result = maker.make(athlete, formats)
        except GuidegenError as exc:
            summary.failed += 1
            summary.problems.append(Problem(exc.path or "template", exc.line,
                                            f"{athlete.id}: {exc.message}"))
            continue
        summary.problems += result.problems
        paths = guide_paths(out, brand.id, athlete.id)
        for fmt, data in result.files.items():
            write_atomic(paths[fmt], data)
        summary.built += 1
        if progress is not None:
            progress(athlete)
    summary.seconds = time.perf_counter() - started
    return summary
