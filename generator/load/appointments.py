"""The clinic's appointments as actually booked: ``id,date,time,kind,status`` (CSV).

``booked`` pins the planned session of that kind nearest to its date (or adds one);
``cancelled`` removes the planned session on that date. This module only reads and checks
each row on its own (dates, times, kinds, known runners); whether a booking fits the
runner's plan (race day, race week, closed days) is the planner's check, located at the
same row (:mod:`generator.plan.bookings`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path

from generator.core.errors import Problem, display_path
from generator.core.vocab import SESSION_KINDS, noun_for

COLUMNS = ("id", "date", "time", "kind", "status")
STATUSES = ("booked", "cancelled")
MAX_BYTES = 16 * 2**20
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass(frozen=True)
class Appointment:
    athlete_id: str
    date: dt.date
    time: str | None  # None: the runner's preferred time, else the clinic's
    kind: str  # maintenance | pre-race | post-race
    status: str  # booked | cancelled
    source: str  # the file, as problems name it
    line: int

    def problem(self, message: str, field: str | None = None,
                severity: str = "error") -> Problem:
        return Problem(self.source, self.line, f"{self.athlete_id}: {message}", field,
                       severity)


def _row(cells: dict[str, str], shown: str, line: int) -> Appointment | Problem:
    athlete_id = cells.get("id", "").strip()
    if not athlete_id:
        return Problem(shown, line, "missing id", "id")
    raw = cells.get("date", "").strip()
    try:
        day = dt.date.fromisoformat(raw)
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            raise ValueError
    except ValueError:
        return Problem(shown, line, f"{raw[:30]!r} is not a date YYYY-MM-DD", "date")
    time = cells.get("time", "").strip() or None
    if time is not None and not _TIME.match(time):
        return Problem(shown, line, f"{time[:10]!r} is not a time HH:MM", "time")
    kind = cells.get("kind", "").strip().lower()
    if kind not in SESSION_KINDS:
        return Problem(shown, line, f"{kind[:30]!r} is not a session kind (use "
                       f"{', '.join(SESSION_KINDS)})", "kind")
    status = cells.get("status", "").strip().lower() or "booked"
    if status not in STATUSES:
        return Problem(shown, line, f"{status[:30]!r} is not a status (use booked or "
                       "cancelled)", "status")
    return Appointment(athlete_id, day, time, kind, status, shown, line)


def load_appointments(path: Path, root: Path | None = None,
                      known_ids: set[str] | None = None
                      ) -> tuple[dict[str, list[Appointment]], list[Problem]]:
    """Appointments by runner id, in file order, and a problem for every bad row (that row
    is left out; the others count). ``known_ids``: the roster's runners, when one was given."""
    shown = display_path(path, root)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}, [Problem(shown, None, "appointments file not found")]
    except OSError as exc:
        return {}, [Problem(shown, None, f"cannot read the appointments file: {exc.strerror}")]
    if len(raw) > MAX_BYTES:
        return {}, [Problem(shown, None, f"appointments file is larger than "
                            f"{MAX_BYTES // 2**20} MB")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        return {}, [Problem(shown, line, "not UTF-8 text")]
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in COLUMNS if c not in header and c not in ("time", "status")]
    if missing:
        columns = noun_for(len(missing), "column")
        return {}, [Problem(shown, 1, f"missing {columns}: {', '.join(missing)} (expected "
                            f"{','.join(COLUMNS)})")]
    found: dict[str, list[Appointment]] = {}
    problems: list[Problem] = []
    line = reader.line_num
    for cells in reader:
        start, line = line + 1, reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            problems.append(Problem(shown, start, f"row has {len(cells)} cells but the header "
                                    f"has {len(header)}"))
            continue
        row = _row(dict(zip(header, cells, strict=True)), shown, start)
        if isinstance(row, Problem):
            problems.append(row)
        elif known_ids is not None and row.athlete_id not in known_ids:
            problems.append(Problem(shown, start, f"unknown runner id {row.athlete_id[:64]!r} "
                                    "(not in the roster)", "id"))
        else:
            found.setdefault(row.athlete_id, []).append(row)
    return found, problems
