"""A sized, lazy iterable: ``len()`` known up front, items made only as they are read."""

from __future__ import annotations

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
