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

from generator.core.notes import N_, Nn_, Note
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
# a single session's window the plan cannot use, by side of the race
WINDOW_PASSED = {
    "before": N_("the plan starts %(date)s, after the %(kind)s session's window (%(lo)s-%(hi)s "
                 "days before the race); it was left out"),
    "after": N_("the plan starts %(date)s, after the %(kind)s session's window (%(lo)s-%(hi)s "
                "days after the race); it was left out"),
}
WINDOW_CLOSED = {
    "before": N_("no open clinic day %(lo)s-%(hi)s days before the race for the %(kind)s "
                 "session; it was left out"),
    "after": N_("no open clinic day %(lo)s-%(hi)s days after the race for the %(kind)s "
                "session; it was left out"),
}


@dataclass(frozen=True)
class Calendar:
    """When the clinic can see the athlete."""

    open_days: frozenset[int]  # 0 = Monday
    appointment_time: str = "17:30"
    timezone: str = "UTC"
    closed: tuple[tuple[dt.date, dt.date], ...] = ()  # inclusive ranges (holidays)

    @classmethod
    def from_names(cls, days: Iterable[str], appointment_time: str, timezone: str,
                   closed: Iterable[tuple[dt.date, dt.date]] = ()) -> Calendar:
        return cls(frozenset(WEEKDAYS.index(d) for d in days), appointment_time, timezone,
                   tuple(closed))

    def is_closed(self, day: dt.date) -> bool:
        """A closure date (holiday), whatever the weekday."""
        return any(start <= day <= end for start, end in self.closed)

    def is_open(self, day: dt.date) -> bool:
        return day.weekday() in self.open_days and not self.is_closed(day)


@dataclass(frozen=True)
class Wishes:
    """The runner's preferred days (0 = Monday) and time, and their plan's first day."""

    start: dt.date
    days: frozenset[int] = frozenset()
    time: str | None = None


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
    key: str = ""  # identity across rebuilds: kind and ordinal (its calendar UID)
    booked: bool = False  # pinned by the clinic's appointments file


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
    plan_start: dt.date | None = None  # no session before it (default: training_start)
    cancelled: tuple[dt.date, ...] = ()  # days whose session the appointments cancelled

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
            "plan_start": (self.plan_start or self.training_start).isoformat(),
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


def _place_maintenance(nominal: dt.date, slack: int, first: dt.date, last: dt.date,
                       cal: Calendar, wishes: Wishes, used: set) -> tuple[dt.date | None, bool]:
    """A maintenance session due ``nominal``: the preferred open day nearest to it in the
    week around it (three days either side), else the next open day within ``slack``.
    Returns (day, whether the runner's preference was kept)."""
    def free(d: dt.date) -> bool:
        return first <= d <= last and cal.is_open(d) and d not in used

    if wishes.days:
        week = [nominal + i * DAY for i in range(-3, 4)]  # the week around the due date
        liked = [d for d in week if d.weekday() in wishes.days and free(d)]
        if liked:
            return min(liked, key=lambda d: (abs((d - nominal).days), d)), True
    day = next((nominal + i * DAY for i in range(slack + 1) if free(nominal + i * DAY)), None)
    return day, not wishes.days


def maintenance_slots(rule: Rule, athlete, phases) -> list[tuple[int, dt.date, int]]:
    """Every maintenance slot from training_start on: (ordinal, due date, interval).
    Ordinals count from training_start, so a slot keeps its identity (and calendar UID)
    whatever the plan's start."""
    last = athlete.race_date - rule.stop_days_before * DAY
    nominal = athlete.training_start
    if athlete.long_run_day:
        day_after = (WEEKDAYS.index(athlete.long_run_day) + 1) % 7
        nominal += ((day_after - nominal.weekday()) % 7) * DAY
    slots = []
    while nominal <= last:
        interval = _interval(rule.every, athlete.massage_frequency, phase_of(phases, nominal))
        slots.append((len(slots), nominal, interval))
        nominal += interval * DAY
    return slots


def _maintenance(rule: Rule, athlete, cal: Calendar, phases, used: set, warnings: list,
                 wishes: Wishes, pinned: dict[int, Session], missed: list):
    last = athlete.race_date - rule.stop_days_before * DAY
    sessions = []
    for ordinal, nominal, interval in maintenance_slots(rule, athlete, phases):
        if ordinal in pinned:
            sessions.append(pinned[ordinal])
            continue
        slack = min(6, interval - 1)  # move to the next open day, never into the next slot
        if nominal + slack * DAY < wishes.start:
            continue  # before the plan starts (a late joiner): not a session to miss
        day, kept = _place_maintenance(nominal, slack, wishes.start, last, cal, wishes, used)
        if day is None:
            warnings.append(Note(N_("no open clinic day for the maintenance session due "
                                    "%(date)s; it was left out"), date=nominal))
            continue
        if not kept:
            missed.append(day)
        used.add(day)
        sessions.append(_session(day, rule, cal, phases, wishes, f"maintenance.{ordinal}"))
    return sessions


def _single(rule: Rule, athlete, cal: Calendar, phases, used: set, warnings: list,
            wishes: Wishes, missed: list):
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
    free = [d for d in days if cal.is_open(d) and d not in used and d >= wishes.start]
    liked = [d for d in free if d.weekday() in wishes.days]
    side = "before" if rule.kind == "pre-race" else "after"
    if not free:
        if all(d < wishes.start for d in days):
            warnings.append(Note(WINDOW_PASSED[side], date=wishes.start, kind=rule.kind,
                                 lo=lo, hi=hi))
        else:
            warnings.append(Note(WINDOW_CLOSED[side], kind=rule.kind, lo=lo, hi=hi))
        return []
    day = (liked or free)[0]
    if wishes.days and not liked:
        missed.append(day)
    used.add(day)
    return [_session(day, rule, cal, phases, wishes, f"{rule.kind}.0")]


def _session(day: dt.date, rule: Rule, cal: Calendar, phases, wishes: Wishes, key: str,
             time: str | None = None, booked: bool = False) -> Session:
    race = phases[-1].start - DAY  # recovery starts the day after the race
    pressure = rule.pressure
    if 0 < (race - day).days <= LIGHT_ONLY_DAYS and pressure != "light":
        pressure = "light"  # the last week before the race is light, whatever a rule says
    return Session(day, rule.kind, pressure, time or wishes.time or cal.appointment_time,
                   rule.duration, phase_of(phases, day), TITLES[rule.kind], rule.module,
                   key, booked)


@dataclass
class Booked:
    single: dict[str, Session] = field(default_factory=dict)  # pre-race / post-race, pinned
    slots: dict[int, Session] = field(default_factory=dict)  # maintenance ordinal -> pinned
    extra: list[Session] = field(default_factory=list)  # booked beyond the planned slots
    cancelled: set[dt.date] = field(default_factory=set)


def apply_bookings(appointments, rules: dict, athlete, phases, wishes: Wishes, used: set,
                   cal: Calendar) -> Booked:
    """Pinned sessions for the booked appointments (checked by :func:`check_bookings`): a
    booked maintenance session takes the place of the planned slot nearest to it (within
    the slot's interval), or is added when none is free."""
    booked = Booked()
    slots = (maintenance_slots(rules["maintenance"], athlete, phases)
             if "maintenance" in rules else [])
    for a in sorted(appointments, key=lambda a: (a.date, a.line)):
        if a.status == "cancelled":
            booked.cancelled.add(a.date)
            continue
        used.add(a.date)
        rule = rules[a.kind]
        if a.kind != "maintenance":
            booked.single[a.kind] = _session(a.date, rule, cal, phases, wishes,
                                             f"{a.kind}.0", a.time, True)
            continue
        near = [(abs((due - a.date).days), ordinal) for ordinal, due, interval in slots
                if ordinal not in booked.slots and abs((due - a.date).days) < interval]
        if near:
            ordinal = min(near)[1]
            booked.slots[ordinal] = _session(a.date, rule, cal, phases, wishes,
                                             f"maintenance.{ordinal}", a.time, True)
        else:
            booked.extra.append(_session(a.date, rule, cal, phases, wishes,
                                         f"maintenance.{a.date:%Y%m%d}", a.time, True))
    return booked


def plan_start(athlete, issued: dt.date | None = None) -> dt.date:
    """The plan's first day: the latest of training_start, the runner's ``plan_from`` and
    the day the plan was first issued."""
    return max(d for d in (athlete.training_start, athlete.plan_from, issued) if d)


def plan(athlete, rules: Iterable[Rule], cal: Calendar, start: dt.date | None = None,
         bookings: Iterable = ()) -> Timeline:
    """The athlete's timeline. Depends only on its arguments.

    ``start``: the day the plan was first issued (nothing is planned before it, nor before
    training_start or the runner's ``plan_from``). ``bookings``: the clinic's appointments
    for this runner, already checked against the rules
    (:func:`generator.plan.bookings.check_bookings`).
    """
    first = plan_start(athlete, start)
    wishes = Wishes(first, frozenset(WEEKDAYS.index(d) for d in athlete.preferred_days),
                    athlete.preferred_time)
    phases = plan_phases(athlete.training_start, athlete.race_date)
    used = {athlete.race_date}  # nothing on race day
    warnings: list[str] = []
    sessions: list[Session] = []
    missed: list[dt.date] = []  # sessions not on a preferred day
    by_kind = {r.kind: r for r in rules}
    booked = apply_bookings(bookings, by_kind, athlete, phases, wishes, used, cal)
    # single sessions first: they have the narrowest windows
    for kind in ("pre-race", "post-race"):
        if kind in booked.single:
            sessions.append(booked.single[kind])
        elif kind in by_kind:
            sessions += _single(by_kind[kind], athlete, cal, phases, used, warnings, wishes,
                                missed)
    if "maintenance" in by_kind:
        found = _maintenance(by_kind["maintenance"], athlete, cal, phases, used, warnings,
                             wishes, booked.slots, missed)
        if not found and not booked.extra and first > athlete.training_start:
            warnings.append(Note(N_("the plan starts %(date)s: too late for maintenance "
                                    "sessions before the race; none are planned"), date=first))
        sessions += found
    sessions += booked.extra
    if missed:
        warnings.append(Note(Nn_("%(count)s session could not go on a preferred day "
                                 "(%(days)s) and is on a clinic day instead: %(dates)s",
                                 "%(count)s sessions could not go on a preferred day "
                                 "(%(days)s) and are on clinic days instead: %(dates)s"),
                             count=len(missed), days=[WEEKDAYS[d] for d in sorted(wishes.days)],
                             dates=sorted(missed)))
    removed = tuple(sorted({s.date for s in sessions if s.date in booked.cancelled}))
    sessions = [s for s in sessions if s.date not in booked.cancelled]
    sessions.append(Session(athlete.race_date, "race", "none", None, None, "race week",
                            f"Race day: {athlete.race_name}", None, "race.0"))
    sessions.sort(key=lambda s: s.date)
    return Timeline(athlete.id, athlete.race_name, athlete.race_date, athlete.training_start,
                    cal.timezone, tuple(sessions), phases, tuple(warnings), first, removed)
