"""A batch's bookkeeping under faults: the manifest saved as guides are written (durably,
after the files it lists), and write failures worded at the file they hit.

Workers write guides without a per-file fsync (an ``fsync`` per small HTML or ICS file
costs more than making it). The manifest is what says a guide exists, so before each
save the files written so far are flushed with one ``os.sync()``: after a power cut the
manifest never lists a file that was lost, and a rerun builds exactly what is missing.
A disk that fills up stops the batch (every later write would fail the same way); the
manifest gets the space :meth:`Manifest.reserve` kept, so it still records every guide
that was written.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from generator.core.errors import Problem, display_path
from generator.core.write import DISK_FULL, disk_full, os_error_text
from generator.publish.manifest import Manifest

SAVE_EVERY = 1.0  # seconds: a crash loses at most about this much bookkeeping
SAVE_SHARE = 20  # ...but a save never takes more than 1/SAVE_SHARE of the time


@dataclass(frozen=True)
class WriteFailure:
    """One of a guide's files could not be written (sent back from a worker)."""

    path: str  # the file the guide was going to, not a temp file
    errno: int | None
    text: str  # the system's words: 'no space left on device'

    @classmethod
    def of(cls, exc: OSError, path: Path) -> WriteFailure:
        return cls(str(path), exc.errno, os_error_text(exc))

    @property
    def disk_full(self) -> bool:
        return self.errno in DISK_FULL

    def problem(self, athlete_id: str, inputs) -> Problem:
        """``output/guides/harbour/hb-niamh-14.pdf: no space left on device (runner
        hb-niamh-14, data/athletes.csv:14)``: the file, then whose guide it was."""
        source = inputs.roster_source or "roster"
        line = inputs.roster_lines.get(athlete_id)
        row = f"{source}:{line}" if line else source
        return Problem(display_path(Path(self.path), inputs.project.root), None,
                       f"{self.text} (runner {athlete_id}, {row})", athlete_id=athlete_id)


class ManifestSaver:
    """Saves ``manifest`` now and then while a batch runs, and once at the end.

    A save that fails (a full disk, a folder turned read-only) is reported once, as
    :attr:`problem`; ``disk_full`` says whether the batch should stop."""

    def __init__(self, manifest: Manifest, shown: str, *,
                 sync: Callable[[], None] = os.sync,
                 clock: Callable[[], float] = time.perf_counter):
        self.manifest = manifest
        self.shown = shown
        self.sync = sync
        self.clock = clock
        self.problem: Problem | None = None
        self.disk_full = False
        self._last = clock()
        self._took = 0.0

    def tick(self) -> None:
        """Save when the last save is long enough ago (and cheap enough next to it)."""
        if self.clock() - self._last >= max(SAVE_EVERY, SAVE_SHARE * self._took):
            self.save()

    def save(self) -> bool:
        started = self.clock()
        try:
            self.sync()  # the files first: the manifest must not list one a power cut loses
            self.manifest.save()
        except OSError as exc:
            self.disk_full = self.disk_full or disk_full(exc)
            if self.problem is None:
                self.problem = Problem(self.shown, None, f"cannot save it: "
                                       f"{os_error_text(exc)}; the guides built since it was "
                                       "last saved will be built again next time")
            return False
        finally:
            self._last = self.clock()
            self._took = self._last - started
        return True


def stopped_problem(shown_out: str, failure: WriteFailure | None, not_attempted: int
                    ) -> Problem:
    """The line that ends a batch stopped by a full disk."""
    reason = failure.text if failure is not None else "no space left on device"
    return Problem(shown_out, None, f"{reason}: stopped; {not_attempted} more guides were "
                   "not attempted. Free some space and run the same command again: only the "
                   "missing guides are built")
