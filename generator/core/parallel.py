"""Spread independent, CPU-bound work (Markdown, page rendering) over the cores.

Small inputs stay in-process: forking workers costs more than a few dozen
items take.  Results come back in input order, so output never depends on
scheduling.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor

MIN_ITEMS = 96  # below this a pool costs more than it saves


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def pmap(func: Callable, items: Sequence, min_items: int = MIN_ITEMS) -> list:
    """``[func(x) for x in items]``, on every core when there are many items.

    ``func`` must be a module-level function (it is pickled by reference);
    fork is used where available so workers start in milliseconds.
    """
    workers = min(cores(), max(1, len(items) // (min_items // 2)))
    if workers < 2 or len(items) < min_items or "fork" not in \
            multiprocessing.get_all_start_methods():
        return [func(x) for x in items]
    ctx = multiprocessing.get_context("fork")
    chunk = max(1, len(items) // (workers * 4))
    with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        return list(pool.map(func, items, chunksize=chunk))


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
