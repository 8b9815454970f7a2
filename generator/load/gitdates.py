"""When each file last changed, from git: the date of the last commit touching it (like
Hugo's ``enableGitInfo``), so the site's sitemap ``lastmod`` and feed ``updated`` move
when a page's text does, and stay the same for a given checkout (the working tree's
uncommitted edits, file times and the clock play no part).

One ``git log`` for all files: walking the history once is what costs, not the files
(about 0.2 s for 3,000 commits, on every build and in every language). So the dates are
kept by the commit checked out: in the process (every language of a build, ``serve``'s
rebuilds) and, given a ``store`` (the site's page cache), for the next build. The same
commit gives the same history, so a kept answer is the one ``git log`` would give; a new
commit (or a checkout of another) is a new key, and the history is walked again. A
shallow clone's history can deepen under the same commit: it is not kept.
Outside a git checkout, without git, or for a file git does not track, there is no date
and the caller falls back to its own.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from collections.abc import Iterable
from pathlib import Path

from generator.core.cachestore import CacheStore, make_key

GIT_TIMEOUT = 30  # seconds; a history that takes longer is not worth waiting for
MARK = "\x01"  # starts each commit's date in the log output (no path starts with it)
_KEPT: dict[str, dict[str, dt.datetime]] = {}  # the last history walked, by its key


def last_commit_dates(root: Path, files: Iterable[Path],
                      store: CacheStore | None = None) -> dict[Path, dt.datetime]:
    """{file: committer date (UTC) of the last commit that touched it} for the ``files``
    under ``root`` that git tracks; {} when ``root`` is not in a git checkout. ``store``
    keeps the answer for the commit checked out (see the module's docstring)."""
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
    env["GIT_OPTIONAL_LOCKS"] = "0"
    folders = sorted({str(Path(p).parent) or "." for p in wanted})
    answer = _git(root, env, "rev-parse", "--is-shallow-repository", "HEAD") or b""
    shallow, *head = answer.split() or [b""]  # b"false", the commit checked out
    key = dates = None
    if shallow == b"false":
        from generator.load.contentcache import fingerprint  # guidegen's code, this file's

        key = make_key("git dates", fingerprint(), str(root), *folders, *head)
        dates = _KEPT.get(key)
        if store is not None:  # kept in the process or not: the pack's for the next build
            stored = store.get(key, count=dates is None)
            if dates is None:
                dates = _decode(stored)
    if dates is None:
        output = _git(root, env, "log", f"--format={MARK}%cI", "--name-only", "--relative",
                      "-z", "--no-renames", "--", *folders)
        if output is None:
            return {}  # not a checkout (or git refused it): no dates
        dates = _parse(output)
        if key is not None and store is not None:
            store.put(key, json.dumps({n: d.isoformat() for n, d in dates.items()},
                                      sort_keys=True).encode())
    if key is not None:
        _KEPT.clear()
        _KEPT[key] = dates
    return {wanted[name]: date for name, date in dates.items() if name in wanted}


def _git(root: Path, env: dict[str, str], *args: str) -> bytes | None:
    """What ``git -C root ARGS`` printed, or None (no git, a refusal, too slow)."""
    try:
        done = subprocess.run(["git", "-C", str(root), "-c", "log.showSignature=false",
                               *args], capture_output=True, timeout=GIT_TIMEOUT, env=env,
                              check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def _decode(data: bytes | None) -> dict[str, dt.datetime] | None:
    """Dates kept in the store, or None for none (or an entry it cannot read)."""
    if data is None:
        return None
    try:
        return {name: dt.datetime.fromisoformat(date)
                for name, date in json.loads(data).items()}
    except (ValueError, TypeError, AttributeError):
        return None


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
