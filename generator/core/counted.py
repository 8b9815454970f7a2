"""Big inputs read lazily: a sized iterable whose items are made only as they are read,
and csv records read one at a time under a cell size limit of their own."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Counted(Generic[T]):
    """``count`` items that ``items`` yields one at a time, for code written for a list
    (``len``, truth, ``for``) fed something too big to hold whole (a roster's rows).
    It can be iterated once."""

    def __init__(self, count: int, items: Iterator[T]):
        self.count = count
        self.items = items

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[T]:
        return self.items


def limited_records(reader, size_limit: int) -> Iterator[list[str]]:
    """The records of ``reader`` (a ``csv.reader``), each read with the cell size limit
    ``size_limit``: the csv module's limit is global, so it is set for each read and put
    back before the record is handed on (code running in between sees its own)."""
    while True:
        size_limit = csv.field_size_limit(size_limit)  # ours in, the caller's back out
        try:
            cells = next(reader, None)
        finally:
            size_limit = csv.field_size_limit(size_limit)
        if cells is None:
            return
        yield cells
