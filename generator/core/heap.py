"""Garbage collection in a batch worker: once per guide, not during it.

A worker keeps the repeated parts of its guides laid out (pdf/fastpdf.py): hundreds of
thousands of long-lived objects.  Each guide lays out its personal pages, which live
for the whole render, so Python's collector promotes them to its oldest generation; once
written they are cyclic garbage there, and about once per guide the collector runs a full
collection that walks the kept layouts too.  Measured on the benchmark roster (one warmed
worker, CPU seconds per guide): collections cost 0.20 s of a 0.93 s guide, 0.18 s of it
in full collections.

So a worker collects between guides instead: no collection while a guide renders, then
the young generations (what this guide allocated: its garbage and its new cache entries)
once it is written, and a full collection every ``FULL_EVERY`` guides for cycles among
evicted cache entries.  Collections then cost about 0.09 s per guide, and the worker's
peak memory is no higher (benchmarks/profile.py measures it; tests/test_heap.py proves
the garbage is collected).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

FULL_EVERY = 20  # guides between full collections


class GuideCollector:
    """``with collector.guide():`` around each guide a worker renders."""

    def __init__(self, full_every: int = FULL_EVERY):
        self.full_every = full_every
        self.guides = 0

    @contextlib.contextmanager
    def guide(self) -> Iterator[None]:
        enabled = gc.isenabled()
        gc.disable()
        try:
            yield
        finally:
            self.guides += 1
            if enabled:  # a caller that turned collection off keeps it off
                try:
                    gc.collect(1)
                    if self.guides % self.full_every == 0:
                        gc.collect()
                finally:  # even if a timeout's alarm interrupts the collection
                    gc.enable()
