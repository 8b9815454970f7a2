"""One writer at a time: a lock file per output folder (and per send log).

``guidegen build``, ``batch`` and ``email`` write the same files (guides, the manifest,
the send log). Two of them on one folder would both rebuild everything and race on the
manifest, so each holds :func:`output_lock` while it writes; a second one waits (with a
message saying for whom) or, with ``--no-wait``, stops with exit code 2.

The lock is an ``flock`` on a lock file, which the kernel releases when its holder dies
however it dies (SIGKILL, OOM, power loss): a lock can never outlive its process. While
held, the file names its holder (pid, command, host, start time) for the messages of
those who wait; the holder empties it and removes it on release. A file found still
naming someone when the lock is taken is therefore the lock of a process that died
holding it: it is taken over and said so.

Removing a lock file is safe because a locker checks, once it holds the lock, that the
path still names the file it locked (else it locked a removed file and tries again).

Shards of one build (``--shard I/N``) run at the same time by design: each holds the
folder's lock *shared* and its own shard's lock exclusively, so shards run together,
a whole build waits for them (and they for it), and the same shard never runs twice.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from generator.core.errors import UsageError, display_path

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no cross-process lock
    fcntl = None

LOCK_NAME = "guidegen.lock"
POLL = 0.2  # seconds between tries while waiting


class LockBusy(UsageError):
    """Another run holds the lock and the caller would not wait: exit 2."""


@dataclass(frozen=True)
class Holder:
    """Who holds (or held) a lock, as its file says."""

    pid: int
    command: str
    host: str = ""
    since: str = ""

    def describe(self) -> str:
        where = f" on {self.host}" if self.host and self.host != socket.gethostname() else ""
        since = f", since {self.since}" if self.since else ""
        return f"guidegen {self.command} (pid {self.pid}{where}{since})"

    @classmethod
    def parse(cls, text: str) -> Holder | None:
        try:
            data = json.loads(text)
            return cls(int(data["pid"]), str(data.get("command", "")),
                       str(data.get("host", "")), str(data.get("since", "")))
        except (ValueError, TypeError, KeyError, AttributeError):
            return None


class FileLock:
    """``with FileLock(path, "batch"):`` the lock at ``path``, held for the block.

    ``wait``: when someone else holds it, wait (``notify`` is told once, with who holds
    it) or raise :class:`LockBusy` at once. ``busy``: the message for someone else
    holding it, given their :class:`Holder` (None when unknown). ``shared``: hold it
    with other shared holders (the shards of one build). ``refusal``: added to the
    message when not waiting. ``taken_over``: the holder whose process died holding the
    lock, when this lock took it over.
    """

    def __init__(self, path: Path, command: str, *, wait: bool = True, shared: bool = False,
                 notify: Callable[[str], None] | None = None,
                 busy: Callable[[Holder | None], str] | None = None,
                 refusal: str = "not waiting (--no-wait)",
                 sleep: Callable[[float], None] = time.sleep):
        self.path = path
        self.command = command
        self.wait = wait
        self.shared = shared
        self.notify = notify
        self.busy = busy or _busy
        self.refusal = refusal
        self.sleep = sleep
        self.taken_over: Holder | None = None
        self._fd: int | None = None

    @property
    def shown(self) -> str:
        """The lock's path as messages name it (relative to the working folder)."""
        return display_path(self.path)

    def __enter__(self) -> FileLock:
        if fcntl is None:  # pragma: no cover
            return self
        told = False
        while True:
            fd = _open(self.path)
            try:
                if self._try(fd):
                    if _same_file(fd, self.path):
                        break
                else:
                    holder = Holder.parse(_read(fd))
                    if not self.wait:
                        raise LockBusy("; ".join(filter(None, (self.busy(holder),
                                                               self.refusal))),
                                       path=self.shown)
                    if not told and self.notify is not None:
                        self.notify(f"{self.shown}: {self.busy(holder)}; waiting for it "
                                    "to finish (--no-wait: stop instead)")
                    told = True
                    self.sleep(POLL)
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)  # locked a file its holder removed on release: open the new one
        self._fd = fd
        if not self.shared:
            self.taken_over = Holder.parse(_read(fd))
            _write(fd, json.dumps({"pid": os.getpid(), "command": self.command,
                                   "host": socket.gethostname(), "since": _now()}))
        elif _read(fd).strip():  # an exclusive holder died holding it
            self.taken_over = Holder.parse(_read(fd))
            _write(fd, "")  # no other holder can be exclusive now: say it once
        if self.taken_over is not None and self.notify is not None:
            self.notify(f"{self.shown}: took over the lock of "
                        f"{self.taken_over.describe()}, which is no longer running")
        return self

    def _try(self, fd: int, exclusive: bool = False) -> bool:
        mode = fcntl.LOCK_SH if self.shared and not exclusive else fcntl.LOCK_EX
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def __exit__(self, *exc) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            if not self.shared:
                _write(fd, "")
            if not self.shared or self._try(fd, exclusive=True):  # the last shard out
                try:  # still holding it: nobody can have it in between
                    os.unlink(self.path)
                except OSError:
                    pass  # a read-only folder that let us lock: the empty file stays
        finally:
            os.close(fd)


def output_lock(out: Path, command: str, *, shard: tuple[int, int] | None = None,
                wait: bool = True, notify: Callable[[str], None] | None = None
                ) -> FolderLock:
    """The lock of the output folder ``out`` for ``command`` (build, batch, email...).
    With ``shard``, the folder's lock shared and the shard's own exclusively."""
    return FolderLock(out, command, shard, wait, notify)


class FolderLock:
    """:func:`output_lock`: creates ``out`` (a lock needs somewhere to be), then locks; a
    folder it created is removed again if nothing was written to it."""

    def __init__(self, out: Path, command: str, shard: tuple[int, int] | None, wait: bool,
                 notify: Callable[[str], None] | None):
        self.out = out
        self.created = False
        self.locks = [FileLock(out / LOCK_NAME, command, wait=wait, notify=notify,
                               shared=shard is not None, busy=_folder_busy)]
        if shard is not None:
            name = f"guidegen.shard-{shard[0]}-of-{shard[1]}.lock"
            self.locks.append(FileLock(out / name, command, wait=wait, notify=notify,
                                       busy=_folder_busy))

    def __enter__(self) -> FolderLock:
        try:
            self.created = not self.out.is_dir()
            self.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _unusable(exc, self.out) from None
        taken: list[FileLock] = []
        try:
            for lock in self.locks:
                try:
                    lock.__enter__()
                except OSError as exc:
                    raise _unusable(exc, lock.path) from None
                taken.append(lock)
        except BaseException:
            for lock in reversed(taken):
                lock.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        for lock in reversed(self.locks):
            lock.__exit__(*exc)
        if self.created:  # made for the lock, and nothing was written (nothing to build)
            try:
                self.out.rmdir()
            except OSError:
                pass


def _unusable(exc: OSError, path: Path) -> UsageError:
    reason = os.strerror(exc.errno) if exc.errno else str(exc)
    return UsageError(f"cannot write to the output folder: {reason[:1].lower()}{reason[1:]}",
                      path=display_path(path))


def _busy(holder: Holder | None) -> str:
    return f"in use by {holder.describe() if holder else 'another guidegen'}"


def _folder_busy(holder: Holder | None) -> str:
    who = holder.describe() if holder else "another guidegen run"
    return f"{who} is writing to this folder"


def _open(path: Path) -> int:
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
    try:
        return os.open(path, flags, 0o644)
    except FileNotFoundError:  # the run we waited for made the folder, wrote nothing and
        path.parent.mkdir(parents=True, exist_ok=True)  # removed it again
        return os.open(path, flags, 0o644)


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except FileNotFoundError:
        return False


def _read(fd: int) -> str:
    try:
        return os.pread(fd, 4096, 0).decode("utf-8", "replace")
    except OSError:
        return ""


def _write(fd: int, text: str) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, text.encode(), 0)


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
