"""Timeline -> iCalendar (RFC 5545) with stable UIDs and no wall-clock stamps."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import icalendar

from generator import __version__
from generator.core.context import BuildContext
from generator.core.notes import N_
from generator.render.words import SESSION_TITLES, Words


def session_uid(athlete_id: str, brand_id: str, key: str) -> str:
    """Same athlete and session identity (kind.ordinal) -> same UID on every rebuild."""
    return f"{athlete_id}.{key}@{brand_id}.guidegen"


def _utc(stamp: str) -> dt.datetime:
    return dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)


def _event(athlete, brand, key: str, stamp: dt.datetime, sequence: int,
           status: str) -> icalendar.Event:
    """A VEVENT's identity: its UID, when it last changed, its version and status."""
    ev = icalendar.Event()
    ev.add("uid", session_uid(athlete.id, brand.id, key))
    ev.add("dtstamp", stamp)
    ev.add("sequence", sequence)
    ev.add("status", status)
    return ev


def _when(ev: icalendar.Event, day: dt.date, time: str | None, minutes: int | None,
          tz: ZoneInfo) -> None:
    """DTSTART/DTEND: all day when ``time`` is None, else ``minutes`` from ``time``."""
    if time is None:
        ev.add("dtstart", day)
        ev.add("dtend", day + dt.timedelta(days=1))
        return
    hour, minute = map(int, time.split(":"))
    start = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=tz)
    ev.add("dtstart", start)
    ev.add("dtend", start + dt.timedelta(minutes=minutes))


def _cancelled(ev_state, athlete, brand, tz, words: Words) -> icalendar.Event:
    """An event that left the plan, published as cancelled (RFC 5545 STATUS:CANCELLED)."""
    ev = _event(athlete, brand, ev_state.key, _utc(ev_state.stamp), ev_state.sequence,
                "CANCELLED")
    kind = ev_state.key.split(".")[0]
    title = words.gettext(SESSION_TITLES[kind] if kind in SESSION_TITLES else N_("Race day"))
    ev.add("summary", words.gettext(N_("Cancelled: %(title)s (%(clinic)s)"), title=title,
                                    clinic=brand.name))
    _when(ev, ev_state.date, ev_state.time, ev_state.duration or 60, tz)
    ev.add("transp", "TRANSPARENT")
    return ev


def make_ics(plan, context: BuildContext, words: Words) -> bytes:
    """A GuidePlan's timeline as an iCalendar file, its texts in ``words``' language: each
    event's SEQUENCE and DTSTAMP come from the plan as published (the build state),
    sessions that left the plan are listed as cancelled."""
    athlete, brand, timeline = plan.athlete, plan.brand, plan.timeline
    _ = words.gettext
    cal = icalendar.Calendar()
    cal.add("prodid", f"-//guidegen//guidegen {__version__}//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    # X- properties are TEXT (RFC 5545 3.8.8.2): escape commas, semicolons, newlines
    cal.add("x-wr-calname", icalendar.vText(_(N_("%(race)s: recovery plan (%(clinic)s)"),
                                              race=athlete.race_name, clinic=brand.name)))
    cal.add("x-wr-timezone", brand.timezone)
    tz = ZoneInfo(brand.timezone)
    fallback = context.stamp(timeline.training_start)
    published = plan.published
    for s in timeline.sessions:
        state = published.event(s.key) if published else None
        ev = _event(athlete, brand, s.key,
                    _utc(state.stamp) if state and state.stamp else fallback,
                    state.sequence if state else 0, "CONFIRMED")
        if s.kind == "race":
            ev.add("summary", _(N_("Race day: %(race)s"), race=athlete.race_name))
            _when(ev, s.date, None, None, tz)
            ev.add("transp", "TRANSPARENT")
            ev.add("description", _(N_("Good luck, %(name)s! No massage today. Book your "
                                       "post-race session: %(url)s"),
                                    name=athlete.name, url=brand.booking_url))
            ev.add("categories", [_(N_("Race"))])
        else:
            title = words.session_title(s)
            ev.add("summary", f"{title} ({brand.name})")
            _when(ev, s.date, s.time, s.duration, tz)
            ev.add("transp", "OPAQUE")
            ev.add("location", brand.address)
            ev.add("description", _(N_("%(title)s, %(pressure)s pressure, %(minutes)s minutes "
                                       "(%(phase)s phase). Book or change: %(url)s"),
                                    title=title, pressure=words.pressure(s.pressure),
                                    minutes=s.duration, phase=words.phase(s.phase),
                                    url=brand.booking_url))
            ev.add("url", brand.booking_url)
            ev.add("categories", [_(N_("Sports massage"))])
            alarm = icalendar.Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", _(N_("Tomorrow: %(title)s at %(time)s"), title=title,
                                       time=words.time(s.time)))
            alarm.add("trigger", dt.timedelta(days=-1))
            ev.add_component(alarm)
        cal.add_component(ev)
    for gone in (published.cancelled if published else ()):
        cal.add_component(_cancelled(gone, athlete, brand, tz, words))
    # a VTIMEZONE covering just the plan (plus a year's margin), not 1970-2038
    first = timeline.sessions[0].date - dt.timedelta(days=366)
    last = timeline.sessions[-1].date + dt.timedelta(days=366)
    cal.add_missing_timezones(first_date=first, last_date=last)
    return cal.to_ical()
