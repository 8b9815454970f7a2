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

import contextlib
import errno
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

try:
    import fcntl
except ImportError:  # not POSIX: fall back to the temp file's age
    fcntl = None

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
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
    that calls :func:`os.sync` once at the end (the site), or before it records
    what it wrote (the batch's manifest); readers still never see a partial file,
    since the rename is atomic either way.

    An ``OSError`` names ``path`` (``exc.filename``), never the temp file: a full disk
    or a read-only folder is reported at the file the user asked for."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise _at(exc, path) from None
    with atomic_writer(path, durable) as fh:
        fh.write(data)
    return True


def write_new(path: Path, data: bytes) -> bool:
    """Create ``path`` holding ``data``, for a writer that made its folder moments ago
    and holds the output folder's lock (the site's first build): no temp file, lock
    nor rename, half the system calls of :func:`write_atomic`. A file that is there
    after all, or a folder that is not, is written by :func:`write_atomic`.

    Only here can a crash (SIGKILL, power loss) leave a file short, in a site that is
    half written anyway; the next build, finding no record of it, compares the file with
    what it should hold and writes it again."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | os.O_CLOEXEC,
                     0o644)
    except (FileExistsError, FileNotFoundError):
        return write_atomic(path, data, durable=False)
    except OSError as exc:
        raise _at(exc, path) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fd, 0o644)  # as write_atomic's, whatever the umask
            fh.write(data)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(path)
        if isinstance(exc, OSError):
            raise _at(exc, path) from None
        raise
    return True


@contextlib.contextmanager
def atomic_writer(path: Path, durable: bool = True) -> Iterator[BinaryIO]:
    """A binary file to write ``path`` in pieces (a big manifest, never whole in memory);
    renamed over ``path`` when the block ends without an exception, removed otherwise.
    Same temp-file locking, fsync and error naming as :func:`write_atomic`."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = _locked_temp(path)
    except OSError as exc:
        raise _at(exc, path) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
            os.fchmod(fh.fileno(), 0o644)
            os.replace(tmp, path)  # still locked: no cleaner can take it before the rename
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):
            raise _at(exc, path) from None
        raise


def _at(exc: OSError, path: Path) -> OSError:
    """``exc`` as the same kind of OSError (OSError picks the subclass from errno),
    naming ``path``."""
    if exc.errno is None:
        return exc
    return OSError(exc.errno, exc.strerror or os.strerror(exc.errno), str(path))


def os_error_text(exc: OSError) -> str:
    """'no space left on device', 'read-only file system', 'permission denied': the
    system's wording for ``exc``, lower-cased, for a ``path: message`` line."""
    text = os.strerror(exc.errno) if exc.errno else str(exc)
    return text[:1].lower() + text[1:]


DISK_FULL = frozenset({errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)})


def disk_full(exc: BaseException) -> bool:
    """Out of space (or over quota): every later write would fail the same way."""
    return isinstance(exc, OSError) and exc.errno in DISK_FULL


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
