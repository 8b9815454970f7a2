"""--report PATH: every problem as JSON, for clinic staff and other tools."""

from __future__ import annotations

import json
from pathlib import Path

from generator.core.errors import Problem
from generator.core.write import write_atomic


def write_report(path: Path | None, problems: list[Problem], summary: dict | None = None) -> None:
    if path is None:
        return
    data = {
        "errors": sum(1 for p in problems if p.severity == "error"),
        "warnings": sum(1 for p in problems if p.severity == "warning"),
        "summary": summary or {},
        "problems": [
            {"file": p.path, "line": p.line, "field": p.field, "message": p.message,
             "severity": p.severity}
            for p in problems
        ],
    }
    write_atomic(path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")
