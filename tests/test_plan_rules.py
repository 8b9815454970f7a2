"""Issue 14: plan start, preferences, closures, bookings and rules per audience.

Property tests (hypothesis) check that whatever the start day, preferences, closures and
booked or cancelled appointments, every rule of a timeline still holds: nothing before the
plan's start, nothing on race day or a closed day, at most one session a day, nothing
deeper than light in the last week, every session on an open day."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from generator.core.context import BuildContext
from generator.load.appointments import Appointment, load_appointments
from generator.load.content import load_modules
from generator.load.inputs import load_inputs
from generator.load.project import load_project
from generator.load.roster import Athlete
from generator.plan.bookings import check_bookings
from generator.plan.guideplan import plan_guide, rules_of
from generator.plan.timeline import LIGHT_ONLY_DAYS, WEEKDAYS, Calendar, plan
from tests.conftest import EXAMPLE_PARTS, REPO_ROOT, copy_example

DAY = dt.timedelta(days=1)
MODULES, _ = load_modules(REPO_ROOT / "content", REPO_ROOT)
RACE = dt.date(2027, 4, 18)  # a Sunday
OPEN = Calendar.from_names(["mon", "tue", "wed", "thu", "fri", "sat"], "17:30", "Europe/London")


def runner(**kw) -> Athlete:
    data = dict(id="r-01", name="Rita", race_name="Solent Coastal Marathon",
                race_date=RACE.isoformat(), massage_frequency="weekly")
    data.update(kw)
    return Athlete(**data)


def rules_for(athlete: Athlete):
    return rules_of([m for m in MODULES if m.for_guide(athlete)])


def booking(day: dt.date, kind: str, status: str = "booked", time: str | None = None,
            line: int = 2) -> Appointment:
    return Appointment("r-01", day, time, kind, status, "appointments.csv", line)


def assert_rules_hold(timeline, athlete, cal: Calendar, start: dt.date) -> None:
    massages = [s for s in timeline.sessions if s.kind != "race"]
    days = [s.date for s in massages]
    assert len(days) == len(set(days)), "at most one session a day"
    assert athlete.race_date not in days, "nothing on race day"
    for s in massages:
        assert s.date >= start, (s, start)
        assert cal.is_open(s.date), s
        assert not cal.is_closed(s.date), s
        if 0 < (athlete.race_date - s.date).days <= LIGHT_ONLY_DAYS:
            assert s.pressure == "light", s
    assert [s.date for s in timeline.sessions] == sorted(s.date for s in timeline.sessions)
    assert sum(s.kind == "race" for s in timeline.sessions) == 1


# ------------------------------------------------------------------ plan start

def test_late_joiner_gets_no_session_before_the_plan_starts():
    athlete = runner()  # training_start: 16 weeks before the race (2026-12-27)
    issued = RACE - 21 * DAY  # joins three weeks before the race
    tl = plan(athlete, rules_for(athlete), OPEN, issued)
    massages = [s for s in tl.sessions if s.kind != "race"]
    assert tl.plan_start == issued
    assert massages and all(s.date >= issued for s in massages)
    assert [s.kind for s in massages].count("pre-race") == 1
    assert [s.kind for s in massages].count("post-race") == 1
    # the stateless default (no start) would have scheduled from 2026-12-27
    assert plan(athlete, rules_for(athlete), OPEN).sessions[0].date < issued


def test_plan_from_and_a_block_too_short_is_a_warning_naming_what_was_dropped():
    athlete = runner(plan_from=(RACE - 2 * DAY).isoformat())
    tl = plan(athlete, rules_for(athlete), OPEN)
    kinds = [s.kind for s in tl.sessions]
    assert "maintenance" not in kinds and "pre-race" not in kinds and "post-race" in kinds
    text = " ".join(tl.warnings)
    assert "after the pre-race session's window" in text
    assert "too late for maintenance sessions" in text


def test_a_race_already_past_is_an_error_at_its_row(tmp_path, run_cli):
    root = copy_example(tmp_path, (*EXAMPLE_PARTS, "data"))
    result = run_cli(["check", "data/athletes.csv", "--as-of", "2027-03-10"], cwd=root)
    assert result.exit_code == 1, result.stderr
    past = [line for line in result.stderr.splitlines() if "already past" in line]
    # hb-tom-10 (2027-01-24), sm-jo-16 (2027-02-28) and Émile (2027-03-07)
    assert len(past) == 3, result.stderr
    assert sorted(line.split(": ")[0] for line in past) == [
        "data/athletes.csv:11", "data/athletes.csv:17", "data/athletes.csv:6"]
    assert ("data/athletes.csv:11: race_date: 2027-01-24 is already past (today is "
            "2027-03-10; use --as-of to plan as of another day)") in past


def test_as_of_is_the_issue_date_of_stateless_commands(tmp_path, run_cli):
    import json

    root = copy_example(tmp_path, (*EXAMPLE_PARTS, "data"))
    later = run_cli(["timeline", "data/athletes.csv", "--id", "hb-tom-10", "--json",
                     "--as-of", "2026-12-01"], cwd=root)
    assert later.exit_code == 0, later.stderr
    data = json.loads(later.stdout)[0]
    assert data["plan_start"] == "2026-12-01"
    assert all(s["date"] >= "2026-12-01" for s in data["sessions"])


# ------------------------------------------------------------------ preferences, closures

def test_preferred_saturday_at_nine_fifteen():
    athlete = runner(preferred_days="sat", preferred_time="09:15", long_run_day="sun")
    tl = plan(athlete, rules_for(athlete), OPEN)
    massages = [s for s in tl.sessions if s.kind != "race"]
    assert all(s.time == "09:15" for s in massages)
    maintenance = [s for s in massages if s.kind == "maintenance"]
    # the first is due Monday 28 December, the day after training starts: the Saturday
    # before it is before the plan, the one after is not in its week; every other is
    assert maintenance[0].date == dt.date(2026, 12, 28)
    assert len(maintenance) > 10 and all(s.date.weekday() == 5 for s in maintenance[1:])
    # the pre-race window (3-5 days before a Sunday race) has no Saturday: the clinic's day
    pre = next(s for s in massages if s.kind == "pre-race")
    assert 3 <= (RACE - pre.date).days <= 5 and pre.time == "09:15"
    assert ("3 sessions could not go on a preferred day (sat) and are on clinic days instead: "
            "2026-12-28, 2027-04-14, 2027-04-20") in tl.warnings
    assert_rules_hold(tl, athlete, OPEN, athlete.training_start)


def test_preference_outside_a_window_falls_back_with_a_warning():
    # Saturdays only: the pre-race window (Tue-Thu before a Sunday race) has no Saturday
    athlete = runner(preferred_days="sat")
    tl = plan(athlete, rules_for(athlete), OPEN)
    pre = next(s for s in tl.sessions if s.kind == "pre-race")
    assert 3 <= (RACE - pre.date).days <= 5
    assert any("could not go on a preferred day (sat)" in w for w in tl.warnings)


def test_no_session_on_a_closed_day():
    closed = Calendar.from_names(["mon", "tue", "wed", "thu", "fri", "sat"], "17:30",
                                 "Europe/London",
                                 [(dt.date(2026, 12, 24), dt.date(2027, 1, 2)),
                                  (RACE - 4 * DAY, RACE - 4 * DAY)])
    athlete = runner()
    tl = plan(athlete, rules_for(athlete), closed)
    assert_rules_hold(tl, athlete, closed, athlete.training_start)
    pre = next(s for s in tl.sessions if s.kind == "pre-race")
    assert pre.date != RACE - 4 * DAY and 3 <= (RACE - pre.date).days <= 5  # moved, kept


def test_closed_ranges_in_brand_toml_are_validated(tmp_path, run_cli):
    root = copy_example(tmp_path, (*EXAMPLE_PARTS, "data"))
    toml = root / "brands/harbour/brand.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text.replace('closed = ["2026-12-25..2026-12-28", "2027-01-01", "2027-04-02"]',
                                 'closed = ["2027-01-02..2026-12-24"]'), encoding="utf-8")
    result = run_cli(["check"], cwd=root)
    assert result.exit_code != 0
    assert "brands/harbour/brand.toml:9: closed" in result.stderr
    assert "the range ends before it starts" in result.stderr


# ------------------------------------------------------------------ appointments

def test_booked_pins_and_cancelled_removes():
    athlete = runner()
    rules = rules_for(athlete)
    plain = plan(athlete, rules, OPEN)
    maint = [s for s in plain.sessions if s.kind == "maintenance"]
    # the clinic booked the third maintenance session a day later, at 08:00, cancelled the
    # fifth, and booked the pre-race session on the Wednesday
    moved = maint[2].date + DAY
    wednesday = RACE - 4 * DAY
    bookings = [booking(moved, "maintenance", time="08:00"),
                booking(maint[4].date, "maintenance", "cancelled", line=3),
                booking(wednesday, "pre-race", line=4)]
    fit, problems = check_bookings(bookings, athlete, OPEN, athlete.training_start,
                                   {r.kind for r in rules})
    assert problems == []
    tl = plan(athlete, rules, OPEN, None, fit)
    by_key = {s.key: s for s in tl.sessions}
    assert by_key[maint[2].key].date == moved and by_key[maint[2].key].time == "08:00"
    assert by_key[maint[2].key].booked
    assert maint[4].key not in by_key and tl.cancelled == (maint[4].date,)
    assert by_key["pre-race.0"].date == wednesday and by_key["pre-race.0"].booked
    assert_rules_hold(tl, athlete, OPEN, athlete.training_start)


def test_bookings_that_break_a_rule_are_errors_at_their_rows(tmp_path, run_cli):
    root = copy_example(tmp_path, (*EXAMPLE_PARTS, "data"))
    (root / "appointments.csv").write_text(
        "id,date,time,kind,status\n"
        "hb-zoe-01,2027-04-18,10:00,post-race,booked\n"  # race day
        "hb-zoe-01,2027-04-14,10:00,maintenance,booked\n"  # deep work in race week
        "hb-zoe-01,2026-12-28,,maintenance,booked\n"  # clinic closed (holidays)
        "nobody-99,2027-02-02,,maintenance,booked\n"  # unknown runner
        "hb-zoe-01,2027-02-02,08:00,maintenance,booked\n"  # fine
        "hb-zoe-01,2027-02-30,,maintenance,booked\n",  # not a date
        encoding="utf-8")
    result = run_cli(["check", "data/athletes.csv", "--appointments", "appointments.csv"],
                     cwd=root)
    assert result.exit_code == 1, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("appointments")]
    assert [line.split(": ")[0] for line in lines] == [
        "appointments.csv:5", "appointments.csv:7",  # load: unknown id, bad date
        "appointments.csv:2", "appointments.csv:3", "appointments.csv:4"]  # plan: rules
    text = "\n".join(lines)
    assert "no massage on race day" in text
    assert "deep work in the race week" in text
    assert "the clinic is closed on 2026-12-28" in text
    assert "unknown runner id 'nobody-99'" in text
    timeline = run_cli(["timeline", "data/athletes.csv", "--id", "hb-zoe-01", "--json",
                        "--appointments", "appointments.csv"], cwd=root)
    import json

    sessions = json.loads(timeline.stdout)[0]["sessions"]
    booked = [s for s in sessions if s["booked"]]
    assert [(s["date"], s["time"]) for s in booked] == [("2027-02-02", "08:00")]


def test_appointments_file_from_guidegen_toml(tmp_path):
    root = copy_example(tmp_path, (*EXAMPLE_PARTS, "data"))
    (root / "bookings.csv").write_text("id,date,time,kind,status\n"
                                       "hb-zoe-01,2027-04-14,09:00,pre-race,booked\n",
                                       encoding="utf-8")
    toml = root / "guidegen.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        'roster = "data/athletes.csv"\n',
        'roster = "data/athletes.csv"\nappointments = "bookings.csv"\n'), encoding="utf-8")
    inputs = load_inputs(load_project(root), root / "data/athletes.csv",
                         BuildContext.from_env({}, dt.date(2026, 9, 21)))
    zoe = next(a for a in inputs.athletes if a.id == "hb-zoe-01")
    pre = [s for s in plan_guide(inputs, zoe).timeline.sessions if s.kind == "pre-race"]
    assert [(s.date, s.time, s.booked) for s in pre] == [(dt.date(2027, 4, 14), "09:00", True)]


def test_appointments_file_problems_are_located(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("id,date,kind\nx,2027-01-05,massage\n,2027-01-05,maintenance\n"
                    "x,2027-01-05,maintenance\n", encoding="utf-8")
    found, problems = load_appointments(path, tmp_path, {"x"})
    assert [str(p) for p in problems] == [
        "a.csv:2: kind: 'massage' is not a session kind (use maintenance, pre-race, "
        "post-race)",
        "a.csv:3: id: missing id"]
    assert [(a.date, a.status) for a in found["x"]] == [(dt.date(2027, 1, 5), "booked")]


@st.composite
def scenario(draw):
    start = RACE - draw(st.integers(7, 140)) * DAY
    days = draw(st.sets(st.sampled_from(WEEKDAYS), max_size=3))
    open_days = draw(st.sets(st.sampled_from(WEEKDAYS), min_size=1, max_size=7))
    closures = []
    for _ in range(draw(st.integers(0, 3))):
        first = RACE + draw(st.integers(-120, 5)) * DAY
        closures.append((first, first + draw(st.integers(0, 10)) * DAY))
    cal = Calendar.from_names(sorted(open_days, key=WEEKDAYS.index), "17:30",
                              "Europe/London", closures)
    bookings = [booking(RACE + draw(st.integers(-130, 5)) * DAY,
                        draw(st.sampled_from(["maintenance", "pre-race", "post-race"])),
                        draw(st.sampled_from(["booked", "booked", "cancelled"])), line=i + 2)
                for i in range(draw(st.integers(0, 6)))]
    athlete = runner(preferred_days=";".join(sorted(days)),
                     massage_frequency=draw(st.sampled_from(["weekly", "biweekly", "auto"])),
                     distance=draw(st.sampled_from(["marathon", "half-marathon", "ultra"])))
    return athlete, cal, start, bookings


@settings(max_examples=300, deadline=None)
@given(scenario())
def test_every_rule_holds_with_any_start_preferences_closures_and_bookings(case):
    athlete, cal, start, bookings = case
    rules = rules_for(athlete)
    first = max(athlete.training_start, start)
    fit, problems = check_bookings(bookings, athlete, cal, first, {r.kind for r in rules})
    assert len(fit) + len(problems) == len(bookings)
    tl = plan(athlete, rules, cal, start, fit)
    assert_rules_hold(tl, athlete, cal, first)
    booked = {(b.date, b.kind) for b in fit if b.status == "booked"}
    cancelled = {b.date for b in fit if b.status == "cancelled"}
    sessions = {(s.date, s.kind) for s in tl.sessions}
    assert booked - {(d, k) for d, k in booked if d in cancelled} <= sessions
    assert not {s.date for s in tl.sessions if s.kind != "race"} & cancelled
