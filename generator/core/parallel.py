"""Spread independent, CPU-bound work (Markdown, page rendering) over the cores.

Small inputs stay in-process: forking workers costs more than a few dozen
items take.  Results come back in input order, so output never depends on
scheduling.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
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
