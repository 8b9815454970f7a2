"""Rosters as spreadsheets really export them: UTF-16 "Unicode text", tabs, bad addresses.

Excel's "Unicode text" is UTF-16 (little-endian, with a byte-order mark), tab-separated,
with CRLF line ends, saved as ``.txt``; other tools write UTF-16 big-endian or ``.tsv``.
Each must load exactly like the same roster saved as UTF-8 CSV. A runner whose address
is not valid still gets their guide: only the email is dropped, with a warning at its
row that shows the value. Row messages show the offending value.
"""

from __future__ import annotations

import codecs
import csv
import io
import re

import pytest
from conftest import copy_example

from generator.load.roster import load_roster

HEADER = ["id", "name", "email", "race_name", "race_date", "focus_areas", "notes"]
ROWS = [
    ["zoe-01", "Zoë Ó Briain", "zoe@example.com", "Solent Coastal Marathon", "2027-04-18",
     "calves;hamstrings", 'Said: "left calf", then\nleft\tit there.'],
    ["hanako-02", "田中 花子", "", "Front Range Marathon", "2027-05-23", "", ""],
    ["layla-03", "ليلى حداد", "layla@example.com", "Half, with; separators", "2027-06-13",
     "quads", ""],
]
EXPECTED = [("zoe-01", "Zoë Ó Briain", "zoe@example.com", ("calves", "hamstrings"),
             'Said: "left calf", then\nleft\tit there.'),
            ("hanako-02", "田中 花子", None, (), None),
            ("layla-03", "ليلى حداد", "layla@example.com", ("quads",), None)]


def table(*rows: list[str], sep: str = "\t", header: list[str] = HEADER,
          newline: str = "\r\n") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator=newline)
    for row in (header, *rows):
        writer.writerow(row)
    return buffer.getvalue()


def load(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return load_roster(path, None, tmp_path)


def summary(athletes) -> list[tuple]:
    return [(a.id, a.name, a.email, a.focus_areas, a.notes) for a in athletes]


# ---------------------------------------------------------------- encodings and delimiters

EXPORTS = {
    # name: (file name, bytes)
    "excel-unicode-text": ("roster.txt", codecs.BOM_UTF16_LE + table(*ROWS).encode("utf-16-le")),
    "utf16-be-bom-csv": ("roster.csv",
                         codecs.BOM_UTF16_BE + table(*ROWS, sep=",").encode("utf-16-be")),
    "utf16-le-semicolon": ("roster.csv", codecs.BOM_UTF16_LE
                           + table(*ROWS, sep=";", newline="\n").encode("utf-16-le")),
    "utf16-via-python-codec": ("roster.txt", table(*ROWS).encode("utf-16")),  # BOM + native
    "utf8-tsv": ("roster.tsv", table(*ROWS, newline="\n").encode("utf-8")),
    "utf8-bom-tab-txt": ("roster.txt", codecs.BOM_UTF8 + table(*ROWS).encode("utf-8")),
}


@pytest.mark.parametrize("name", EXPORTS)
def test_every_export_loads_like_the_utf8_csv(tmp_path, name):
    file_name, data = EXPORTS[name]
    athletes, problems = load(tmp_path, file_name, data)
    assert [str(p) for p in problems] == []
    assert summary(athletes) == EXPECTED


def test_a_tab_separated_windows_1252_export_loads_with_the_usual_warning(tmp_path):
    rows = [r for r in ROWS if r[0] != "hanako-02" and r[0] != "layla-03"]
    athletes, problems = load(tmp_path, "roster.txt", table(*rows).encode("cp1252"))
    assert [a.name for a in athletes] == ["Zoë Ó Briain"]
    assert [str(p) for p in problems] == [
        "roster.txt:2: warning: file is not UTF-8; read it as Latin-1/Windows-1252 "
        "(save as 'CSV UTF-8' to silence this)"]


def test_rows_of_a_utf16_file_are_located_at_their_lines(tmp_path):
    rows = [*ROWS, ["bad-04", "Bad Date", "", "Marathon", "2027-02-30", "", ""]]
    athletes, problems = load(tmp_path, "roster.txt",
                              codecs.BOM_UTF16_LE + table(*rows).encode("utf-16-le"))
    assert len(athletes) == 3
    # Zoë's notes span two lines, so the fourth row starts on line 6
    assert [str(p) for p in problems] == [
        "roster.txt:6: race_date: 2027-02-30 is not a real calendar date"]


def test_a_utf16_file_cut_short_is_a_warning_not_a_crash(tmp_path):
    data = codecs.BOM_UTF16_LE + table(*ROWS).encode("utf-16-le")
    athletes, problems = load(tmp_path, "roster.txt", data[:-1])  # half a character left
    assert [a.id for a in athletes] == ["zoe-01", "hanako-02", "layla-03"]
    warnings = [str(p) for p in problems if p.severity == "warning"]
    assert len(warnings) == 1
    assert re.match(r"roster\.txt:\d+: warning: file starts like UTF-16 but is not valid",
                    warnings[0])


def test_the_delimiter_is_the_one_the_header_uses_most(tmp_path):
    tabs = "id\tname\trace_name\trace_date\tshoe, EU\nx-1\tAnn, B.\tRace; Big\t2027-04-18\t38\n"
    athletes, problems = load(tmp_path, "tabs.txt", tabs.encode("utf-8"))
    assert [(a.name, a.race_name) for a in athletes] == [("Ann, B.", "Race; Big")]
    assert [p.message.split(" (")[0] for p in problems] == ["unknown column 'shoe, eu' ignored"]
    semis = "id;name;race_name;race_date\nx-1;Ann, B.;Race, Big;2027-04-18\n"
    athletes, problems = load(tmp_path, "semi.csv", semis.encode("utf-8"))
    assert not problems
    assert [(a.name, a.race_name) for a in athletes] == [("Ann, B.", "Race, Big")]


def test_check_accepts_excel_unicode_text(run_cli, tmp_path):
    root = copy_example(tmp_path / "p")
    rows = [[*r[:5], "", ""] for r in ROWS[:1]]
    (root / "data").mkdir()
    (root / "data" / "unicode.txt").write_bytes(
        codecs.BOM_UTF16_LE + table(*rows).encode("utf-16-le"))
    result = run_cli(["check", "data/unicode.txt"], cwd=root)
    assert result.exit_code == 0, result.stderr
    assert result.stderr_lines[-1].endswith("1 athlete: 0 errors, 0 warnings")


# ---------------------------------------------------------------- a bad address

BAD_EMAILS = ["ada@@x", "cy at example", "cy@example", "Eve <eve@example.com>",
              "a@example.com,b@example.com", "cy@example.com\r\nBcc: everyone@example.com"]


@pytest.mark.parametrize("email", BAD_EMAILS)
def test_a_bad_email_drops_the_email_not_the_runner(tmp_path, email):
    rows = [ROWS[1], ["cy-03", "Cy Young", email, "Marathon", "2027-04-18", "", ""]]
    athletes, problems = load(tmp_path, "roster.csv",
                              table(*rows, sep=",", newline="\n").encode("utf-8"))
    assert [(a.id, a.email) for a in athletes] == [("hanako-02", None), ("cy-03", None)]
    (problem,) = problems
    assert (problem.line, problem.field, problem.severity) == (3, "email", "warning")
    shown = repr(email[:40])  # bounded: a cell may be huge
    assert str(problem) == (f"roster.csv:3: warning: email: {shown} is not a valid address; "
                            "the guide is built, no email will be sent"
                            ).replace("\r", "\\r").replace("\n", "\\n")
    assert len(str(problem).splitlines()) == 1


def test_a_bad_email_in_yaml_or_json_is_the_same_warning(tmp_path):
    path = tmp_path / "roster.json"
    path.write_text('[{"id": "j-1", "name": "J", "race_name": "M", "race_date": "2027-04-18",'
                    ' "email": ["j@example.com"]}]', encoding="utf-8")
    athletes, problems = load_roster(path, None, tmp_path)
    assert [(a.id, a.email) for a in athletes] == [("j-1", None)]
    assert [str(p) for p in problems] == [
        "roster.json:1: warning: email: ['j@example.com'] is not a valid address; the guide "
        "is built, no email will be sent"]
    path = tmp_path / "roster.yaml"
    path.write_text("- id: y-1\n  name: Y\n  race_name: M\n  race_date: 2027-04-18\n"
                    "  email: y@@example.com\n", encoding="utf-8")
    athletes, problems = load_roster(path, None, tmp_path)
    assert [(a.id, a.email) for a in athletes] == [("y-1", None)]
    assert [p.line for p in problems] == [1]


def test_a_row_with_a_bad_email_and_another_error_is_refused_naming_both(tmp_path):
    rows = [["cy-03", "Cy Young", "ada@@x", "Marathon", "2027-02-30", "", ""],
            ["cy-03", "Cy Again", "ada@@y", "Marathon", "2027-04-18", "", ""],
            ["cy-03", "Cy Third", "ada@@z", "Marathon", "2027-04-18", "", ""]]
    athletes, problems = load(tmp_path, "roster.csv",
                              table(*rows, sep=",", newline="\n").encode("utf-8"))
    assert [(a.name, a.email) for a in athletes] == [("Cy Again", None)]
    assert [str(p) for p in problems] == [
        "roster.csv:2: email: not a valid email address (got 'ada@@x')",
        "roster.csv:2: race_date: 2027-02-30 is not a real calendar date",
        "roster.csv:3: warning: email: 'ada@@y' is not a valid address; the guide is built, "
        "no email will be sent",
        "roster.csv:4: id: duplicate id 'cy-03' (first on row 3)"]


@pytest.fixture(scope="module")
def bad_email_project(tmp_path_factory):
    root = copy_example(tmp_path_factory.mktemp("bad-email"), athletes=("hb-zoe-01",))
    roster = root / "data" / "athletes.csv"
    roster.write_text(roster.read_text(encoding="utf-8").replace(
        "zoe.obriain@example.com", "zoe.obriain@@example.com"), encoding="utf-8")
    return root


WARNING = ("data/athletes.csv:2: warning: email: 'zoe.obriain@@example.com' is not a valid "
           "address; the guide is built, no email will be sent")


def test_the_runner_with_a_bad_email_gets_their_guide(run_cli, bad_email_project):
    out = bad_email_project / "out"
    result = run_cli(["batch", "data/athletes.csv", "--formats", "html,ics", "-j", "1",
                      "--out", out], cwd=bad_email_project)
    assert result.exit_code == 0, result.stderr
    assert result.stderr_lines[0] == WARNING
    assert (out / "guides" / "harbour" / "hb-zoe-01.html").is_file()
    assert (out / "guides" / "harbour" / "hb-zoe-01.ics").is_file()


def test_email_skips_the_runner_with_a_bad_email(run_cli, bad_email_project):
    outbox = bad_email_project / "outbox"
    result = run_cli(["email", "data/athletes.csv", "--outbox", outbox, "--out",
                      bad_email_project / "mail-out"], cwd=bad_email_project)
    assert result.exit_code == 0, result.stderr
    assert re.search(r"^skipped +hb-zoe-01 +no email address$", result.stdout, re.M)
    assert WARNING in result.stderr_lines
    assert "1 skipped (no email)" in result.stderr_lines[-1]
    assert not outbox.exists() or not any(outbox.iterdir())


# ---------------------------------------------------------------- messages show the value

SHOWN = [
    ("id", "cy/03", "id: must be 1-64 of A-Z a-z 0-9 _ - (it names output files) (got 'cy/03')"),
    ("locale", "en_GB/../x", "locale: 'en_GB/../x' is not a known language tag (BCP 47, e.g. "
     "es, es-MX, de, en-US)"),
    ("training_start", "2027-05-01", "training_start: must be before race_date "
     "(got '2027-05-01')"),
    ("name", "Cy\x1b[31mYoung", "name: contains control characters (got 'Cy\\x1b[31mYoung')"),
    ("long_run_day", "Sunday", "long_run_day: must be 'mon', 'tue', 'wed', 'thu', "
     "'fri', 'sat' or 'sun' (got 'sunday')"),
    ("race_date", "18/04/2027", "race_date: must be an ISO date YYYY-MM-DD (got '18/04/2027')"),
    ("preferred_time", "9.15", "preferred_time: must be a time of day as HH:MM, 24-hour, "
     "such as 17:30 (got '9.15')"),
    ("focus_areas", "calves;<b>", "focus_areas: '<b>' is not a valid focus area"),
]


@pytest.mark.parametrize(("field", "value", "message"), SHOWN, ids=[s[0] for s in SHOWN])
def test_row_messages_show_the_offending_value(tmp_path, field, value, message):
    row = {"id": "cy-03", "name": "Cy", "race_name": "M", "race_date": "2027-04-18",
           field: value}
    header = list(row)
    athletes, problems = load(tmp_path, "roster.csv", table(
        [row[h] for h in header], header=header, sep=",", newline="\n").encode("utf-8"))
    assert athletes == []
    assert [str(p) for p in problems] == [f"roster.csv:2: {message}"]


def test_a_value_of_the_wrong_type_is_shown_too(tmp_path):
    path = tmp_path / "roster.json"
    path.write_text('[{"name": true, "race_name": "M", "race_date": "2027-04-18"}]',
                    encoding="utf-8")
    _, problems = load_roster(path, None, tmp_path)
    assert [str(p) for p in problems] == [
        "roster.json:1: name: must be text (got True)"]
