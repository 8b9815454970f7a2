"""The iCalendar timeline, parsed back with ``icalendar``: the sessions, nothing else.

Every example athlete is checked (ICS is fast), plus random names (Hypothesis)
for RFC 5545 escaping and line folding.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import icalendar
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.load.roster import Athlete
from generator.plan.guideplan import plan_guide
from tests.guidekit import EPOCH, HARBOUR_ID, context, guide_ics, load, plan_of


@pytest.fixture(scope="module")
def inputs():
    return load()


@pytest.fixture(scope="module")
def calendars(inputs) -> dict[str, tuple]:
    """athlete id -> (athlete, brand, timeline, ics bytes, parsed calendar)."""
    out = {}
    for athlete in inputs.athletes:
        plan = plan_guide(inputs, athlete)
        data = guide_ics(plan, context(EPOCH))
        out[athlete.id] = (athlete, plan.brand, plan.timeline, data,
                           icalendar.Calendar.from_ical(data))
    return out


def _events(cal) -> list:
    return list(cal.walk("VEVENT"))


def _kind(event) -> str:
    """The session kind is part of the UID: <athlete>.<kind>.<n>@<brand>.guidegen."""
    return str(event["UID"]).split("@")[0].split(".")[1]


def test_every_example_roster_athlete_has_a_calendar(inputs, calendars):
    assert len(calendars) == len(inputs.athletes) >= 10


def test_events_are_exactly_the_timeline_sessions(calendars):
    for athlete_id, (_athlete, _brand, timeline, _data, cal) in calendars.items():
        got = sorted((_start_date(e), _kind(e)) for e in _events(cal))
        want = sorted((s.date, s.kind) for s in timeline.sessions)
        assert got == want, athlete_id


def _start_date(event) -> dt.date:
    value = event.decoded("DTSTART")
    return value.date() if isinstance(value, dt.datetime) else value


def test_timed_sessions_are_in_the_brand_time_zone_with_a_vtimezone(calendars):
    for athlete_id, (athlete, brand, timeline, _data, cal) in calendars.items():
        zones = {str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")}
        assert zones == {brand.timezone}, athlete_id
        by_date = {s.date: s for s in timeline.sessions}
        for event in _events(cal):
            if _kind(event) == "race":
                continue
            session = by_date[_start_date(event)]
            start, end = event.decoded("DTSTART"), event.decoded("DTEND")
            assert event["DTSTART"].params["TZID"] == brand.timezone
            assert event["DTEND"].params["TZID"] == brand.timezone
            wanted = athlete.preferred_time or brand.appointment_time
            assert start.strftime("%H:%M") == wanted == session.time
            assert start.utcoffset() == start.replace(tzinfo=ZoneInfo(brand.timezone)
                                                      ).utcoffset(), athlete_id
            assert end - start == dt.timedelta(minutes=session.duration)


def test_vtimezone_covers_every_session(calendars):
    """Each session's UTC offset is defined by an observance that starts before it."""
    for athlete_id, (_a, _b, timeline, _data, cal) in calendars.items():
        (vtz,) = cal.walk("VTIMEZONE")
        starts = [sub.decoded("DTSTART") for sub in vtz.subcomponents]
        assert min(starts).date() <= timeline.sessions[0].date, athlete_id


def test_timed_sessions_remind_the_day_before_at_the_clinic_address(calendars):
    for athlete_id, (_athlete, brand, _t, _data, cal) in calendars.items():
        for event in _events(cal):
            if _kind(event) == "race":
                continue
            assert str(event["LOCATION"]) == brand.address, athlete_id
            assert brand.booking_url in str(event["DESCRIPTION"])
            assert str(event["TRANSP"]) == "OPAQUE"
            alarms = event.walk("VALARM")
            assert len(alarms) == 1
            assert alarms[0].decoded("TRIGGER") == dt.timedelta(days=-1)
            assert alarms[0]["TRIGGER"].to_ical() == b"-P1D"
            assert str(alarms[0]["ACTION"]) == "DISPLAY"


def test_race_is_an_all_day_transparent_event(calendars):
    for athlete_id, (athlete, brand, _t, data, cal) in calendars.items():
        races = [e for e in _events(cal) if _kind(e) == "race"]
        assert len(races) == 1, athlete_id
        race = races[0]
        assert race["DTSTART"].params.get("VALUE") == "DATE"
        assert race.decoded("DTSTART") == athlete.race_date
        assert race.decoded("DTEND") == athlete.race_date + dt.timedelta(days=1)
        assert str(race["TRANSP"]) == "TRANSPARENT"
        assert brand.booking_url in str(race["DESCRIPTION"])
        assert not race.walk("VALARM")
        assert f"DTSTART;VALUE=DATE:{athlete.race_date:%Y%m%d}".encode() in data


def test_uids_are_unique_within_a_file_and_carry_sequence_and_dtstamp(calendars):
    stamp = dt.datetime.fromtimestamp(int(EPOCH), tz=dt.UTC)
    all_uids: list[str] = []
    for athlete_id, (_a, _b, _t, _data, cal) in calendars.items():
        uids = [str(e["UID"]) for e in _events(cal)]
        assert len(uids) == len(set(uids)), athlete_id
        all_uids += uids
        for event in _events(cal):
            assert event.decoded("SEQUENCE") == 0
            assert event.decoded("DTSTAMP") == stamp
    assert len(all_uids) == len(set(all_uids)), "a UID is shared between athletes"


def test_uids_are_equal_across_builds(inputs, calendars):
    """A rebuild (even another day, another build date) keeps every UID."""
    for athlete in inputs.athletes:
        fresh = load(epoch="1800000000")
        cal = icalendar.Calendar.from_ical(
            guide_ics(plan_of(fresh, athlete.id), fresh.context))
        before = [str(e["UID"]) for e in _events(calendars[athlete.id][4])]
        assert [str(e["UID"]) for e in _events(cal)] == before


def test_calendar_headers(calendars):
    for athlete_id, (athlete, brand, _t, _data, cal) in calendars.items():
        assert str(cal["VERSION"]) == "2.0"
        assert str(cal["PRODID"]).startswith("-//guidegen//")
        assert str(cal["METHOD"]) == "PUBLISH"
        assert str(cal["X-WR-TIMEZONE"]) == brand.timezone, athlete_id
        assert athlete.race_name in str(cal["X-WR-CALNAME"])


def _check_rfc5545_lines(data: bytes) -> None:
    assert data.endswith(b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b""), "bare LF line end"
    assert b"\r" not in data.replace(b"\r\n", b""), "bare CR"
    for line in data.split(b"\r\n"):
        assert len(line) <= 75, f"line longer than 75 octets: {line!r}"
    # a fold never splits a UTF-8 character (each physical line must decode on its own)
    for line in data.split(b"\r\n"):
        line.decode("utf-8")


def test_lines_are_crlf_and_folded_at_75_octets(calendars):
    for _id, (_a, _b, _t, data, _cal) in calendars.items():
        _check_rfc5545_lines(data)


def test_no_wall_clock_without_source_date_epoch():
    """Without SOURCE_DATE_EPOCH an event's DTSTAMP is the day its plan was published
    (today, --as-of, for a new runner): never the time of the build."""
    fresh = load(epoch=None)
    plan = plan_of(fresh, HARBOUR_ID)
    first = guide_ics(plan, fresh.context)
    second = guide_ics(plan_of(load(epoch=None), HARBOUR_ID), context(None))
    assert first == second
    stamps = set(re.findall(rb"DTSTAMP:(\S+)\r\n", first))
    assert stamps == {f"{fresh.context.today:%Y%m%d}T000000Z".encode()}


# ------------------------------------------------------------------ random names

NAME_CHARS = st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.text(NAME_CHARS, min_size=1, max_size=120).filter(lambda s: s.strip()),
       race=st.text(NAME_CHARS, min_size=1, max_size=200).filter(lambda s: s.strip()))
def test_any_name_survives_escaping_and_folding(inputs, name, race):
    template = next(a for a in inputs.athletes if a.id == HARBOUR_ID)
    athlete = Athlete.model_validate({**template.model_dump(), "name": name,
                                      "race_name": race})
    data = guide_ics(plan_guide(inputs, athlete), context(EPOCH))
    _check_rfc5545_lines(data)
    cal = icalendar.Calendar.from_ical(data)
    (race_event,) = [e for e in _events(cal) if _kind(e) == "race"]
    assert athlete.name in str(race_event["DESCRIPTION"])
    assert str(race_event["SUMMARY"]) == f"Race day: {athlete.race_name}"
