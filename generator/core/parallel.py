"""Spread independent, CPU-bound work (Markdown, page rendering) over the cores.

Small inputs stay in-process: forking workers costs more than a few dozen
items take.  Results come back in input order, so output never depends on
scheduling.

:func:`pmap` and :func:`pstream` fork short-lived workers that inherit what the parent
loaded. :func:`worker_pool` is for long batches whose workers must be replaced every so
many tasks (``max_tasks_per_child``): those start from a fork server instead, since
CPython refuses to combine recycling with plain ``fork`` (python/cpython#90622).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import select
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor

MIN_ITEMS = 96  # below this a pool costs more than it saves


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def pmap(func: Callable, items: Sequence, min_items: int = MIN_ITEMS,
         before_fork: Callable[[], None] | None = None,
         each: Callable[[object, object], None] | None = None,
         meanwhile: Callable[[], None] | None = None) -> list:
    """``[func(x) for x in items]``, on every core when there are many items.

    ``func`` must be a module-level function (it is pickled by reference);
    fork is used where available so workers start in milliseconds. ``before_fork()``
    runs just before workers are forked (never when the items are done in this process),
    to prepare what they inherit. ``each(x, func(x))`` is told each result, in order, as
    soon as it is ready (while later items are still being worked out). ``meanwhile()``
    runs here once the workers have all the items, while they work (only then): this
    process's own work that does not need the results.
    """
    workers = min(cores(), max(1, len(items) // (min_items // 2)))
    if workers < 2 or len(items) < min_items or "fork" not in \
            multiprocessing.get_all_start_methods():
        results = map(func, items)
    else:
        if before_fork is not None:
            before_fork()
        ctx = multiprocessing.get_context("fork")
        chunk = max(1, len(items) // (workers * 4))
        with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
            results = pool.map(func, items, chunksize=chunk)  # every chunk handed out
            if meanwhile is not None:
                meanwhile()
            return _told(items, results, each)
    return _told(items, results, each)


def _told(items: Sequence, results, each: Callable[[object, object], None] | None) -> list:
    if each is None:
        return list(results)
    done = []
    for item, result in zip(items, results, strict=True):
        done.append(result)
        each(item, result)
    return done


STREAM_CHUNK = 250  # items per task of pstream
_SHARED = None  # (func, shared) while pstream runs: inherited by its forked workers


def pstream(func: Callable, items: Sequence, shared, *, chunk: int = STREAM_CHUNK,
            min_items: int = MIN_ITEMS) -> Iterator:
    """The items of ``func(shared, items[i:i + chunk])`` (a list per chunk), chunk after
    chunk in input order, worked out on every core when there are many items.

    For work too big to hold at once (planning a 50,000-runner roster): results are
    yielded as they are ready and at most two chunks per worker are in flight, so memory
    stays flat however long ``items``. ``shared`` (the loaded inputs) reaches the forked
    workers by inheritance, never pickled; pass ``range(len(things))`` as ``items`` and
    the chunks cost nothing to send. ``func`` must be a module-level function.
    """
    global _SHARED
    starts = range(0, len(items), chunk)
    workers = min(cores(), len(starts))
    if workers < 2 or len(items) < min_items or "fork" not in \
            multiprocessing.get_all_start_methods():
        for start in starts:
            yield from func(shared, items[start:start + chunk])
        return
    _SHARED = (func, shared)
    try:
        ctx = multiprocessing.get_context("fork")
        # gc.freeze: the collector's visits to what the fork inherited would copy it
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=gc.freeze) as pool:
            pending: deque = deque()
            for start in starts:
                pending.append(pool.submit(_shared_chunk, items[start:start + chunk]))
                if len(pending) >= 2 * workers:
                    yield from pending.popleft().result()
            while pending:
                yield from pending.popleft().result()
    finally:
        _SHARED = None


def _shared_chunk(items: Sequence) -> list:
    func, shared = _SHARED
    return list(func(shared, items))


def worker_pool(workers: int, *, initializer: Callable | None = None, initargs: tuple = (),
                tasks_per_worker: int | None = None,
                preload: Sequence[str] = ()) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes, each replaced by a fresh one after
    ``tasks_per_worker`` tasks (``max_tasks_per_child``; None: never).

    Workers start from a fork server (spawned where there is none): a fresh process that
    imported ``preload`` once, so each worker, the first or a replacement, starts in
    milliseconds with those modules loaded. Nothing else of the parent is inherited:
    ``initializer``, ``initargs`` and the tasks are pickled (module-level functions and
    picklable data only), and the fork server's environment is the one of its start.
    """
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() \
        else "spawn"
    ctx = multiprocessing.get_context(method)
    if method == "forkserver" and preload:
        ctx.set_forkserver_preload(list(preload))  # no effect once the server runs
    return _RecyclingPool(workers, mp_context=ctx, initializer=_start_worker,
                          initargs=(os.getpid(), initializer, initargs),
                          max_tasks_per_child=tasks_per_worker)


def _start_worker(owner: int, initializer: Callable | None, initargs: tuple) -> None:
    """In each worker of a :func:`worker_pool`: leave when the pool's owner does, then
    the caller's ``initializer``.

    A worker whose owner was killed (SIGKILL, the OOM killer) would otherwise wait for
    work forever: it holds its task queue's write end itself. Its parent process is
    the fork server, which in turn lives as long as any worker does, so the owner is
    watched by pid: a pidfd (Linux 5.3+) wakes the moment it ends, else a look twice a
    second."""
    threading.Thread(target=_exit_when_gone, args=(owner,), daemon=True).start()
    if initializer is not None:
        initializer(*initargs)


def _exit_when_gone(owner: int) -> None:
    try:
        fd = os.pidfd_open(owner)
    except (AttributeError, OSError):  # not Linux, or gone already
        fd = None
    if fd is not None:
        select.select([fd], [], [])  # readable once the owner has ended
    else:
        while _running(owner):
            time.sleep(0.5)
    os._exit(1)  # a half-written temp file is the next batch's to clean (core/write.py)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process now has the pid: ours has ended
        return False
    return True


class _RecyclingPool(ProcessPoolExecutor):
    """``ProcessPoolExecutor`` that always replaces a worker which left at its
    ``max_tasks_per_child``.

    From 3.11 until its fix (python/cpython#115634, 2026; not in 3.11 or 3.12, which take
    security fixes only) the pool may not replace it: the replacement consults a count of
    idle workers that can hold a stale token once tasks are queued (as a batch always
    has them), and with its last worker gone the pool waits forever (tests/test_batch.py
    recycles with tasks queued). The manager thread replaces exited
    workers through ``_adjust_process_count``; there, spawn whenever the pool is short,
    as the fix does. Calls from ``submit`` keep the stdlib's logic; on versions that
    replace workers by other means this method only ever sees those.
    """

    def _adjust_process_count(self) -> None:
        if threading.current_thread() is not self._executor_manager_thread:
            super()._adjust_process_count()
        elif len(self._processes) < self._max_workers:
            self._spawn_process()
