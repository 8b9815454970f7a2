"""Load TOML files with located errors (shared by project and brand loading)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from generator.core.errors import Problem


def read_toml(path: Path, shown: str) -> tuple[dict | None, list[Problem]]:
    """Parse a TOML file; a syntax error becomes a problem with its line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [Problem(shown, None, "file not found")]
    except UnicodeDecodeError as exc:
        return None, [Problem(shown, None, f"not valid UTF-8 ({exc.reason})")]
    try:
        return tomllib.loads(text), []
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        if line is None:
            m = re.search(r"line (\d+)", str(exc))
            line = int(m.group(1)) if m else None
        msg = str(exc).split(" (at line")[0]
        return None, [Problem(shown, line, f"invalid TOML: {msg}")]


def toml_key_line(text: str, loc: tuple[str, ...]) -> int | None:
    """Best-effort line of a key path like ('colors', 'primary') in TOML text."""
    if not loc:
        return None
    lines = text.splitlines()
    table = None
    wanted_table = ".".join(loc[:-1]) if len(loc) > 1 else None
    key = loc[-1]
    # a list index (open_days.3) points at its list's key
    if key.isdigit() and len(loc) > 1:
        return toml_key_line(text, loc[:-1])
    for no, raw in enumerate(lines, 1):
        line = raw.strip()
        m = re.match(r"^\[([^\]]+)\]$", line)
        if m:
            table = m.group(1).strip()
            if wanted_table and table == wanted_table and len(loc) == 1:
                return no
            continue
        if re.match(rf"^{re.escape(key)}\s*=", line) and table == wanted_table:
            return no
    if wanted_table:
        for no, raw in enumerate(lines, 1):
            if raw.strip() == f"[{wanted_table}]":
                return no
    return None
