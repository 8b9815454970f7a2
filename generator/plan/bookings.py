"""Appointments as booked, against the plan's rules.

:func:`check_bookings` keeps the clinic's appointments that fit a runner's plan and makes a
located error (at the appointments file's row) for each one that breaks a rule: on race day,
deep work in the race week, on a day the clinic is closed, before the plan starts, a
session of a kind the runner's plan has no rule for, or a second booking on one day.
The planner (:func:`generator.plan.timeline.plan`) pins the ones that fit before it fills in
the rest, so every property of a timeline still holds with bookings.
"""

from __future__ import annotations

import datetime as dt

from generator.core.errors import Problem
from generator.core.vocab import DAY_NAMES, WEEKDAYS
from generator.plan.timeline import LIGHT_ONLY_DAYS, Calendar


def _rule_broken(a, athlete, cal: Calendar, first: dt.date, kinds) -> str | None:
    race = athlete.race_date
    if a.date == race:
        return "booked on race day; no massage on race day"
    if a.kind not in kinds:
        return f"this runner's plan has no {a.kind} session"
    if cal.is_closed(a.date):
        return f"the clinic is closed on {a.date.isoformat()} (brand 'closed')"
    if not cal.is_open(a.date):
        return (f"the clinic does not open on {DAY_NAMES[WEEKDAYS[a.date.weekday()]]}s "
                "(brand 'open_days')")
    if a.date < first:
        return f"before the plan starts ({first.isoformat()})"
    if a.kind == "maintenance" and 0 < (race - a.date).days <= LIGHT_ONLY_DAYS:
        return (f"deep work in the race week: only light sessions in the {LIGHT_ONLY_DAYS} "
                "days before the race (book it as the pre-race session)")
    if a.kind == "pre-race" and a.date > race:
        return "a pre-race session must be before the race"
    if a.kind == "post-race" and a.date < race:
        return "a post-race session must be after the race"
    return None


def check_bookings(appointments, athlete, cal: Calendar, first: dt.date, kinds
                   ) -> tuple[list, list[Problem]]:
    """The appointments that fit the runner's plan, and an error for each that does not."""
    fit, problems = [], []
    days: dict[dt.date, int] = {}
    singles: dict[str, int] = {}
    for a in appointments:
        if a.status == "cancelled":
            fit.append(a)
            continue
        broken = _rule_broken(a, athlete, cal, first, kinds)
        if broken is None and a.date in days:
            broken = f"another session is booked on {a.date.isoformat()} (row {days[a.date]})"
        if broken is None and a.kind in singles:
            broken = f"a {a.kind} session is already booked (row {singles[a.kind]})"
        if broken is not None:
            problems.append(a.problem(broken, "date"))
            continue
        days[a.date] = a.line
        if a.kind != "maintenance":
            singles[a.kind] = a.line
        fit.append(a)
    return fit, problems
