"""Fuzzing the loaders: whatever the bytes, only located one-line problems, never a crash.

Hypothesis writes rosters (CSV text from random cells: any Unicode, control
characters, huge strings, formula prefixes, quotes and delimiters; raw bytes;
YAML and JSON lists of random values) and content modules (YAML-ish front matter
from random tokens, and random nested data), and checks that:

- the loaders return; they never raise,
- every problem is one line, names the file, and points at a line that exists,
- every athlete they accept can be planned, and the plan keeps its basic promises
  (tests/test_timeline.py proves the planning rules in depth).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import tempfile
import unicodedata
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.core.errors import Problem
from generator.load.content import parse_module
from generator.load.roster import FIELDS, load_roster
from generator.plan.timeline import WEEKDAYS, Calendar, Rule, plan

# a longer campaign: GUIDEGEN_FUZZ_EXAMPLES=5000 pytest tests/test_fuzz.py
FUZZ = settings(max_examples=int(os.environ.get("GUIDEGEN_FUZZ_EXAMPLES", "120")),
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
BRANDS = {"clinic", "other"}
RULES = (Rule("maintenance", "moderate", 60, (0, 0), 10, "athlete", "training"),
         Rule("pre-race", "light", 45, (3, 5), 10, "athlete", "race-days"),
         Rule("post-race", "light", 45, (1, 3), 10, "athlete", "race-days"))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = Path(tempfile.mkdtemp(dir=folder)) / name
    path.write_bytes(data)
    return path


BIDI_CONTROLS = {"\u200e", "\u200f", *map(chr, range(0x202a, 0x202f)),
                 *map(chr, range(0x2066, 0x206a))}


def assert_located(problems: list[Problem], path: Path, text: str) -> None:
    last_line = len(text.splitlines()) + 1
    for problem in problems:
        line = str(problem)
        assert len(line.splitlines()) == 1, repr(line)
        assert not [c for c in line if unicodedata.category(c) in ("Cc", "Zl", "Zp")
                    or c in BIDI_CONTROLS], repr(line)
        assert problem.path == str(path), problem
        assert line.startswith(f"{path}:"), line
        assert problem.line is None or 1 <= problem.line <= last_line, (problem, last_line)
        assert problem.severity in ("error", "warning")


def assert_plannable(athletes, open_days: frozenset[str]) -> None:
    calendar = Calendar.from_names(sorted(open_days, key=WEEKDAYS.index), "17:30",
                                   "Europe/London")
    for athlete in athletes:
        timeline = plan(athlete, RULES, calendar)
        days = [s.date for s in timeline.sessions]
        assert len(days) == len(set(days)), "at most one a day"
        assert [s.kind for s in timeline.sessions if s.date == athlete.race_date] == ["race"]
        for session in timeline.sessions:
            assert athlete.training_start <= session.date
            assert session.date <= athlete.race_date + dt.timedelta(days=14)
            if session.kind != "race":
                assert calendar.is_open(session.date)
        for warning in timeline.warnings:
            assert len(warning.splitlines()) == 1


# ---------------------------------------------------------------- cells and rows

NASTY = st.sampled_from([
    "=HYPERLINK(\"http://x\")", "+1", "-cmd|' /C calc'!A0", "@SUM(A1)", "\t=1", "\r=1",
    "\x00", "\x1b[31m", "\u2028", "\u202e", "\ufeff", "\ud7ff", "﷽" * 50, "🏃‍♀️" * 30,
    '"', '""', ",", ";", "\n", "\r\n", "\r", "x" * 10_000, "y" * 140_000,
    "2027-02-30", "2027-04-18", "0001-01-01", "9999-12-31", "1900-01-01", "2027-4-18",
    "con", "LPT1", "../x", "a/b", "weekly", "biweekly", "auto", "sun", "mon", "ultra",
    "half-marathon", "first", "competitive", "clinic", "other", "Europe/London",
    "America/Denver", "Mars/Base", "en", "en-GB", "calves;hips", "<b>x</b>",
    "a@example.com", "not-an-email", "", " ", "  padded  ",
])
CELL = st.one_of(NASTY, st.text(max_size=40), st.text(st.characters(codec="utf-8"),
                                                        max_size=200))
# YAML is parsed in pure Python: huge cells belong to the CSV fuzzing above
SMALL_CELL = CELL.map(lambda s: s[:300])
DATES = st.dates(dt.date(2020, 1, 1), dt.date(2035, 12, 31)).map(dt.date.isoformat)


@st.composite
def rows(draw) -> dict[str, str]:
    """A mostly plausible row (so that some load and get planned) with random damage."""
    race = draw(st.dates(dt.date(2024, 1, 1), dt.date(2032, 12, 31)))
    row = {
        "id": draw(st.one_of(st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True), CELL)),
        "name": draw(st.one_of(st.text(min_size=1, max_size=30), CELL)),
        "race_name": draw(st.one_of(st.just("City Marathon"), CELL)),
        "race_date": draw(st.one_of(st.just(race.isoformat()), DATES, CELL)),
        "training_start": draw(st.one_of(
            st.just(""), st.integers(1, 400).map(lambda n: (race - dt.timedelta(n))
                                                 .isoformat()), CELL)),
    }
    for field in FIELDS:
        if field not in row and draw(st.booleans()):
            row[field] = draw(CELL)
    return row


@st.composite
def csv_rosters(draw) -> bytes:
    header = draw(st.one_of(
        st.just(["id", "name", "race_name", "race_date", "training_start"]),
        st.permutations(list(FIELDS)).map(list),
        st.lists(st.one_of(st.sampled_from(FIELDS), CELL), max_size=8)))
    sep = draw(st.sampled_from([",", ";"]))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator=draw(st.sampled_from(
        ["\n", "\r\n", "\r"])))
    writer.writerow(header)
    for row in draw(st.lists(rows(), max_size=6)):
        cells = [row.get(h, draw(CELL)) for h in header]
        if draw(st.integers(0, 9)) == 0:  # a ragged row
            cells = cells[:-1] if cells and draw(st.booleans()) else [*cells, "extra"]
        writer.writerow(cells)
    text = buffer.getvalue()
    if draw(st.integers(0, 4)) == 0:  # cut anywhere, even inside a quoted cell
        text = text[:draw(st.integers(0, len(text)))]
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1"]))
    return text.encode(encoding, errors="replace")


@FUZZ
@given(data=csv_rosters(), open_days=st.frozensets(st.sampled_from(WEEKDAYS), min_size=1))
def test_any_csv_roster_gives_athletes_or_located_one_line_problems(workdir, data, open_days):
    path = _write(workdir, "roster.csv", data)
    athletes, problems = load_roster(path, BRANDS)
    assert_located(problems, path, data.decode("utf-8", errors="replace"))
    assert len({a.id for a in athletes}) == len(athletes)
    assert all(a.brand in (None, *BRANDS) for a in athletes)
    assert_plannable(athletes, open_days)


@FUZZ
@given(data=st.binary(max_size=2000), suffix=st.sampled_from(["csv", "yaml", "json"]))
def test_any_bytes_never_crash_a_roster_loader(workdir, data, suffix):
    path = _write(workdir, f"roster.{suffix}", data)
    athletes, problems = load_roster(path, BRANDS)
    assert_located(problems, path, data.decode("utf-8", errors="replace"))
    assert_plannable(athletes, frozenset(WEEKDAYS))


# ---------------------------------------------------------------- structured rosters

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                    SMALL_CELL, DATES)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12)


@st.composite
def structured_rows(draw):
    row = {k: v[:300] for k, v in draw(rows()).items()}
    for key in draw(st.lists(st.sampled_from(FIELDS), max_size=3)):
        row[key] = draw(VALUES)  # wrong types where text is expected
    if draw(st.integers(0, 5)) == 0:
        row[draw(st.text(max_size=10))] = draw(VALUES)
    return row if draw(st.integers(0, 9)) else draw(VALUES)


@FUZZ
@given(items=st.lists(structured_rows(), max_size=5), wrapped=st.booleans(),
       as_yaml=st.booleans())
def test_any_yaml_or_json_roster_gives_located_one_line_problems(workdir, items, wrapped,
                                                                 as_yaml):
    document = {"athletes": items} if wrapped else items
    if as_yaml:
        text = yaml.safe_dump(document, allow_unicode=True)
        path = _write(workdir, "roster.yaml", text.encode("utf-8"))
    else:
        text = json.dumps(document, ensure_ascii=False, indent=1)
        path = _write(workdir, "roster.json", text.encode("utf-8", errors="surrogatepass"))
    athletes, problems = load_roster(path, BRANDS)
    assert_located(problems, path, text)
    assert_plannable(athletes, frozenset(["tue", "thu", "sat"]))


# ---------------------------------------------------------------- front matter

TOKENS = st.sampled_from([
    "title", "slug", "order", "summary", "tags", "draft", "audience", "when", "sessions",
    "kind", "pressure", "days_before", "days_after", "every", "stop_days_before", "duration",
    "maintenance", "pre-race", "post-race", "light", "firm", ": ", ":", "- ", "-", "[", "]",
    "{", "}", ",", "&a ", "*a", "&b ", "*b", "<<: ", "!!str ", "!!python/object:os.system ",
    "!!binary ", "'", '"', "|", ">", "#", "%YAML 1.1", "---", "...", "\n", "\n  ", "\n    ",
    "\t", " ", "2027-02-30", "2027-04-18", "yes", "no", "~", "null", "1e9", "0x1F", "-1",
    "[3, 5]", "[0, 99]", "\x00", "\x85", "\u2028", "\ufeff", "é", "🏃",
])
FRONT_MATTER_KEYS = st.sampled_from(["title", "slug", "order", "summary", "tags", "draft",
                                     "audience", "when", "sessions", "unknown"])


@FUZZ
@given(tokens=st.lists(TOKENS, max_size=60), body=st.text(max_size=300))
def test_any_yaml_ish_front_matter_gives_located_one_line_problems(workdir, tokens, body):
    text = "---\n" + "".join(tokens) + "\n---\n" + body
    path = _write(workdir, "module.md", text.encode("utf-8"))
    module, problems = parse_module(path, str(path))
    assert (module is None) == bool(problems)
    assert_located(problems, path, text)


@FUZZ
@given(meta=st.dictionaries(FRONT_MATTER_KEYS, VALUES, max_size=6),
       title=st.one_of(st.none(), st.text(max_size=30)), body=st.text(max_size=300))
def test_any_front_matter_data_gives_a_module_or_located_problems(workdir, meta, title, body):
    if title is not None:
        meta["title"] = title
    text = "---\n" + yaml.safe_dump(meta, allow_unicode=True) + "---\n" + body
    path = _write(workdir, "module.md", text.encode("utf-8", errors="surrogatepass"))
    module, problems = parse_module(path, str(path))
    assert (module is None) == bool(problems)
    assert_located(problems, path, text)
    if module is not None:
        assert "<script" not in module.html.lower()
