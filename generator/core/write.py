"""Atomic writes: a crash never leaves a truncated output file.

Each write goes to a temp file ``.NAME.XXXXXXXX.tmp`` beside its target, which is
renamed over the target once complete. A process killed mid-write (SIGKILL, OOM,
power loss) leaves only that temp file behind, never a half-written output; the
next batch removes such orphans with :func:`remove_stale_temps`. A writer holds an
exclusive ``flock`` on its temp file for the file's whole life, so a temp file that
can be locked belongs to nobody alive: concurrent writers (shards sharing an output
folder) never lose a file they are still writing.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX: fall back to the temp file's age
    fcntl = None

TEMP_RE = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")  # what mkstemp makes for us below
STALE_AFTER = 3600  # seconds; only used without fcntl


def _locked_temp(path: Path) -> tuple[int, str]:
    """A new temp file beside ``path``, locked by us (see the module docstring)."""
    while True:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        if fcntl is None:
            return fd, tmp
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            if os.path.samestat(os.fstat(fd), os.stat(tmp)):
                return fd, tmp
        except FileNotFoundError:
            pass
        os.close(fd)  # a cleaner removed it before we locked it: take another name


def write_atomic(path: Path, data: bytes | str, durable: bool = True) -> bool:
    """Write via a temp file in the same folder + rename. Returns False when the
    file already holds exactly these bytes (nothing written, mtime kept).

    ``durable=False`` skips the per-file fsync, for a writer of many small files
    that calls :func:`os.sync` once at the end (the site); readers still never see
    a partial file, since the rename is atomic either way."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    fd, tmp = _locked_temp(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
            os.fchmod(fh.fileno(), 0o644)
            os.replace(tmp, path)  # still locked: no cleaner can take it before the rename
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return True


def remove_stale_temps(*folders: Path, recursive: bool = True) -> list[Path]:
    """Delete the temp files that killed writers left in ``folders``; returns them.

    Only names :func:`write_atomic` makes are considered, and only files no living
    writer holds (or, without ``fcntl``, older than :data:`STALE_AFTER`).
    """
    removed = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob(".*.tmp") if recursive else folder.glob(".*.tmp")):
            if TEMP_RE.match(path.name) and _unused(path):
                removed.append(path)
    return removed


def _unused(path: Path) -> bool:
    """Remove ``path`` if no writer holds it; True when it was removed."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False  # gone already, a symlink, or unreadable: not ours to judge
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return False  # a living writer holds it
        elif time.time() - os.fstat(fd).st_mtime < STALE_AFTER:
            return False
        try:
            if not os.path.samestat(os.fstat(fd), os.stat(path)):
                return False
            os.unlink(path)
        except FileNotFoundError:
            return False
        return True
    finally:
        os.close(fd)
