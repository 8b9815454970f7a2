"""Validators shared by the roster and brand schemas."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def iana_timezone(value: str) -> str:
    """An IANA time zone name such as Europe/London (a ValueError for pydantic otherwise)."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "Europe" is a folder
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as "
                         "Europe/London)") from None
    return value


MAX_CLOSED_DAYS = 366  # one range may close the clinic for at most a year


def _day(value, what: str) -> dt.date:
    if isinstance(value, dt.datetime):
        raise ValueError(f"{what} must be a date, not a date-time")
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"{str(value)[:30]!r} is not a date YYYY-MM-DD") from None


def closed_ranges(values) -> tuple[tuple[dt.date, dt.date], ...]:
    """``["2026-12-24..2027-01-02", "2027-04-13"]`` (TOML dates too) as inclusive ranges."""
    if not isinstance(values, list | tuple):
        raise ValueError("must be a list of dates and 'START..END' ranges")
    out = []
    for value in values:
        if isinstance(value, tuple) and len(value) == 2:  # already parsed (a model copy)
            start, end = _day(value[0], "a range start"), _day(value[1], "a range end")
        elif isinstance(value, str) and ".." in value:
            first, _, last = value.partition("..")
            start, end = _day(first, "a range start"), _day(last, "a range end")
            if end < start:
                raise ValueError(f"{value!r}: the range ends before it starts")
            if (end - start).days >= MAX_CLOSED_DAYS:
                raise ValueError(f"{value!r}: a closure may last at most {MAX_CLOSED_DAYS} days")
        else:
            start = end = _day(value, "a closed day")
        out.append((start, end))
    return tuple(sorted(out))


def weekday_list(value) -> tuple[str, ...]:
    """``"sat;sun"`` (CSV) or ``["sat", "sun"]`` as unique weekday names ``mon``..``sun``."""
    from generator.core.vocab import WEEKDAYS

    items = value.split(";") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise ValueError("must be weekdays mon..sun separated by ';'")
    days = []
    for item in items:
        day = str(item).strip().lower()[:3] if isinstance(item, str) else item
        if not day:
            continue
        if day not in WEEKDAYS:
            raise ValueError(f"{str(item)[:20]!r} is not a weekday (use mon, tue ... sun)")
        if day not in days:
            days.append(day)
    return tuple(sorted(days, key=WEEKDAYS.index))
