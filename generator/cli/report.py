"""--report PATH: every problem as JSON, one schema for check, batch, build and email.

```
{"command": "build", "errors": 1, "warnings": 2, "summary": {...counts...},
 "problems": [{"path": "data/athletes.csv", "line": 5, "field": "race_date",
               "message": "...", "severity": "error", "athlete_id": null}, ...]}
```
"""

from __future__ import annotations

import json
from pathlib import Path

from generator.core.errors import Problem
from generator.core.write import write_atomic

FIELDS = ("path", "line", "field", "message", "severity", "athlete_id")


def report_data(command: str, problems: list[Problem], summary: dict | None = None) -> dict:
    return {
        "command": command,
        "errors": sum(1 for p in problems if p.severity == "error"),
        "warnings": sum(1 for p in problems if p.severity == "warning"),
        "summary": summary or {},
        "problems": [{k: getattr(p, k) for k in FIELDS} for p in problems],
    }


def write_report(path: Path | None, command: str, problems: list[Problem],
                 summary: dict | None = None) -> None:
    if path is None:
        return
    data = report_data(command, problems, summary)
    write_atomic(path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")
