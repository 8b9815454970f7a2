"""Where a batch's fast path turns on what a worker remembers from guide to guide.

shaped.py (lines of text), styles.py (computed styles) and measures.py (used lengths,
line widths) each act only inside their scope: ``with shaped.recording():``. The fast
path (fastpdf.py) opens them; ``guidegen guide`` and a full render never do, so the
tests that compare a batch's guides with full renders compare the two ways every time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


class Scope:
    """``on`` inside ``with scope():``, off outside (scopes nest)."""

    def __init__(self) -> None:
        self.on = False

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        before, self.on = self.on, True
        try:
            yield
        finally:
            self.on = before
