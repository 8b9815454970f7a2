"""A rich progress bar (count, rate, ETA) that stays quiet when not on a terminal."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class RateColumn(TextColumn):
    def __init__(self):
        super().__init__("")

    def render(self, task):
        speed = task.finished_speed or task.speed
        return f"{speed:.1f} guides/s" if speed else "- guides/s"


class BatchProgress:
    """start(total) / advance() / stop(); does nothing unless stderr is a terminal."""

    def __init__(self, label: str = "guides", console: Console | None = None):
        self.console = console or Console(stderr=True)
        self.label = label
        self._progress = None
        self._task = None

    def start(self, total: int) -> None:
        if not self.console.is_terminal or total == 0:
            return
        self._progress = Progress(
            TextColumn(f"[bold]{self.label}"), BarColumn(), MofNCompleteColumn(),
            RateColumn(), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=self.console, transient=True,
        )
        self._progress.start()
        self._task = self._progress.add_task(self.label, total=total)

    def advance(self) -> None:
        if self._progress is not None:
            self._progress.advance(self._task)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
