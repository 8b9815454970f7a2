"""When each file last changed, from git: the date of the last commit touching it (like
Hugo's ``enableGitInfo``), so the site's sitemap ``lastmod`` and feed ``updated`` move
when a page's text does, and stay the same for a given checkout (the working tree's
uncommitted edits, file times and the clock play no part).

One ``git log`` for all files: walking the history once is what costs, not the files.
Outside a git checkout, without git, or for a file git does not track, there is no date
and the caller falls back to its own.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from collections.abc import Iterable
from pathlib import Path

GIT_TIMEOUT = 30  # seconds; a history that takes longer is not worth waiting for
MARK = "\x01"  # starts each commit's date in the log output (no path starts with it)


def last_commit_dates(root: Path, files: Iterable[Path]) -> dict[Path, dt.datetime]:
    """{file: committer date (UTC) of the last commit that touched it} for the ``files``
    under ``root`` that git tracks; {} when ``root`` is not in a git checkout."""
    root = root.resolve()
    if not any((folder / ".git").exists() for folder in (root, *root.parents)):
        return {}  # in no checkout (git finds one the same way): spare starting git
    wanted: dict[str, Path] = {}
    for path in files:
        try:
            wanted[path.resolve().relative_to(root).as_posix()] = path
        except ValueError:
            continue  # outside the project: not asked of git
    if not wanted:
        return {}
    env = {k: v for k, v in os.environ.items()
           if k not in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")}  # this checkout's
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "-c", "log.showSignature=false", "log",
             f"--format={MARK}%cI", "--name-only", "--relative", "-z", "--no-renames",
             "--", *sorted({str(Path(p).parent) or "." for p in wanted})],
            capture_output=True, timeout=GIT_TIMEOUT, env={**env, "GIT_OPTIONAL_LOCKS": "0"},
            check=False)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    if done.returncode != 0:
        return {}  # not a checkout (or git refused it): no dates
    return {wanted[name]: date for name, date in _parse(done.stdout).items()
            if name in wanted}


def _parse(output: bytes) -> dict[str, dt.datetime]:
    """The newest date of each path in ``git log --format=MARK%cI --name-only -z``
    output (newest commit first: the first date seen for a path is its last change)."""
    dates: dict[str, dt.datetime] = {}
    current = None
    for token in output.decode("utf-8", "surrogateescape").split("\0"):
        token = token.lstrip("\n")
        if token.startswith(MARK):
            try:
                current = dt.datetime.fromisoformat(token[1:].strip()).astimezone(dt.UTC)
            except ValueError:
                current = None
        elif token and current is not None:
            dates.setdefault(token, current)
    return dates
