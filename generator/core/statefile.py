"""State kept between runs as a JSON file (the manifest and what it holds): read it, or,
when it is corrupt, say so, set it aside and go on from nothing.

A state file that does not parse (a disk that filled up under another tool, a manual
edit, a copy cut short) must neither stop every later build nor be silently taken for
an empty one (then nothing it recorded would ever be cleaned up). :func:`read_state`
reports it as one located warning, moves it aside as ``NAME.corrupt-<hash>`` (the first
12 hex digits of its bytes' sha256: the same damaged file is set aside once, under a
name that does not depend on when) and hands back empty data; the caller rebuilds what
it can from what is on disk, and its next save writes a good file.

Callers say what "valid" means with ``validate``: a function that raises
:class:`Corrupt` (or ``ValueError``) with the reason, for a file that parses but does
not hold what it should (a section of the wrong type).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from generator.core.errors import Problem


class Corrupt(ValueError):
    """Raised by a ``validate`` function: the file parses but its content is wrong."""


@dataclass
class StateRead:
    """What :func:`read_state` found: ``data`` ({} when the file is missing, unreadable
    or corrupt), the ``problem`` to report (None when all is well or the file is simply
    missing) and where a corrupt file was moved (``set_aside``)."""

    data: dict
    problem: Problem | None = None
    set_aside: Path | None = None
    corrupt: bool = False


def read_state(path: Path, *, shown: str | None = None,
               validate: Callable[[dict], None] | None = None,
               then: str = "starting from nothing", set_aside: bool = True) -> StateRead:
    """Read the JSON object at ``path``.

    ``shown``: the path as messages name it (default ``str(path)``). ``then``: what the
    caller does instead, ending the warning (``"rebuilt from the files on disk"``).
    A missing file is no problem; an unreadable one (permissions) is an error that leaves
    the file where it is; a corrupt one is a warning and is set aside. ``set_aside=False``
    (a reader that does not own the file, e.g. one that holds no lock on it) only reports
    it and leaves it for its owner.
    """
    shown = shown or str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return StateRead({})
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        return StateRead({}, Problem(shown, None, f"cannot read it: {reason.lower()}"))
    line = None
    try:
        if not raw.strip():
            raise Corrupt("empty")
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict):
            raise Corrupt(f"a JSON {type(data).__name__}, not an object")
        if validate is not None:
            validate(data)
        return StateRead(data)
    except UnicodeDecodeError as exc:
        reason = f"not UTF-8 at byte {exc.start}"
    except json.JSONDecodeError as exc:
        reason, line = f"not valid JSON: {exc.msg} (column {exc.colno})", exc.lineno
    except RecursionError:
        reason = "not valid JSON: nested too deeply"
    except ValueError as exc:  # Corrupt, or a validator's own ValueError
        reason = str(exc) or type(exc).__name__
    if not set_aside:
        return StateRead({}, Problem(shown, line, f"corrupt ({reason}); {then}",
                                     severity="warning"), corrupt=True)
    return _set_aside(path, raw, shown, line, reason, then)


def _set_aside(path: Path, raw: bytes, shown: str, line: int | None, reason: str,
               then: str) -> StateRead:
    aside = path.with_name(f"{path.name}.corrupt-{hashlib.sha256(raw).hexdigest()[:12]}")
    try:
        os.replace(path, aside)
    except OSError as exc:
        why = os.strerror(exc.errno) if exc.errno else str(exc)
        return StateRead({}, Problem(shown, line, f"corrupt ({reason}); could not set it "
                                     f"aside ({why.lower()}); {then}", severity="warning"),
                         corrupt=True)
    return StateRead({}, Problem(shown, line, f"corrupt ({reason}); set aside as "
                                 f"{aside.name}; {then}", severity="warning"),
                     set_aside=aside, corrupt=True)
