"""Roster loading: CSV / YAML / JSON, Unicode names, one located line per bad row."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pytest

from generator.load.roster import default_id, load_roster

BRANDS = {"harbour", "summit"}
HEADER = "id,name,email,race_name,race_date,distance,training_start,brand,focus_areas"
GOOD_ROW = "ok-1,Good Runner,good@example.com,Marathon,2027-04-18,marathon,,harbour,calves"


def _csv(tmp_path, *rows: str, name: str = "roster.csv"):
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return load_roster(path, BRANDS, tmp_path)


def _errors(problems):
    return [str(p) for p in problems if p.severity == "error"]


# ------------------------------------------------------------------ the example rosters

@pytest.mark.parametrize(
    ("name", "count"), [("athletes.csv", 18), ("athletes.yaml", 3), ("athletes.json", 3)]
)
def test_example_rosters_load_without_errors(example_root, name, count):
    athletes, problems = load_roster(example_root / "data" / name, BRANDS, example_root)
    assert _errors(problems) == []
    assert len(athletes) == count
    assert len({a.id for a in athletes}) == count


def test_csv_example_matches_its_file_cell_for_cell(example_root):
    path = example_root / "data/athletes.csv"
    athletes, _ = load_roster(path, BRANDS, example_root)
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [a.name for a in athletes] == [r["name"] for r in rows]
    assert [a.race_date.isoformat() for a in athletes] == [r["race_date"] for r in rows]


def test_non_latin_names_survive_intact(example_root):
    names = set()
    for file in ("athletes.csv", "athletes.yaml", "athletes.json"):
        athletes, _ = load_roster(example_root / "data" / file, BRANDS, example_root)
        names |= {a.name for a in athletes}
    for expected in ("田中 花子", "ليلى حداد", "Maya Patel 🏃‍♀️", "Zoë Ó Briain",
                     "Олександр Коваль", "김지호", "佐藤 健二", "أمير نصر", "Søren Ødegård"):
        assert expected in names


@pytest.mark.parametrize("name", ["Zoë Ó Briain", "田中 花子", "ليلى حداد", "Maya 🏃‍♀️ Patel",
                                  "Nguyễn Thị Minh Khai", "e\u0301milie"])
@pytest.mark.parametrize("fmt", ["csv", "yaml", "json"])
def test_unicode_name_round_trips_in_every_format(tmp_path, name, fmt):
    record = {"id": "u-1", "name": name, "race_name": "Marathon", "race_date": "2027-04-18"}
    path = tmp_path / f"roster.{fmt}"
    if fmt == "csv":
        path.write_text("id,name,race_name,race_date\n"
                        f"u-1,{name},Marathon,2027-04-18\n", encoding="utf-8")
    elif fmt == "json":
        path.write_text(json.dumps([record], ensure_ascii=False), encoding="utf-8")
    else:
        path.write_text(f"- id: u-1\n  name: \"{name}\"\n  race_name: Marathon\n"
                        "  race_date: 2027-04-18\n", encoding="utf-8")
    athletes, problems = load_roster(path, None, tmp_path)
    assert _errors(problems) == []
    assert [a.name for a in athletes] == [name]  # byte-for-byte: no normalisation


def test_yaml_and_json_rosters_read_lists_and_dates(example_root):
    athletes, _ = load_roster(example_root / "data/athletes.yaml", BRANDS, example_root)
    clara = next(a for a in athletes if a.id == "yml-clara-01")
    assert clara.focus_areas == ("calves", "feet")
    assert clara.race_date == dt.date(2027, 4, 18)
    kenji = next(a for a in athletes if a.id == "yml-kenji-02")
    assert kenji.training_start == dt.date(2027, 1, 3)
    athletes, _ = load_roster(example_root / "data/athletes.json", BRANDS, example_root)
    eva = next(a for a in athletes if a.id == "json-eva-02")
    assert eva.training_start == dt.date(2027, 5, 23)
    assert eva.notes == 'Quotes "and" commas, plus <i>markup</i> & ampersands.'


# ------------------------------------------------------------------ defaults

def test_row_without_id_gets_slug_of_name_plus_race_date(tmp_path):
    athletes, problems = _csv(tmp_path, ",Émile Durand,,Half,2027-03-07,,,,")
    assert _errors(problems) == []
    assert [a.id for a in athletes] == ["emile-durand-2027-03-07"]


def test_non_latin_name_without_id_gets_a_safe_stable_id(tmp_path):
    athletes, _ = _csv(tmp_path, ",田中 花子,,Half,2027-03-07,,,,")
    (athlete,) = athletes
    assert athlete.id == default_id("田中 花子", "2027-03-07")
    assert athlete.id.startswith("runner-") and athlete.id.endswith("-2027-03-07")


def test_default_training_start_is_sixteen_weeks_before_the_race(tmp_path):
    athletes, _ = _csv(tmp_path, GOOD_ROW)
    assert athletes[0].training_start == dt.date(2027, 4, 18) - dt.timedelta(weeks=16)
    assert athletes[0].training_start == dt.date(2026, 12, 27)


def test_defaults_for_distance_experience_and_frequency(tmp_path):
    athletes, _ = _csv(tmp_path, "d-1,D,,Marathon,2027-04-18,,,,")
    (a,) = athletes
    assert (a.distance, a.experience, a.massage_frequency) == ("marathon", "first", "auto")
    assert a.long_run_day is None and a.brand is None and a.focus_areas == ()


def test_focus_areas_split_on_semicolons(tmp_path):
    athletes, _ = _csv(tmp_path, "f-1,F,,Marathon,2027-04-18,,,,calves; Lower Back;;feet")
    assert athletes[0].focus_areas == ("calves", "lower back", "feet")


# ------------------------------------------------------------------ one located line per bad row

BAD_ROWS = [
    ("bad-date", "b-1,B,,Marathon,2027-02-30,,,,",
     "race_date: 2027-02-30 is not a real calendar date"),
    ("missing-name", "b-1,,,Marathon,2027-04-18,,,,", "name: required field is missing"),
    ("missing-name-and-id", ",,,Marathon,2027-04-18,,,,", "name: required field is missing"),
    ("start-after-race", "b-1,B,,Marathon,2027-04-18,,2027-05-01,,",
     "training_start: must be before race_date (got '2027-05-01')"),
    ("start-on-race-day", "b-1,B,,Marathon,2027-04-18,,2027-04-18,,",
     "training_start: must be before race_date (got '2027-04-18')"),
    ("unknown-distance", "b-1,B,,Marathon,2027-04-18,sprint,,,",
     "distance: must be 'marathon', 'half-marathon' or 'ultra' (got 'sprint')"),
    ("id-with-slash", "a/b,B,,Marathon,2027-04-18,,,,",
     "id: must be 1-64 of A-Z a-z 0-9 _ - (it names output files) (got 'a/b')"),
    ("id-with-dotdot", "..,B,,Marathon,2027-04-18,,,,",
     "id: must be 1-64 of A-Z a-z 0-9 _ - (it names output files) (got '..')"),
    ("name-not-text-bell", "b-1,B\x07,,Marathon,2027-04-18,,,,",
     "name: contains control characters (got 'B\\x07')"),
    ("unknown-brand", "b-1,B,,Marathon,2027-04-18,,,nowhere,",
     "brand: unknown brand 'nowhere' (known: harbour, summit)"),
    ("duplicate-id", "ok-1,Again,,Marathon,2027-04-18,,,,",
     "id: duplicate id 'ok-1' (first on row 2)"),
    ("too-few-cells", "b-1,B,,Marathon", "row has 4 cells but the header has 9"),
    ("too-many-cells", "b-1,B,,Marathon,2027-04-18,,,,,extra",
     "row has 10 cells but the header has 9"),
]


def test_every_problem_of_a_bad_row_is_a_located_line_of_its_own(tmp_path):
    """A row with several bad fields: each one named (a clinic fixes the row in one go),
    on the row's line, in the fields' order; the row is skipped, the others load."""
    athletes, problems = _csv(tmp_path, GOOD_ROW, ",,not-an-email,Marathon,2027-02-30,sprint,,,",
                              "ok-3,Third Runner,,Marathon,2027-05-02,half-marathon,,summit,")
    assert _errors(problems) == [
        "roster.csv:3: name: required field is missing",
        "roster.csv:3: email: not a valid email address (got 'not-an-email')",
        "roster.csv:3: race_date: 2027-02-30 is not a real calendar date",
        "roster.csv:3: distance: must be 'marathon', 'half-marathon' or 'ultra' "
        "(got 'sprint')"]
    assert [a.id for a in athletes] == ["ok-1", "ok-3"]


@pytest.mark.parametrize(("row", "message"), [(r, m) for _, r, m in BAD_ROWS],
                         ids=[i for i, _, _ in BAD_ROWS])
def test_bad_row_is_one_located_line_and_other_rows_still_load(tmp_path, row, message):
    last = "ok-3,Third Runner,,Marathon,2027-05-02,half-marathon,,summit,"
    athletes, problems = _csv(tmp_path, GOOD_ROW, row, last)
    assert _errors(problems) == [f"roster.csv:3: {message}"]
    assert [a.id for a in athletes] == ["ok-1", "ok-3"]


def test_row_numbers_count_file_lines_across_multiline_cells(tmp_path):
    athletes, problems = _csv(
        tmp_path,
        GOOD_ROW,
        'ok-2,Two,,Marathon,2027-04-18,,,,"calves"',
        "",  # a blank line is skipped but still counted
        'ok-4,Four,,Race,2027-04-18,,,,"calves;\nfeet;\nhips"',  # one row, three lines
        "bad,B,,Marathon,2027-13-01,,,,",
    )
    assert _errors(problems) == ["roster.csv:8: race_date: 2027-13-01 is not a real calendar date"]
    assert [a.id for a in athletes] == ["ok-1", "ok-2", "ok-4"]


def test_several_bad_rows_each_get_their_own_line(tmp_path):
    athletes, problems = _csv(
        tmp_path,
        "b-1,B,,Marathon,2027-02-30,,,,",
        GOOD_ROW,
        "b-2,B,,Marathon,2027-04-18,moon,,,",
    )
    assert _errors(problems) == [
        "roster.csv:2: race_date: 2027-02-30 is not a real calendar date",
        "roster.csv:4: distance: must be 'marathon', 'half-marathon' or 'ultra' "
        "(got 'moon')",
    ]
    assert [a.id for a in athletes] == ["ok-1"]


def test_not_an_iso_date_names_the_value(tmp_path):
    _, problems = _csv(tmp_path, "b-1,B,,Marathon,18/04/2027,,,,")
    assert _errors(problems) == [
        "roster.csv:2: race_date: must be an ISO date YYYY-MM-DD (got '18/04/2027')"
    ]


def test_yaml_bad_row_is_located_at_its_list_item(tmp_path):
    path = tmp_path / "roster.yaml"
    path.write_text(
        "# comment line\n"
        "- id: y-1\n  name: One\n  race_name: M\n  race_date: 2027-04-18\n"
        "- id: y-2\n  name: Two\n  race_name: M\n  race_date: 2027-02-30\n"
        "- id: y-3\n  name: Three\n  race_name: M\n  race_date: 2027-04-18\n"
        "  brand: nowhere\n",
        encoding="utf-8",
    )
    athletes, problems = load_roster(path, BRANDS, tmp_path)
    assert _errors(problems) == [
        "roster.yaml:6: race_date: 2027-02-30 is not a real calendar date",
        "roster.yaml:10: brand: unknown brand 'nowhere' (known: harbour, summit)",
    ]
    assert [a.id for a in athletes] == ["y-1"]


def test_json_bad_row_is_located_at_its_object(tmp_path):
    path = tmp_path / "roster.json"
    rows = [
        {"id": "j-1", "name": "One", "race_name": "M", "race_date": "2027-04-18"},
        {"id": "j-2", "name": "Two", "race_name": "M", "race_date": "2027-04-18",
         "distance": "sprint"},
        {"id": "j-3", "name": "Three", "race_name": "M", "race_date": "2027-04-18",
         "colour": "red"},
    ]
    path.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    athletes, problems = load_roster(path, BRANDS, tmp_path)
    text_lines = path.read_text().splitlines()
    second = next(i for i, t in enumerate(text_lines, 1) if '"j-2"' in t) - 1
    third = next(i for i, t in enumerate(text_lines, 1) if '"j-3"' in t) - 1
    assert _errors(problems) == [
        f"roster.json:{second}: distance: must be 'marathon', 'half-marathon' or "
        "'ultra' (got 'sprint')",
        f"roster.json:{third}: colour: unknown field",
    ]
    assert [a.id for a in athletes] == ["j-1"]


def test_invalid_json_file_is_one_located_error(tmp_path):
    path = tmp_path / "roster.json"
    path.write_text('[\n  {"id": "x",}\n]\n', encoding="utf-8")
    athletes, problems = load_roster(path, BRANDS, tmp_path)
    assert athletes == []
    assert len(problems) == 1
    assert str(problems[0]).startswith("roster.json:2: invalid JSON: ")


def test_missing_required_column_is_reported_on_the_header(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("id,name,race_date\nx,X,2027-04-18\n", encoding="utf-8")
    athletes, problems = load_roster(path, BRANDS, tmp_path)
    assert athletes == []
    assert _errors(problems) == ["roster.csv:1: missing required column: race_name"]


def test_unknown_column_is_a_warning_and_rows_still_load(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("id,name,race_name,race_date,shoe_size\nx,X,M,2027-04-18,44\n",
                    encoding="utf-8")
    athletes, problems = load_roster(path, BRANDS, tmp_path)
    assert [a.id for a in athletes] == ["x"]
    assert _errors(problems) == []
    assert [p.line for p in problems if p.severity == "warning"] == [1]


def test_missing_roster_file_is_a_problem_not_a_crash(tmp_path):
    athletes, problems = load_roster(tmp_path / "nope.csv", BRANDS, tmp_path)
    assert athletes == []
    assert [str(p) for p in problems] == ["nope.csv: roster file not found"]


def test_yaml_scalars_stay_text_like_csv_cells(tmp_path):
    """`id: 12345` is a valid id and `locale: no` is Norwegian, not False."""
    path = tmp_path / "roster.yaml"
    path.write_text("- id: 12345\n  name: Yes\n  race_name: 1984\n  race_date: 2027-04-18\n"
                    "  locale: no\n  email: ~\n", encoding="utf-8")
    athletes, problems = load_roster(path, BRANDS, tmp_path)
    assert _errors(problems) == []
    (a,) = athletes
    assert (a.id, a.name, a.race_name, a.locale, a.email) == ("12345", "Yes", "1984", "no", None)


def test_json_numeric_id_is_read_as_text(tmp_path):
    path = tmp_path / "roster.json"
    path.write_text('[{"id": 12345, "name": "N", "race_name": "M", "race_date": "2027-04-18"}]',
                    encoding="utf-8")
    athletes, problems = load_roster(path, BRANDS, tmp_path)
    assert _errors(problems) == []
    assert [a.id for a in athletes] == ["12345"]


@pytest.mark.parametrize("field", ["name", "race_name"])
def test_line_breaks_in_single_line_fields_are_refused(tmp_path, field):
    """A name goes into email headers: 'Eve\\r\\nBcc: x' must never load."""
    cells = {"name": "Ok", "race_name": "Race"}
    cells[field] = '"Eve\r\nBcc: victim@evil.example"'
    path = tmp_path / "roster.csv"
    path.write_text("id,name,race_name,race_date\n"
                    f"e-1,{cells['name']},{cells['race_name']},2027-04-18\n"
                    "ok-2,Ada,Race,2027-04-18\n", encoding="utf-8", newline="")
    athletes, problems = load_roster(path, BRANDS, tmp_path)
    assert _errors(problems) == [
        f"roster.csv:2: {field}: contains control characters (line breaks or tabs) "
        "(got 'Eve\\r\\nBcc: victim@evil.example')"]
    assert [a.id for a in athletes] == ["ok-2"]


def test_notes_may_span_lines(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text('id,name,race_name,race_date,notes\nn-1,N,R,2027-04-18,"one\r\ntwo"\n',
                    encoding="utf-8", newline="")
    athletes, problems = load_roster(path, BRANDS, tmp_path)
    assert _errors(problems) == []
    assert athletes[0].notes == "one\ntwo"
