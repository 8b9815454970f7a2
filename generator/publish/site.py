"""The public site on disk: render every page (``generator.render.site``), write the files
atomically, then prune what this build no longer makes (``OutputLayout.prune``). A first
build (no ``OUT/site/`` yet) writes each page as it renders, in place (:class:`Stream`)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path, PurePosixPath

from generator.core.errors import GuidegenError, Problem, display_path
from generator.core.write import os_error_text, write_atomic, write_new
from generator.publish.layout import OutputLayout
from generator.render.codecache import COMPILED
from generator.render.pagecache import PageCache
from generator.render.site import SiteNotBuilt, render_site

WRITE_THREADS = 4  # site files written at once
LISTED_FAILURES = 10  # files that could not be written, listed one by one (then counted)
INDEX_NAME = "site-files.json"  # beside the page cache: what each site file held, and when
RACY_NS = 2_000_000_000  # a file changed this recently may change again unseen (see below)


class FileIndex:
    """What each file of the site held when a build last wrote or read it (its SHA-256)
    and the file's identity then (inode, size, mtime and ctime), so that a rebuild need
    not read back every unchanged page to know it is unchanged: the way ``git status``
    trusts its index.

    The kernel sets a file's ctime on any change to it, and nothing can set it back: an
    identity unchanged since it was recorded means the bytes are too. Only an identity
    recorded more than :data:`RACY_NS` after the file's last change is trusted (a change
    within the same tick of the clock would leave it the same); other files are read and
    compared, as without an index. A damaged or foreign index is ignored (every file is
    compared) and written again."""

    def __init__(self, path: Path):
        self.path = path
        self.known: dict[str, list] = {}
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError):
            data = None
        if isinstance(data, dict) and data.get("format") == 1 and isinstance(
                data.get("files"), dict):
            self.known = {name: entry for name, entry in data["files"].items()
                          if isinstance(entry, list) and len(entry) == 6
                          and all(type(x) is int for x in entry[:5])
                          and isinstance(entry[5], str)}
        self.found: dict[str, list] = {}  # this build's entries, by site path

    @staticmethod
    def _identity(info: os.stat_result) -> list[int]:
        return [info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns]

    def unchanged(self, name: str, target: Path, data: bytes) -> bool:
        """Whether ``target`` certainly holds ``data`` already, without reading it."""
        entry = self.known.get(name)
        if entry is None or entry[2] != len(data):
            return False
        try:
            info = os.lstat(target)
        except OSError:
            return False
        if not stat.S_ISREG(info.st_mode) or self._identity(info) != entry[:5]:
            return False
        if hashlib.sha256(data).hexdigest() != entry[5]:
            return False
        self.found[name] = entry
        return True

    def record(self, name: str, target: Path, data: bytes, written: bool = False) -> None:
        """``target`` holds ``data`` now (written, or compared): trusted next time if its
        last change is old enough (one just written is too new to trust)."""
        if written or name in self.found:
            return
        try:
            info = os.lstat(target)
        except OSError:
            return
        if stat.S_ISREG(info.st_mode) and info.st_ctime_ns < time.time_ns() - RACY_NS:
            self.found[name] = [*self._identity(info), hashlib.sha256(data).hexdigest()]

    def save(self) -> None:
        if self.found == self.known:
            return
        text = json.dumps({"format": 1, "files": self.found}, sort_keys=True)
        try:
            write_atomic(self.path, text.encode(), durable=False)
        except OSError:
            pass  # the next build compares every file, as without an index


class PreviewIndex:
    """What ``guidegen serve`` last wrote or compared in its own preview folder (made for
    the session, written by no one else): each file's bytes and its identity just after,
    kept in memory. A file still of that identity still holds those bytes, so a rebuild
    neither reads back nor rewrites the pages an edit did not change (1,500 of them in a
    three-language site); one deleted or replaced is compared and written as usual."""

    def __init__(self):
        self.known: dict[str, tuple[list[int], bytes]] = {}

    def unchanged(self, name: str, target: Path, data: bytes) -> bool:
        entry = self.known.get(name)
        if entry is None or entry[1] != data:
            return False
        try:
            info = os.lstat(target)
        except OSError:
            return False
        return stat.S_ISREG(info.st_mode) and FileIndex._identity(info) == entry[0]

    def record(self, name: str, target: Path, data: bytes, written: bool = False) -> None:
        try:
            info = os.lstat(target)
        except OSError:
            self.known.pop(name, None)
            return
        self.known[name] = (FileIndex._identity(info), data)

    def save(self) -> None:
        pass  # in memory, for the session


class Folders:
    """A first build (no ``OUT/site/`` yet) makes the pages' folders in a thread while the
    pages render: creating hundreds of folders is the kernel's work, done outside the
    GIL, and about as long as writing the files into them. A site that is not built
    after all leaves none of them behind (:meth:`undo`)."""

    def __init__(self, site: Path):
        self.site = site
        self.created: list[Path] = []
        self._thread: threading.Thread | None = None

    def make(self, pages: list[str]) -> None:
        if self.site.exists() or self.site.is_symlink():
            return  # a rebuild: its folders are there (write_atomic makes any new one)
        folders = {self.site, *(p for p in self.site.parents if not p.exists())}
        for page in pages:
            for parent in PurePosixPath(page).parents:
                folders.add(self.site / parent)
        self._thread = threading.Thread(target=self._make, args=(sorted(folders),))
        self._thread.start()

    def _make(self, folders: list[Path]) -> None:
        for folder in folders:  # sorted: each after its parent
            try:
                os.mkdir(folder)
            except OSError:
                continue  # there already, or not possible: write_atomic says why
            self.created.append(folder)

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def undo(self) -> None:
        self.wait()
        for folder in reversed(self.created):
            try:
                os.rmdir(folder)
            except OSError:
                pass
        self.created = []


class Stream:
    """A first build (no ``OUT/site/`` yet) writes each page as soon as it is rendered,
    in threads, while the workers render the next ones: writing is the kernel's work,
    done outside the GIL, and would otherwise wait for the last page. Rebuilds do not
    stream: a build that fails must leave the site as it was. A first build that fails
    leaves none of its files behind (:meth:`undo`). Its pages are made in place
    (``core.write.write_new``): the folder is new, and the output lock keeps other
    builds out of it."""

    def __init__(self, folders: Folders,
                 write: Callable[[tuple[str, bytes], bool], bool | OSError]):
        self.folders, self.write = folders, write
        self._pool: ThreadPoolExecutor | None = None
        self._writing: dict[str, Future] = {}

    def page(self, name: str, data: bytes) -> None:
        if self._pool is None:
            self.folders.wait()  # the pages' folders first
            self._pool = ThreadPoolExecutor(WRITE_THREADS)
        self._writing[name] = self._pool.submit(self.write, (name, data), True)

    def results(self) -> dict[str, bool | OSError]:
        """Each page streamed, and what writing it gave (once all are written)."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        return {name: done.result() for name, done in self._writing.items()}

    def undo(self, site: Path) -> None:
        for name, written in self.results().items():
            if written is True:
                with contextlib.suppress(OSError):
                    os.unlink(site / name)
        self._writing = {}


def kept_code(cache: PageCache | None, out: Path) -> Path | None:
    """Where the site's compiled templates are kept between builds: in ``out``'s cache
    beside a page cache on disk; nowhere without one (``serve``'s is in memory)."""
    return out if cache is not None and cache.store.path is not None else None


def build_site(inputs, renderer, layout: OutputLayout, cache: PageCache | None = None,
               index: FileIndex | PreviewIndex | None = None) -> list[Problem]:
    """Render the site and write it to ``OUT/site/``; files the site no longer makes are
    removed (``plans/`` excepted: it belongs to the guide build). A template error becomes
    a located problem rather than an exception. ``cache``: pages rendered before
    (render/pagecache.py), saved once the site is written; ``index``: what the files
    held (default: the :class:`FileIndex` beside a cache on disk)."""
    store = cache.store.path if cache is not None else None
    site = layout.site
    if index is None and store is not None:
        index = FileIndex(store.with_name(INDEX_NAME))

    def write(item: tuple[str, bytes], new: bool = False) -> bool | OSError:
        name, data = item
        target = site / name
        # hundreds of small pages: no fsync each (one sync below for all of them)
        try:
            written = write_new(target, data) if new else write_atomic(target, data,
                                                                        durable=False)
        except OSError as exc:  # a full disk, a read-only folder: said at the file
            return exc
        if index is not None:
            index.record(name, target, data, written)
        return written

    # compiled templates kept beside the pages (render/codecache.py): not compiled again
    COMPILED.use(kept_code(cache, layout.out))
    folders = Folders(site)
    stream = None if site.exists() or site.is_symlink() else Stream(folders, write)
    try:
        files, problems = render_site(inputs, renderer, cache, planned=folders.make,
                                      sink=stream and stream.page)
    except GuidegenError as exc:
        _undo(stream, folders, site)
        path = display_path(Path(exc.path), inputs.project.root) if exc.path else "templates"
        return [SiteNotBuilt(path, exc.line, exc.message)]
    except BaseException:
        _undo(stream, folders, site)
        raise
    finally:
        COMPILED.use(None)
    if not files:
        _undo(stream, folders, site)
        return problems

    folders.wait()
    streamed = stream.results() if stream is not None else {}
    results: list[bool | OSError] = list(streamed.values())
    items = sorted(item for item in files.items() if item[0] not in streamed)
    if index is not None:  # a stat and a hash each: here, not worth a thread's hand-off
        items = [(name, data) for name, data in items
                 if not index.unchanged(name, site / name, data)]
    results += [False] * (len(files) - len(results) - len(items))
    if len(items) < WRITE_THREADS * 4:  # an edit: a page or two and the feed
        results += [write(item) for item in items]
    else:
        # creating folders and files is mostly the kernel's work, done outside the
        # GIL: a few threads keep both cores busy with it
        with ThreadPoolExecutor(WRITE_THREADS) as pool:
            results += pool.map(write, items)
    failed = [exc for exc in results if isinstance(exc, OSError)]
    if any(r is True for r in results):
        os.sync()
    root = inputs.project.root
    problems += [Problem(display_path(Path(exc.filename), root), None, os_error_text(exc))
                 for exc in failed[:LISTED_FAILURES]]
    if len(failed) > LISTED_FAILURES:
        more = len(failed) - LISTED_FAILURES
        problems.append(Problem(display_path(site, root), None,
                                f"{more} more files could not be written"))
    if failed and len(failed) == len(results):
        problems.append(SiteNotBuilt(display_path(site, root), None,
                                     "no file of the site could be written"))
    if stream is None:  # a first build made the folder: nothing in it is stale
        layout.prune(site_keep=set(files))
    if cache is not None:
        cache.save()  # after the sync above: the next build's, not worth waiting for
    if index is not None:
        index.save()
    return problems


def _undo(stream: Stream | None, folders: Folders, site: Path) -> None:
    """A site not built after all: a first build's files and folders removed."""
    if stream is not None:
        stream.undo(site)
    folders.undo()
