"""Calendars that follow changes: each session's identity, SEQUENCE and change stamp.

The build state keeps, for every runner, the plan as last published: each event by its
key (kind and ordinal, which is also its calendar UID), with date, time, SEQUENCE and the
time of its last change. :func:`follow` compares a new timeline with it (RFC 5545 3.8.7.4):
an event whose date or time moved gets SEQUENCE + 1 and a new DTSTAMP; an event that left
the plan is published once more as ``STATUS:CANCELLED`` (and kept so, so that a calendar
that missed an update still learns of it); everything else keeps its numbers, so a rebuild
without changes gives the same bytes. What changed is kept with the state until the next
change, so the guide, the plan page and the changed-guide email can open with it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from generator.plan.timeline import Timeline


@dataclass(frozen=True)
class Event:
    key: str  # kind.ordinal: the calendar UID's identity
    kind: str
    title: str
    date: dt.date
    time: str | None  # None: all day (the race)
    duration: int | None
    sequence: int = 0
    stamp: str = ""  # ISO UTC time of the last change (DTSTAMP)
    cancelled: bool = False

    def to_state(self) -> dict:
        return {"kind": self.kind, "title": self.title, "date": self.date.isoformat(),
                "time": self.time, "duration": self.duration, "sequence": self.sequence,
                "stamp": self.stamp, "cancelled": self.cancelled}

    @classmethod
    def from_state(cls, key: str, data: dict) -> Event | None:
        try:
            return cls(key, str(data["kind"]), str(data["title"]),
                       dt.date.fromisoformat(data["date"]), data.get("time"),
                       data.get("duration"), int(data.get("sequence", 0)),
                       str(data.get("stamp", "")), bool(data.get("cancelled", False)))
        except (KeyError, TypeError, ValueError):
            return None  # an entry this version cannot read starts afresh


@dataclass(frozen=True)
class Change:
    what: str  # moved | added | cancelled
    title: str
    old: tuple[str, str | None] | None  # (ISO date, HH:MM) before
    new: tuple[str, str | None] | None  # after

    @property
    def old_date(self) -> dt.date | None:
        return dt.date.fromisoformat(self.old[0]) if self.old else None

    @property
    def new_date(self) -> dt.date | None:
        return dt.date.fromisoformat(self.new[0]) if self.new else None

    @property
    def old_time(self) -> str | None:
        return self.old[1] if self.old else None

    @property
    def new_time(self) -> str | None:
        return self.new[1] if self.new else None

    def to_state(self) -> dict:
        return {"what": self.what, "title": self.title,
                "old": list(self.old) if self.old else None,
                "new": list(self.new) if self.new else None}

    @classmethod
    def from_state(cls, data: dict) -> Change | None:
        try:
            old, new = data.get("old"), data.get("new")
            return cls(str(data["what"]), str(data["title"]),
                       (old[0], old[1]) if old else None, (new[0], new[1]) if new else None)
        except (KeyError, TypeError, IndexError):
            return None


@dataclass(frozen=True)
class Published:
    """One runner's plan as it is published now."""

    issued: dt.date
    events: tuple[Event, ...]  # the timeline's sessions (and race), then the cancelled
    changes: tuple[Change, ...] = ()  # since the previous published plan
    changed: str | None = None  # when those changes were published (ISO UTC)

    def event(self, key: str) -> Event | None:
        return next((e for e in self.events if e.key == key), None)

    @property
    def cancelled(self) -> tuple[Event, ...]:
        return tuple(e for e in self.events if e.cancelled)

    def to_state(self) -> dict:
        return {"issued": self.issued.isoformat(),
                "events": {e.key: e.to_state() for e in self.events},
                "changes": [c.to_state() for c in self.changes], "changed": self.changed}


def _stamp(context) -> str:
    """The time of a change: the build's SOURCE_DATE_EPOCH, else the start of today (UTC)."""
    when = context.source_date or dt.datetime.combine(context.today, dt.time(0, 0),
                                                       tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def follow(previous: dict | None, timeline: Timeline, issued: dt.date, context) -> Published:
    """The published plan after ``timeline`` replaces ``previous`` (a state entry)."""
    old: dict[str, Event] = {}
    for key, data in ((previous or {}).get("events") or {}).items():
        event = Event.from_state(key, data) if isinstance(data, dict) else None
        if event is not None:
            old[key] = event
    now = _stamp(context)
    events, changes = [], []
    for s in timeline.sessions:
        before = old.pop(s.key, None)
        # the state holds no roster text (the race's name is in its session title)
        s = replace(s, title="Race day") if s.kind == "race" else s
        event = Event(s.key, s.kind, s.title, s.date, s.time, s.duration, 0, now)
        if before is None:
            if previous:
                changes.append(Change("added", s.title, None, (s.date.isoformat(), s.time)))
        elif before.cancelled or (before.date, before.time) != (s.date, s.time):
            event = replace(event, sequence=before.sequence + 1)
            changes.append(Change("added" if before.cancelled else "moved", s.title,
                                  None if before.cancelled else
                                  (before.date.isoformat(), before.time),
                                  (s.date.isoformat(), s.time)))
        else:
            event = replace(event, sequence=before.sequence, stamp=before.stamp or now)
        events.append(event)
    for key in sorted(old, key=lambda k: (old[k].date, k)):
        before = old[key]
        if before.cancelled:
            events.append(before)  # still published as cancelled, unchanged
            continue
        events.append(replace(before, sequence=before.sequence + 1, stamp=now,
                              cancelled=True))
        changes.append(Change("cancelled", before.title,
                              (before.date.isoformat(), before.time), None))
    if changes:
        return Published(issued, tuple(events), tuple(changes), now)
    kept = tuple(c for c in (Change.from_state(d) for d in (previous or {}).get("changes") or ()
                             if isinstance(d, dict)) if c is not None)
    return Published(issued, tuple(events), kept, (previous or {}).get("changed"))
