"""Malformed inputs, each reported as one located line, and never a crash.

Every case below breaks exactly one input of a small two-brand project (a roster
row or file, a content module, the brand ``other``, or one of its template
overrides). For each, ``guidegen check`` and ``guidegen batch --formats html,ics``
must:

- exit with code 1 (some inputs were invalid, the rest was built), or 2 when nothing
  could be built (no valid athlete: a missing, empty or unreadable roster),
- print exactly one error line for the broken input, located as ``path:line:``
  (``path:ROW: field:`` for roster rows; ``path:`` alone only for a whole file
  that has no line to point at, such as an empty roster),
- print no traceback,
- and still build every valid athlete's guide.

Some inputs look malformed but are fine (a UTF-8 BOM, CRLF line ends, a ``;``
delimiter, Latin-1 text, formula-like names): those must load, with at most a
warning; they are tested at the end and not counted among the error cases.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, SCRATCH_BRAND_TOML, SCRATCH_LOGO_SVG

# ---------------------------------------------------------------- the project

OTHER_TOML = SCRATCH_BRAND_TOML.replace('name = "Scratch Clinic"', 'name = "Other Clinic"')
HEADER = ["id", "name", "email", "race_name", "race_date", "training_start", "brand", "notes"]
GOOD_ROWS = [
    ["ada-01", "Ada Lovelace", "ada@example.com", "Scratch Marathon", "2027-04-18",
     "2027-01-03", "clinic", ""],
    ["bo-02", "Bo Chen", "", "Scratch Marathon", "2027-04-18", "", "other", ""],
]
GOOD = {"ada-01": "clinic", "bo-02": "other"}
ROSTER = "data/athletes.csv"


def csv_text(*rows: list[str], header: list[str] = HEADER, sep: str = ",") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", delimiter=sep)
    for row in (header, *rows):
        writer.writerow(row)
    return buffer.getvalue()


def bad_row(**fields: str) -> str:
    """The roster with the two good athletes plus a third one (line 4) with ``fields``."""
    row = {"id": "cy-03", "name": "Cy Young", "email": "", "race_name": "Scratch Marathon",
           "race_date": "2027-04-18", "training_start": "", "brand": "", "notes": ""}
    row.update(fields)
    return csv_text(*GOOD_ROWS, [row[h] for h in HEADER])


GOOD_YAML = """\
athletes:
  - id: ada-01
    name: Ada Lovelace
    race_name: Scratch Marathon
    race_date: 2027-04-18
    brand: clinic
  - id: bo-02
    name: Bo Chen
    race_name: Scratch Marathon
    race_date: 2027-04-18
    brand: other
"""
GOOD_JSON_ITEMS = [
    {"id": "ada-01", "name": "Ada Lovelace", "race_name": "Scratch Marathon",
     "race_date": "2027-04-18", "brand": "clinic"},
    {"id": "bo-02", "name": "Bo Chen", "race_name": "Scratch Marathon",
     "race_date": "2027-04-18", "brand": "other"},
]


def json_roster(extra: str) -> str:
    """The good athletes, one per line, then ``extra`` (raw JSON text) on line 4."""
    lines = ",\n".join(json.dumps(item) for item in GOOD_JSON_ITEMS)
    return "[\n" + lines + ",\n" + extra + "\n]\n"


MODULE = """\
---
title: Extra reading
order: 50
---

Some extra words.
"""
LEVELS = "abcdefghi"
ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{LEVELS[i]}: &{LEVELS[i]} [" + ", ".join([f"*{LEVELS[i - 1]}"] * 9) + "]\n"
    for i in range(1, 9))  # nine lines; 9**9 values once expanded
GUIDE_J2 = (REPO_ROOT / "templates" / "guide.html.j2").read_text(encoding="utf-8")
COVER_J2 = (REPO_ROOT / "templates" / "partials" / "cover.j2").read_text(encoding="utf-8")
BRAND_TEMPLATES = "brands/other/templates"


def brand(old: str, new: str) -> dict[str, str]:
    """Break brands/other/brand.toml by replacing ``old`` with ``new``."""
    assert old in OTHER_TOML
    return {"brands/other/brand.toml": OTHER_TOML.replace(old, new, 1)}


def toml_line(needle: str) -> int:
    return next(i for i, line in enumerate(OTHER_TOML.splitlines(), 1) if needle in line)


def guide_line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


# ---------------------------------------------------------------- the cases

@dataclass(frozen=True)
class Case:
    id: str
    files: dict[str, str | bytes | None]
    error: str  # regex for the one error line (check and batch)
    roster: str = ROSTER
    built: tuple[str, ...] = tuple(GOOD)  # athletes whose guides the batch still makes
    batch_error: str | None = None  # when the batch words it differently (templates)
    extra_args: tuple[str, ...] = field(default=())


def roster_case(id_: str, text: str | bytes, error: str, **kw) -> Case:
    return Case(id_, {ROSTER: text}, error, **kw)


def row_case(id_: str, error: str, **fields: str) -> Case:
    return Case(id_, {ROSTER: bad_row(**fields)}, r"^data/athletes\.csv:4: " + error)


R = r"^data/athletes\.csv"
NOTHING: tuple[str, ...] = ()

ROSTER_FILE_CASES = [
    roster_case("csv-empty-file", "", R + r": roster is empty", built=NOTHING),
    roster_case("csv-header-only", csv_text(), R + r": roster has no athletes \(header only\)",
                built=NOTHING),
    roster_case("csv-blank-first-line", "\n\n" + csv_text(*GOOD_ROWS),
                R + r":1: the first line is empty", built=NOTHING),
    roster_case("csv-missing-column",
                csv_text(*[r[:3] + r[4:] for r in GOOD_ROWS], header=HEADER[:3] + HEADER[4:]),
                R + r":1: missing required column: race_name", built=NOTHING),
    roster_case("csv-duplicated-column",
                csv_text(*[[*r, "x"] for r in GOOD_ROWS], header=[*HEADER, "name"]),
                R + r":1: duplicated column: name", built=NOTHING),
    roster_case("csv-row-with-extra-cells", csv_text(*GOOD_ROWS, ["cy-03", "Cy", "", "M",
                                                                "2027-04-18", "", "", "", "x"]),
                R + r":4: row has 9 cells but the header has 8"),
    roster_case("csv-row-with-missing-cells", csv_text(*GOOD_ROWS, ["cy-03", "Cy Young"]),
                R + r":4: row has 2 cells but the header has 8"),
    roster_case("csv-unclosed-quote", csv_text(*GOOD_ROWS) + 'cy-03,"Cy Young,,M,2027-04-18\n',
                R + r":4: row has 2 cells but the header has 8"),
    roster_case("csv-duplicate-id", csv_text(*GOOD_ROWS, ["ada-01", "Ada Again", "", "M",
                                                          "2027-04-18", "", "", ""]),
                R + r":4: id: duplicate id 'ada-01' \(first on row 2\)"),
    roster_case("csv-duplicate-default-id",
                csv_text(*GOOD_ROWS, ["", "Cy Young", "", "M", "2027-04-18", "", "", ""],
                         ["", "Cy Young", "", "M", "2027-04-18", "", "", ""]),
                R + r":5: id: duplicate id 'cy-young-2027-04-18' \(first on row 4\)",
                built=(*GOOD, "cy-young-2027-04-18")),
    roster_case("latin1-file-with-an-impossible-date",
                bad_row(name="Zoë Ó Briain", race_date="2027-02-30").encode("latin-1"),
                R + r":4: race_date: 2027-02-30 is not a real calendar date"),
    Case("unknown-roster-format", {"data/athletes.xlsx": "x"},
         r"^data/athletes\.xlsx: unknown roster format", roster="data/athletes.xlsx",
         built=NOTHING),
    roster_case("roster-not-found", None, R + r": roster file not found", built=NOTHING),
]

ROSTER_ROW_CASES = [
    row_case("impossible-date", r"race_date: 2027-02-30 is not a real calendar date",
             race_date="2027-02-30"),
    row_case("race-in-year-one", r"race_date: 0001-01-05 is outside the years 1900-2999",
             race_date="0001-01-05"),
    row_case("race-in-year-9999", r"race_date: 9999-12-31 is outside the years 1900-2999",
             race_date="9999-12-31"),
    row_case("date-not-iso", r"race_date: must be an ISO date YYYY-MM-DD \(got '18/04/2027'\)",
             race_date="18/04/2027"),
    row_case("missing-race-date", r"race_date: required field is missing", race_date=""),
    row_case("missing-name", r"name: required field is missing", name=""),
    row_case("race-before-training-start", r"training_start: must be before race_date",
             training_start="2027-05-01"),
    row_case("training-starts-on-race-day", r"training_start: must be before race_date",
             training_start="2027-04-18"),
    row_case("training-start-over-a-year-early",
             r"training_start: is more than a year before race_date",
             training_start="2025-01-01"),
    row_case("10000-character-name", r"name: must have at most 120 characters "
             r"\(got 10000\)", name="N" * 10_000),
    row_case("10000-character-race-name", r"race_name: must have at most 200 "
             r"characters \(got 10000\)", race_name="R" * 10_000),
    row_case("notes-too-long", r"notes: must have at most 4000 characters",
             notes="n" * 5000),
    row_case("cell-beyond-csv-field-limit", r"name: must have at most 120 characters "
             r"\(got 200000\)", name="x" * 200_000),
    row_case("bell-in-name", r"name: contains control characters", name="Cy\x07Young"),
    row_case("nul-in-name", r"name: contains control characters", name="Cy\x00Young"),
    row_case("escape-sequence-in-race-name", r"race_name: contains control characters",
             race_name="\x1b[31mRed Marathon"),
    row_case("crlf-header-injection-in-name",
             r"name: contains control characters \(line breaks or tabs\)",
             name="Cy Young\r\nBcc: everyone@example.com"),
    row_case("tab-in-name", r"name: contains control characters", name="Cy\tYoung"),
    row_case("line-separator-in-name", r"name: contains control characters",
             name="Cy\u2028Young"),
    row_case("control-character-in-notes", r"notes: contains control characters",
             notes="fine\x0bnot fine"),
    Case("unknown-distance", {ROSTER: csv_text(*[[*r, "marathon"] for r in GOOD_ROWS],
                                               ["cy-03", "Cy", "", "M", "2027-04-18", "", "",
                                                "", "moon"], header=[*HEADER, "distance"])},
         R + r":4: distance: must be 'marathon', 'half-marathon' or 'ultra' "
             r"\(got 'moon'\)"),
    Case("unknown-experience", {ROSTER: csv_text(*[[*r, ""] for r in GOOD_ROWS],
                                                 ["cy-03", "Cy", "", "M", "2027-04-18", "",
                                                  "", "", "expert"],
                                                 header=[*HEADER, "experience"])},
         R + r":4: experience: must be 'first', 'returning' or 'competitive'"),
    Case("unknown-massage-frequency", {ROSTER: csv_text(*[[*r, ""] for r in GOOD_ROWS],
                                                        ["cy-03", "Cy", "", "M", "2027-04-18",
                                                         "", "", "", "daily"],
                                                        header=[*HEADER, "massage_frequency"])},
         R + r":4: massage_frequency: must be 'weekly', 'biweekly' or 'auto'"),
    Case("bad-long-run-day", {ROSTER: csv_text(*[[*r, ""] for r in GOOD_ROWS],
                                               ["cy-03", "Cy", "", "M", "2027-04-18", "", "",
                                                "", "sunday"], header=[*HEADER, "long_run_day"])},
         R + r":4: long_run_day: must be 'mon'"),
    Case("markup-in-focus-area", {ROSTER: csv_text(*[[*r, ""] for r in GOOD_ROWS],
                                                   ["cy-03", "Cy", "", "M", "2027-04-18", "",
                                                    "", "", "calves;<b>hips</b>"],
                                                   header=[*HEADER, "focus_areas"])},
         R + r":4: focus_areas: .*is not a valid focus area"),
    Case("time-zone-column-refused", {ROSTER: csv_text(*[[*r, ""] for r in GOOD_ROWS],
                                                       ["cy-03", "Cy", "", "M", "2027-04-18",
                                                        "", "", "", "Europe/London"],
                                                       header=[*HEADER, "timezone"])},
         R + r":1: timezone: not a roster column: session times are in the clinic's time "
             r"zone \('timezone' in brands/<id>/brand\.toml\); remove the column",
         built=(*GOOD, "cy-03")),  # refused, not skipped: the rows are built without it
    Case("bad-locale", {ROSTER: csv_text(*[[*r, ""] for r in GOOD_ROWS],
                                         ["cy-03", "Cy", "", "M", "2027-04-18", "", "", "",
                                          "en_GB/../x"], header=[*HEADER, "locale"])},
         R + r":4: locale: 'en_GB/\.\./x' is not a known language tag"),
    row_case("unknown-brand", r"brand: unknown brand 'nope' \(known: clinic, other\)",
             brand="nope"),
    row_case("id-with-slash", r"id: must be 1-64 of A-Z a-z 0-9 _ -", id="cy/03"),
    row_case("id-with-dot-dot", r"id: must be 1-64 of A-Z a-z 0-9 _ -", id=".."),
    row_case("id-with-dot-dot-slash", r"id: must be 1-64 of A-Z a-z 0-9 _ -",
             id="../../etc/cron.d/x"),
    row_case("id-with-nul", r"id: must be 1-64 of A-Z a-z 0-9 _ -", id="cy\x0003"),
    row_case("id-con", r"id: 'CON' is a reserved device name", id="CON"),
    row_case("id-nul-device", r"id: 'nul' is a reserved device name", id="nul"),
    row_case("id-lpt1", r"id: 'LPT1' is a reserved device name", id="LPT1"),
    row_case("id-too-long", r"id: must be 1-64 of A-Z a-z 0-9 _ -", id="x" * 65),
    row_case("id-with-unicode", r"id: must be 1-64 of A-Z a-z 0-9 _ -", id="zoë-01"),
]

Y = r"^data/athletes\.yaml"
J = r"^data/athletes\.json"
STRUCTURED_CASES = [
    Case("yaml-syntax-error", {"data/athletes.yaml": GOOD_YAML + "  - id: [unclosed\n"},
         Y + r":13: invalid YAML: ", roster="data/athletes.yaml", built=NOTHING),
    Case("yaml-not-a-list", {"data/athletes.yaml": "athletes: 5\n"},
         Y + r":1: roster must be a list of athletes", roster="data/athletes.yaml",
         built=NOTHING),
    Case("yaml-item-not-a-mapping", {"data/athletes.yaml": GOOD_YAML + "  - just text\n"},
         Y + r":12: row is not a mapping of field names to values",
         roster="data/athletes.yaml"),
    Case("yaml-unknown-field", {"data/athletes.yaml": GOOD_YAML + "  - name: Cy\n"
                                "    race_name: M\n    race_date: 2027-04-18\n    shoe: 44\n"},
         Y + r":12: shoe: unknown field", roster="data/athletes.yaml"),
    Case("yaml-duplicate-key", {"data/athletes.yaml": GOOD_YAML.replace(
        "    name: Bo Chen\n", "    name: Bo Chen\n    name: Bo Again\n")},
         Y + r":9: invalid YAML: found duplicate key 'name'", roster="data/athletes.yaml",
         built=NOTHING),
    Case("yaml-alias-bomb", {"data/athletes.yaml": ALIAS_BOMB + GOOD_YAML
                             + "  - name: *i\n    race_name: M\n    race_date: 2027-04-18\n"},
         Y + r":9: invalid YAML: aliases expand the document to [\d,]+ values",
         roster="data/athletes.yaml", built=NOTHING),
    Case("yaml-recursive-alias", {"data/athletes.yaml": GOOD_YAML + "  - &x [*x]\n"},
         Y + r":12: invalid YAML: an alias refers to its own anchor",
         roster="data/athletes.yaml", built=NOTHING),
    Case("yaml-deep-nesting", {"data/athletes.yaml": GOOD_YAML + "  - " + "[" * 5000 + "\n"},
         Y + r":12: invalid YAML: nested deeper than 64 levels", roster="data/athletes.yaml",
         built=NOTHING),
    Case("yaml-python-tag", {"data/athletes.yaml": "!!python/object/apply:os.system [id]\n"},
         Y + r":1: invalid YAML: could not determine a constructor",
         roster="data/athletes.yaml", built=NOTHING),
    Case("yaml-date-as-a-list", {"data/athletes.yaml": GOOD_YAML + "  - name: Cy\n"
                                 "    race_name: M\n    race_date: [2027, 4, 18]\n"},
         Y + r":12: race_date: must be an ISO date YYYY-MM-DD \(got \['2027', '4', '18'\]\)",
         roster="data/athletes.yaml"),
    Case("json-syntax-error", {"data/athletes.json": json_roster('{"name": "Cy",}')},
         J + r":4: invalid JSON: ", roster="data/athletes.json", built=NOTHING),
    Case("json-deep-nesting", {"data/athletes.json": "[" * 100_000},
         J + r": invalid JSON: nested too deeply", roster="data/athletes.json",
         built=NOTHING),
    Case("json-name-not-text", {"data/athletes.json": json_roster(
        '{"name": true, "race_name": "M", "race_date": "2027-04-18"}')},
         J + r":4: name: must be text", roster="data/athletes.json"),
    Case("json-list-in-a-text-field", {"data/athletes.json": json_roster(
        '{"name": "Cy", "race_name": "M", "race_date": "2027-04-18", "distance": '
        + "[" * 50 + "]" * 50 + "}")},
         J + r":4: distance: must be 'marathon'", roster="data/athletes.json"),
]

C = r"^content/(extra|zz-extra)\.md"


def module_case(id_: str, text: str | bytes, error: str, name: str = "extra") -> Case:
    return Case(id_, {f"content/{name}.md": text}, error)


CONTENT_CASES = [
    module_case("front-matter-invalid-yaml", "---\ntitle: [unclosed\n---\nbody\n",
                C + r":3: invalid YAML: "),
    module_case("front-matter-tab-indent", "---\ntitle: X\nwhen:\n\tdistance: [marathon]\n---\n",
                C + r":4: invalid YAML: "),
    module_case("front-matter-title-not-text", "---\ntitle: [a, b]\n---\nbody\n",
                C + r":2: title: must be text"),
    module_case("front-matter-order-not-a-number", "---\ntitle: X\norder: first\n---\n",
                C + r":3: order: must be a whole number"),
    module_case("front-matter-draft-not-a-boolean", "---\ntitle: X\ndraft: maybe\n---\n",
                C + r":3: draft: must be true or false"),
    module_case("front-matter-unknown-key", "---\ntitle: X\ncolour: red\n---\n",
                C + r":3: colour: unknown key"),
    module_case("front-matter-without-title", "---\nsummary: No title here\n---\nbody\n",
                C + r":2: title: required field is missing"),
    module_case("front-matter-repeats-a-slug", "---\ntitle: X\nslug: training\n---\n",
                C + r":3: slug: slug 'training' is already used by content/training\.md",
                name="zz-extra"),
    module_case("front-matter-duplicate-key", "---\ntitle: X\ntitle: Y\n---\n",
                C + r":3: invalid YAML: found duplicate key 'title'"),
    module_case("front-matter-not-closed", "---\ntitle: X\n\nbody\n",
                C + r":1: front matter is not closed"),
    module_case("no-front-matter", "# Just Markdown\n", C + r":1: front matter missing"),
    module_case("front-matter-is-a-list", "---\n- a\n- b\n---\n",
                C + r":2: front matter must be a mapping"),
    module_case("module-not-utf8", b"---\ntitle: Caf\xe9\n---\n", C + r": not valid UTF-8"),
    module_case("front-matter-bad-slug", "---\ntitle: X\nslug: Not A Slug\n---\n",
                C + r":3: slug: must be lowercase letters, digits and '-'"),
    module_case("front-matter-unknown-session-kind",
                "---\ntitle: X\nsessions:\n  - kind: massage\n    pressure: light\n---\n",
                C + r":4: sessions\.0\.kind: must be 'maintenance'"),
    module_case("front-matter-window-out-of-range",
                "---\ntitle: X\nsessions:\n  - kind: post-race\n    pressure: light\n"
                "    days_after: [0, 20]\n---\n",
                C + r":4: sessions\.0: window must be \[FIRST, LAST\]"),
    module_case("front-matter-deep-pressure-in-race-week",
                "---\ntitle: X\ndraft: true\nsessions:\n  - kind: pre-race\n"
                "    pressure: firm\n    days_before: [2, 4]\n---\n",
                C + r":5: sessions\.0: sessions in the 7 days before the race must be light"),
    module_case("front-matter-repeats-a-session-kind",
                "---\ntitle: X\nsessions:\n  - kind: pre-race\n    pressure: light\n"
                "    days_before: [3, 5]\n---\n",
                C + r":4: sessions: a pre-race session rule is already declared in "
                r"content/race-days\.md", name="zz-extra"),
    module_case("front-matter-unknown-distance", "---\ntitle: X\nwhen:\n  distance: [moon]\n---\n",
                C + r":4: when\.distance\.0: must be 'marathon'"),
    module_case("front-matter-unknown-audience", "---\ntitle: X\naudience: [print]\n---\n",
                C + r":3: audience\.0: must be 'guide' or 'site'"),
    module_case("front-matter-summary-too-long", f"---\ntitle: X\nsummary: {'s' * 400}\n---\n",
                C + r":3: summary: must have at most 300 characters"),
    module_case("front-matter-deep-nesting", "---\ntitle: X\ntags: " + "[" * 5000 + "\n---\n",
                C + r":3: invalid YAML: nested deeper than 64 levels"),
    module_case("front-matter-alias-bomb", "---\n" + ALIAS_BOMB + "title: *i\n---\n",
                C + r":10: invalid YAML: aliases expand the document"),
    module_case("markdown-nested-too-deeply",
                "---\ntitle: X\n---\n\n" + "".join("  " * i + "- item\n" for i in range(600)),
                C + r":86: Markdown nested too deeply"),  # the first line over 160 columns
]

B = r"^brands/other/brand\.toml"
ONLY_CLINIC = {ROSTER: csv_text(GOOD_ROWS[0])}


def brand_case(id_: str, files: dict, error: str) -> Case:
    return Case(id_, {**files, **ONLY_CLINIC}, error, built=("ada-01",))


BRAND_CASES = [
    brand_case("brand-logo-file-missing", {"brands/other/logo.svg": None},
               B + rf":{toml_line('logo =')}: logo: logo file 'logo\.svg' not found"),
    brand_case("brand-toml-missing", {"brands/other/brand.toml": None}, B + r": file not found"),
    brand_case("brand-colour-a-name", brand('"#0b5d6b"', '"teal"'),
               B + rf":{toml_line('primary')}: colors\.primary: must be a colour as #rrggbb"),
    brand_case("brand-colour-too-short", brand('"#f2a541"', '"#f2a54"'),
               B + rf":{toml_line('accent')}: colors\.accent: must be a colour as #rrggbb"),
    brand_case("brand-unknown-time-zone", brand("Europe/London", "Europe/Atlantis"),
               B + rf":{toml_line('timezone')}: timezone: unknown time zone 'Europe/Atlantis'"),
    brand_case("brand-time-zone-is-a-region-folder", brand("Europe/London", "Europe"),
               B + rf":{toml_line('timezone')}: timezone: unknown time zone 'Europe'"),
    brand_case("brand-open-days-unknown-day", brand('"sat"]', '"funday"]'),
               B + rf":{toml_line('open_days')}: open_days\.5: must be 'mon'"),
    brand_case("brand-open-days-empty",
               brand('["mon", "tue", "wed", "thu", "fri", "sat"]', "[]"),
               B + rf":{toml_line('open_days')}: open_days: must have at least 1 item"),
    brand_case("brand-open-days-not-a-list",
               brand('["mon", "tue", "wed", "thu", "fri", "sat"]', '"mon-fri"'),
               B + rf":{toml_line('open_days')}: open_days: must be a list"),
    brand_case("brand-open-days-repeated", brand('"sat"]', '"mon"]'),
               B + rf":{toml_line('open_days')}: open_days: a day is listed twice"),
    brand_case("brand-appointment-time", brand('"17:30"', '"25:00"'),
               B + rf":{toml_line('appointment_time')}: appointment_time: must be a time of day"),
    brand_case("brand-toml-syntax-error", brand('address = "1', 'address = 1 "'),
               B + rf":{toml_line('address')}: invalid TOML: "),
    brand_case("brand-unknown-key", brand("[colors]", 'colour = "red"\n\n[colors]'),
               B + rf":{toml_line('[colors]')}: colour: unknown key"),
    brand_case("brand-missing-key", brand('address = "1 Test Street, Testtown"\n', ""),
               B + r": address: required field is missing"),
    brand_case("brand-logo-path-traversal", brand('"logo.svg"', '"../../../etc/passwd.svg"'),
               B + rf":{toml_line('logo =')}: logo: must be a file name inside the brand "
               r"folder"),
    brand_case("brand-booking-url-javascript",
               brand('"https://scratch.example/book"', '"javascript:alert(1)"'),
               B + rf":{toml_line('booking_url')}: booking_url: must be a web address"),
    brand_case("brand-name-header-injection",
               brand('"Other Clinic"', '"Other Clinic\\r\\nBcc: everyone@example.com"'),
               B + r":1: name: must be one line without control characters"),
    brand_case("brand-toml-not-utf8", {"brands/other/brand.toml": OTHER_TOML.encode()
                                       .replace(b"Other", b"\xd6ther", 1)},
               B + r": not valid UTF-8"),
    brand_case("brand-folder-name", {"brands/Other Clinic/brand.toml": OTHER_TOML,
                                     "brands/Other Clinic/logo.svg": SCRATCH_LOGO_SVG},
               r"^brands/Other Clinic: brand folder name must be lowercase"),
]

T = r"^brands/other/templates/"


def template_case(id_: str, rel: str, text: str, error: str) -> Case:
    """A broken override for brand ``other``: bo-02's guide fails, ada-01's is built."""
    return Case(id_, {f"{BRAND_TEMPLATES}/{rel}": text}, T + error,
                built=("ada-01",), batch_error=T + error.replace(": template", ": bo-02: template",
                                                                 1))


TEMPLATE_CASES = [
    template_case("template-syntax-error", "guide.html.j2",
                  GUIDE_J2.replace("{%", "{% iff", 1),
                  rf"guide\.html\.j2:{guide_line(GUIDE_J2, '{%')}: template syntax error: "
                  r"Encountered unknown tag 'iff'"),
    template_case("template-undefined-variable", "guide.html.j2",
                  GUIDE_J2.replace("</body>", "{{ athlete.nickname }}</body>"),
                  rf"guide\.html\.j2:{guide_line(GUIDE_J2, '</body>')}: template error: "
                  r".*has no attribute 'nickname'"),
    template_case("partial-syntax-error", "partials/cover.j2", "{% if %}\n" + COVER_J2,
                  r"partials/cover\.j2:1: template syntax error: "),
    template_case("partial-undefined-variable", "partials/cover.j2", COVER_J2 + "{{ nope }}\n",
                  rf"partials/cover\.j2:{len(COVER_J2.splitlines()) + 1}: template error: "
                  r"'nope' is undefined"),
    template_case("template-unknown-filter", "guide.html.j2",
                  GUIDE_J2.replace("</body>", "{{ athlete.name | shout }}</body>"),
                  rf"guide\.html\.j2:{guide_line(GUIDE_J2, '</body>')}: template syntax error: "
                  r"No filter named 'shout'"),
    template_case("template-runtime-error", "guide.html.j2",
                  GUIDE_J2.replace("</body>", "{{ 1 // 0 }}</body>"),
                  rf"guide\.html\.j2:{guide_line(GUIDE_J2, '</body>')}: template error: "
                  r"ZeroDivisionError"),
]

ERROR_CASES = (ROSTER_FILE_CASES + ROSTER_ROW_CASES + STRUCTURED_CASES + CONTENT_CASES
               + BRAND_CASES + TEMPLATE_CASES)


def test_the_suite_has_at_least_sixty_distinct_error_cases():
    ids = [c.id for c in ERROR_CASES]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 60, len(ids)


# ---------------------------------------------------------------- running a case

BASE_FILES = {
    "brands/other/brand.toml": OTHER_TOML,
    "brands/other/logo.svg": SCRATCH_LOGO_SVG,
    ROSTER: csv_text(*GOOD_ROWS),
}


def project_for(scratch_project, case: Case) -> Path:
    return scratch_project({**BASE_FILES, **case.files}, copy=("templates",))


def error_lines(result) -> list[str]:
    """Problem lines that are errors: not warnings, not the closing summary line."""
    return [line for line in result.stderr_lines
            if ": warning: " not in line and not re.match(r"^\d+ modules, |^guides: ", line)]


def expected_exit_code(case: Case) -> int:
    """2 when nothing could be built (no valid athlete), else 1."""
    return 2 if not case.built else 1


def assert_no_crash(result) -> None:
    assert result.exception is None, repr(result.exception)
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout


@pytest.mark.parametrize("case", ERROR_CASES, ids=lambda c: c.id)
def test_check_reports_one_located_line_and_exits_1(scratch_project, run_cli, case):
    root = project_for(scratch_project, case)
    result = run_cli(["check", case.roster], cwd=root)
    assert_no_crash(result)
    lines = error_lines(result)
    assert len(lines) == 1, result.stderr
    assert re.search(case.error, lines[0]), f"{lines[0]!r} !~ {case.error!r}"
    assert len(lines[0]) < 400, "a problem line stays readable"
    assert result.exit_code == expected_exit_code(case), result.stderr


@pytest.mark.parametrize("case", ERROR_CASES, ids=lambda c: c.id)
def test_batch_reports_it_and_still_builds_every_valid_guide(scratch_project, run_cli, case):
    root = project_for(scratch_project, case)
    out = root / "out"
    result = run_cli(["batch", case.roster, "--formats", "html,ics", "-j", "1", "--out", out],
                     cwd=root)
    assert_no_crash(result)
    lines = error_lines(result)
    assert len(lines) == 1, result.stderr
    pattern = case.batch_error or case.error
    assert re.search(pattern, lines[0]), f"{lines[0]!r} !~ {pattern!r}"
    assert result.exit_code == expected_exit_code(case), result.stderr
    built = sorted(p.stem for p in out.glob("guides/*/*.html"))
    assert built == sorted(case.built), result.stderr
    for athlete_id in case.built:
        folder = out / "guides" / GOOD.get(athlete_id, "clinic")
        assert (folder / f"{athlete_id}.html").read_text(encoding="utf-8").rstrip().endswith(
            "</html>")
        assert (folder / f"{athlete_id}.ics").read_bytes().startswith(b"BEGIN:VCALENDAR")


def test_the_report_lists_the_same_located_problem(scratch_project, run_cli):
    case = next(c for c in ERROR_CASES if c.id == "impossible-date")
    root = project_for(scratch_project, case)
    for command in (["check", ROSTER], ["batch", ROSTER, "--formats", "ics", "-j", "1",
                                        "--out", root / "out"]):
        report = root / f"{command[0]}-report.json"
        result = run_cli([*command, "--report", report], cwd=root)
        assert result.exit_code == 1
        data = json.loads(report.read_text(encoding="utf-8"))
        assert data["command"] == command[0] and data["errors"] == 1
        assert data["problems"] == [{"path": "data/athletes.csv", "line": 4,
                                     "field": "race_date", "severity": "error",
                                     "message": "2027-02-30 is not a real calendar date",
                                     "athlete_id": None}]


def test_the_real_script_prints_no_traceback_for_a_pathological_roster(scratch_project):
    """Not only in-process: the console script on a roster that used to crash."""
    case = next(c for c in ERROR_CASES if c.id == "json-deep-nesting")
    root = project_for(scratch_project, case)
    done = subprocess.run([sys.executable, "-m", "generator", "check", case.roster], cwd=root,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr  # nothing could be built
    assert "Traceback" not in done.stderr
    assert re.search(case.error, done.stderr.splitlines()[0])


def test_athletes_of_a_broken_brand_each_get_their_own_line(scratch_project, run_cli):
    case = next(c for c in BRAND_CASES if c.id == "brand-colour-a-name")
    root = scratch_project({**BASE_FILES, **case.files, ROSTER: csv_text(*GOOD_ROWS)},
                           copy=("templates",))
    result = run_cli(["batch", ROSTER, "--formats", "html", "-j", "1", "--out", root / "o"],
                     cwd=root)
    assert result.exit_code == 1
    lines = error_lines(result)
    assert re.search(case.error, lines[0])
    assert lines[1].startswith("data/athletes.csv:3: brand: unknown brand 'other'")
    assert len(lines) == 2
    assert (root / "o" / "guides" / "clinic" / "ada-01.html").is_file()


# ---------------------------------------------------------------- malformed but fine

LATIN1_ROW = ["zoe-03", "Zoë Ó Briain", "", "Sèvres Marathon", "2027-04-18", "", "", "Café"]
FINE_CASES = {
    "utf8-bom": b"\xef\xbb\xbf" + csv_text(*GOOD_ROWS).encode(),
    "crlf-line-ends": csv_text(*GOOD_ROWS).replace("\n", "\r\n").encode(),
    "semicolon-delimiter": csv_text(*GOOD_ROWS, sep=";").encode(),
    "bom-semicolon-crlf": b"\xef\xbb\xbf" + csv_text(*GOOD_ROWS, sep=";").replace(
        "\n", "\r\n").encode(),
    "bare-cr-line-ends": csv_text(*GOOD_ROWS).replace("\n", "\r").encode(),
    "uppercase-header-and-blank-lines": csv_text(*GOOD_ROWS, header=[h.upper() for h in HEADER])
    .replace("\n", "\n\n").encode(),
    "columns-in-another-order": csv_text(*[r[::-1] for r in GOOD_ROWS], header=HEADER[::-1])
    .encode(),
    "no-trailing-newline": csv_text(*GOOD_ROWS).rstrip("\n").encode(),
}


@pytest.mark.parametrize("raw", FINE_CASES.values(), ids=FINE_CASES.keys())
def test_malformed_looking_rosters_load_without_problems(scratch_project, run_cli, raw):
    root = scratch_project({**BASE_FILES, ROSTER: raw})
    result = run_cli(["check", ROSTER], cwd=root)
    assert result.exit_code == 0, result.stderr
    assert result.stderr_lines == ["2 modules, 2 brands, 2 athletes: 0 errors, 0 warnings"]
    from generator.load.roster import load_roster

    athletes, _ = load_roster(root / ROSTER)
    assert [(a.id, a.name, a.brand) for a in athletes] == [
        ("ada-01", "Ada Lovelace", "clinic"), ("bo-02", "Bo Chen", "other")]


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_latin1_roster_loads_with_one_warning_and_keeps_accents(scratch_project, run_cli,
                                                                 encoding):
    row = LATIN1_ROW if encoding == "latin-1" else [*LATIN1_ROW[:-1], "“Café” – done"]
    root = scratch_project({**BASE_FILES, ROSTER: csv_text(*GOOD_ROWS, row).encode(encoding)})
    result = run_cli(["check", ROSTER], cwd=root)
    assert result.exit_code == 0, result.stderr
    assert len(result.stderr_lines) == 2
    assert re.match(r"^data/athletes\.csv:4: warning: file is not UTF-8",
                    result.stderr_lines[0])
    from generator.load.roster import load_roster

    athletes, _ = load_roster(root / ROSTER)
    zoe = athletes[-1]
    assert (zoe.name, zoe.race_name, zoe.notes) == tuple(row[i] for i in (1, 3, 7))


def test_an_extra_column_is_a_warning_and_the_rows_load(scratch_project, run_cli):
    root = scratch_project({**BASE_FILES, ROSTER: csv_text(*[[*r, "44"] for r in GOOD_ROWS],
                                                           header=[*HEADER, "shoe_size"])})
    result = run_cli(["check", ROSTER], cwd=root)
    assert result.exit_code == 0
    assert result.stderr_lines[0].startswith("data/athletes.csv:1: warning: unknown column "
                                              "'shoe_size' ignored")
    assert result.stderr_lines[-1].startswith("2 modules, 2 brands, 2 athletes:")


FORMULAS = {"name": "=HYPERLINK(\"http://evil.example\",\"x\")", "race_name": "+1+2 Marathon",
            "notes": "@SUM(A1:A9) -cmd|' /C calc'!A0"}


def test_formula_prefixes_warn_and_stay_literal_text(scratch_project, run_cli):
    rows = [*GOOD_ROWS, ["cy-03", FORMULAS["name"], "", FORMULAS["race_name"], "2027-04-18",
                         "", "", FORMULAS["notes"]],
            ["di-04", "-Di", "", "-5K Fun Run", "2027-04-18", "", "", ""]]
    root = scratch_project({**BASE_FILES, ROSTER: csv_text(*rows)}, copy=("templates",))
    check = run_cli(["check", ROSTER], cwd=root)
    assert check.exit_code == 0, check.stderr
    warned = sorted(line.split(": ")[2] for line in check.stderr_lines
                    if "starts like a spreadsheet formula" in line)
    assert warned == ["name", "name", "notes", "race_name"]
    batch = run_cli(["batch", ROSTER, "--formats", "html,ics", "-j", "1", "--out", root / "o"],
                    cwd=root)
    assert batch.exit_code == 0, batch.stderr
    from markupsafe import escape

    page = (root / "o" / "guides" / "clinic" / "cy-03.html").read_text(encoding="utf-8")
    for value in FORMULAS.values():
        assert str(escape(value)) in page, value
    ics = (root / "o" / "guides" / "clinic" / "cy-03.ics").read_bytes().decode()
    assert "+1+2 Marathon" in ics.replace("\r\n ", "")


def test_a_module_too_deep_to_render_does_not_change_how_the_others_render():
    """The Markdown converter is reused: a conversion cut short must not leave state
    behind (it once left the block parser 'inside a list', and raw HTML of every later
    module came out as escaped text)."""
    from generator.load.content import render_markdown

    body = ('<div class="note">A note</div>\n\n<img src="img/a.png" alt="a">\n\n'
            "- one\n- two\n\nText *with* emphasis.\n")
    before = render_markdown(body)
    with pytest.raises(RecursionError):
        render_markdown("".join("  " * i + "- item\n" for i in range(700)))
    assert render_markdown(body) == before
