"""Plan an athlete's timeline: pure functions, no I/O, never today's date.

Inputs: the athlete, the session rules of the modules included in their
guide, and the clinic's calendar.  Output: dated sessions (plus the race as
an all-day event), named phases, and warnings for windows the clinic cannot
serve.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from generator.core.vocab import WEEKDAYS

PHASES = ("base", "build", "peak", "taper", "race week", "recovery")
TAPER_DAYS = 21  # taper + race week: the three weeks before race day
RACE_WEEK_DAYS = 7  # race week: the 7 days before the race, and race day
RECOVERY_DAYS = 14
LIGHT_ONLY_DAYS = 7  # nothing deeper than light this close to the race
TITLES = {
    "maintenance": "Maintenance sports massage",
    "pre-race": "Light pre-race massage",
    "post-race": "Light post-race recovery massage",
}
DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Calendar:
    """When the clinic can see the athlete."""

    open_days: frozenset[int]  # 0 = Monday
    appointment_time: str = "17:30"
    timezone: str = "UTC"

    @classmethod
    def from_names(cls, days: Iterable[str], appointment_time: str, timezone: str) -> Calendar:
        return cls(frozenset(WEEKDAYS.index(d) for d in days), appointment_time, timezone)

    def is_open(self, day: dt.date) -> bool:
        return day.weekday() in self.open_days


@dataclass(frozen=True)
class Rule:
    """The planner's view of a module's session rule (see content.SessionRule)."""

    kind: str
    pressure: str
    duration: int = 60
    window: tuple[int, int] = (0, 0)  # days before (pre) or after (post) the race
    stop_days_before: int = 10  # maintenance
    every: str = "athlete"  # maintenance: athlete | auto | weekly | biweekly
    module: str | None = None


@dataclass(frozen=True)
class Session:
    date: dt.date
    kind: str  # maintenance | pre-race | post-race | race
    pressure: str  # none | light | moderate | firm
    time: str | None  # "HH:MM" in the clinic's time zone; None for the all-day race
    duration: int | None  # minutes
    phase: str
    title: str
    module: str | None = None


@dataclass(frozen=True)
class Phase:
    name: str
    start: dt.date
    end: dt.date  # inclusive

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class Timeline:
    athlete_id: str
    race_name: str
    race_date: dt.date
    training_start: dt.date
    timezone: str
    sessions: tuple[Session, ...]
    phases: tuple[Phase, ...]
    warnings: tuple[str, ...] = field(default=())

    def of_kind(self, kind: str) -> list[Session]:
        return [s for s in self.sessions if s.kind == kind]

    def to_dict(self) -> dict:
        def session(s: Session) -> dict:
            d = asdict(s)
            d["date"] = s.date.isoformat()
            return d

        return {
            "id": self.athlete_id,
            "race_name": self.race_name,
            "race_date": self.race_date.isoformat(),
            "training_start": self.training_start.isoformat(),
            "timezone": self.timezone,
            "sessions": [session(s) for s in self.sessions],
            "phases": [{"name": p.name, "start": p.start.isoformat(), "end": p.end.isoformat()}
                       for p in self.phases],
            "warnings": list(self.warnings),
        }


def plan_phases(training_start: dt.date, race: dt.date) -> tuple[Phase, ...]:
    """Base/build/peak split the time before the taper 2:1:1; taper and race week
    are the last three weeks; recovery is the two weeks after. Empty phases are
    dropped (a three-week plan is taper + race week + recovery)."""
    phases: list[Phase] = []
    race_week_start = race - RACE_WEEK_DAYS * DAY
    taper_start = race - TAPER_DAYS * DAY
    pre_taper_days = (taper_start - training_start).days
    if pre_taper_days > 0:
        base_len = round(pre_taper_days * 0.5)
        build_len = round(pre_taper_days * 0.25)
        peak_len = pre_taper_days - base_len - build_len
        day = training_start
        for name, length in (("base", base_len), ("build", build_len), ("peak", peak_len)):
            if length > 0:
                phases.append(Phase(name, day, day + (length - 1) * DAY))
                day += length * DAY
    for name, start, end in (
        ("taper", taper_start, race_week_start - DAY),
        ("race week", race_week_start, race),
    ):
        start = max(start, training_start)
        if start <= end:
            phases.append(Phase(name, start, end))
    phases.append(Phase("recovery", race + DAY, race + RECOVERY_DAYS * DAY))
    return tuple(phases)


def phase_of(phases: Iterable[Phase], day: dt.date) -> str:
    for phase in phases:
        if phase.contains(day):
            return phase.name
    return "base" if day < min(p.start for p in phases) else "recovery"


def _interval(every: str, frequency: str, phase: str) -> int:
    mode = frequency if every == "athlete" else every
    if mode == "weekly":
        return 7
    if mode == "biweekly":
        return 14
    return 14 if phase == "base" else 7  # auto: biweekly in base, weekly from build on


def _maintenance(rule: Rule, athlete, cal: Calendar, phases, used: set, warnings: list):
    last = athlete.race_date - rule.stop_days_before * DAY
    nominal = athlete.training_start
    if athlete.long_run_day:
        day_after = (WEEKDAYS.index(athlete.long_run_day) + 1) % 7
        nominal += ((day_after - nominal.weekday()) % 7) * DAY
    sessions = []
    while nominal <= last:
        interval = _interval(rule.every, athlete.massage_frequency, phase_of(phases, nominal))
        slack = min(6, interval - 1)  # move to the next open day, never into the next slot
        candidates = [nominal + i * DAY for i in range(slack + 1)]
        day = next((d for d in candidates if d <= last and cal.is_open(d) and d not in used),
                   None)
        if day is None:
            warnings.append(f"no open clinic day for the maintenance session due "
                            f"{nominal.isoformat()}; it was left out")
        else:
            used.add(day)
            sessions.append(_session(day, rule, cal, phases))
        nominal += interval * DAY
    return sessions


def _single(rule: Rule, athlete, cal: Calendar, phases, used: set, warnings: list):
    lo, hi = rule.window
    mid = (lo + hi) / 2
    if rule.kind == "pre-race":
        # middle of the window first, then further from the race (gentler on race day)
        offsets = sorted(range(lo, hi + 1), key=lambda n: (abs(n - mid), -n))
        days = [athlete.race_date - n * DAY for n in offsets]
    else:
        # middle first, then sooner after the race
        offsets = sorted(range(lo, hi + 1), key=lambda n: (abs(n - mid), n))
        days = [athlete.race_date + n * DAY for n in offsets]
    for day in days:
        if cal.is_open(day) and day not in used and day >= athlete.training_start:
            used.add(day)
            return [_session(day, rule, cal, phases)]
    side = "before" if rule.kind == "pre-race" else "after"
    warnings.append(f"no open clinic day {lo}-{hi} days {side} the race for the "
                    f"{rule.kind} session; it was left out")
    return []


def _session(day: dt.date, rule: Rule, cal: Calendar, phases) -> Session:
    race = phases[-1].start - DAY  # recovery starts the day after the race
    pressure = rule.pressure
    if 0 < (race - day).days <= LIGHT_ONLY_DAYS and pressure != "light":
        pressure = "light"  # the last week before the race is light, whatever a rule says
    return Session(day, rule.kind, pressure, cal.appointment_time, rule.duration,
                   phase_of(phases, day), TITLES[rule.kind], rule.module)


def plan(athlete, rules: Iterable[Rule], cal: Calendar) -> Timeline:
    """The athlete's timeline. Depends only on its arguments."""
    phases = plan_phases(athlete.training_start, athlete.race_date)
    used = {athlete.race_date}  # nothing on race day
    warnings: list[str] = []
    sessions: list[Session] = []
    by_kind = {r.kind: r for r in rules}
    # single sessions first: they have the narrowest windows
    for kind in ("pre-race", "post-race"):
        if kind in by_kind:
            sessions += _single(by_kind[kind], athlete, cal, phases, used, warnings)
    if "maintenance" in by_kind:
        sessions += _maintenance(by_kind["maintenance"], athlete, cal, phases, used, warnings)
    sessions.append(Session(athlete.race_date, "race", "none", None, None, "race week",
                            f"Race day: {athlete.race_name}"))
    sessions.sort(key=lambda s: s.date)
    return Timeline(athlete.id, athlete.race_name, athlete.race_date, athlete.training_start,
                    cal.timezone, tuple(sessions), phases, tuple(warnings))
