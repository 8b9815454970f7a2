"""Roster files (CSV, YAML, JSON) -> validated Athletes, plus located row errors."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import unicodedata
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from generator.errors import Problem, display_path, yaml_error_line
from generator.yamllines import load_yaml, yaml_node_line

FIELDS = (
    "id", "name", "email", "race_name", "race_date", "distance", "training_start",
    "experience", "massage_frequency", "long_run_day", "focus_areas", "brand", "locale",
    "timezone", "notes",
)
REQUIRED = ("name", "race_name", "race_date")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
EMAIL_RE = re.compile(
    r"^[^@"
    r"\s<>()\[\],;:\"\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
                     *(f"lpt{i}" for i in range(10))}
MAX_ROWS = 100_000


_LINE_BREAK_RE = re.compile(r"[\r\n\t\x85\u2028\u2029]")


def _no_controls(v: str) -> str:
    if _CONTROL_RE.search(v):
        raise ValueError("contains control characters")
    return v


def _one_line(v: str) -> str:
    """Names end up in email headers, file metadata and table cells: no line breaks."""
    if _LINE_BREAK_RE.search(v):
        raise ValueError("contains control characters (line breaks or tabs)")
    return _no_controls(v)


class Athlete(BaseModel):
    """One runner's race data. Every text field is plain text, never markup."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: str
    name: str = Field(min_length=1, max_length=120)
    email: str | None = None
    race_name: str = Field(min_length=1, max_length=200)
    race_date: dt.date
    distance: Literal["marathon", "half-marathon", "ultra"] = "marathon"
    training_start: dt.date
    experience: Literal["first", "returning", "competitive"] = "first"
    massage_frequency: Literal["weekly", "biweekly", "auto"] = "auto"
    long_run_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] | None = None
    focus_areas: tuple[str, ...] = ()
    brand: str | None = None
    locale: str | None = Field(default=None, pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")
    timezone: str | None = None
    notes: str | None = Field(default=None, max_length=4000)

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data):
        if not isinstance(data, dict):
            return data
        data = {k: v for k, v in data.items() if v not in (None, "", [])}
        if "race_date" in data and "training_start" not in data:
            try:
                race = _parse_date(data["race_date"])
            except ValueError:
                race = None
            if race is not None:
                data["training_start"] = race - dt.timedelta(weeks=16)
        if "id" not in data and isinstance(data.get("name"), str) and "race_date" in data:
            data["id"] = default_id(data["name"], str(data["race_date"]))
        if isinstance(data.get("focus_areas"), str):
            data["focus_areas"] = [a for a in data["focus_areas"].split(";")]
        for key in ("distance", "experience", "massage_frequency", "long_run_day"):
            if isinstance(data.get(key), str):
                data[key] = data[key].strip().lower()
        return data

    @field_validator("race_date", "training_start", mode="before")
    @classmethod
    def _iso_date(cls, v):
        return _parse_date(v)

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not ID_RE.match(v):
            raise ValueError("must be 1-64 of A-Z a-z 0-9 _ - (it names output files)")
        if v.lower() in _WINDOWS_RESERVED:
            raise ValueError(f"{v!r} is a reserved device name")
        return v

    @field_validator("name", "race_name", "brand", "timezone")
    @classmethod
    def _text(cls, v):
        return _one_line(v) if isinstance(v, str) else v

    @field_validator("notes")
    @classmethod
    def _multiline_text(cls, v):
        return _no_controls(v) if isinstance(v, str) else v

    @field_validator("notes", mode="before")
    @classmethod
    def _notes(cls, v):
        # notes may span lines: keep \n and \t, refuse other control characters
        if isinstance(v, str):
            v = v.replace("\r\n", "\n").replace("\r", "\n")
            if _CONTROL_RE.sub("", v.replace("\t", " ")) != v.replace("\t", " "):
                raise ValueError("contains control characters")
        return v

    @field_validator("email")
    @classmethod
    def _email(cls, v):
        if v is not None and (len(v) > 254 or not EMAIL_RE.match(v)):
            raise ValueError("not a valid email address")
        return v

    @field_validator("focus_areas", mode="before")
    @classmethod
    def _focus(cls, v):
        if isinstance(v, list | tuple):
            out = []
            for item in v:
                if not isinstance(item, str):
                    raise ValueError("focus areas must be text")
                item = item.strip().lower()
                if item:
                    if not re.match(r"^[\w -]{1,40}$", item):
                        raise ValueError(f"{item[:40]!r} is not a valid focus area")
                    out.append(item)
            return tuple(out)
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v):
        if v is not None:
            try:
                ZoneInfo(v)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {v!r} (use an IANA name such as "
                                 "Europe/London)") from None
        return v

    @field_validator("training_start")
    @classmethod
    def _order(cls, v: dt.date, info: ValidationInfo) -> dt.date:
        # a field validator (race_date is validated first), so the row error names
        # its field: "training_start: must be before race_date"
        race = info.data.get("race_date")
        if race is not None and v >= race:
            raise ValueError("must be before race_date")
        if race is not None and (race - v).days > 366:
            raise ValueError("is more than a year before race_date")
        return v


def _parse_date(v):
    if isinstance(v, dt.datetime):
        raise ValueError("must be a date (YYYY-MM-DD), not a date-time")
    if isinstance(v, dt.date):
        return v
    if not isinstance(v, str) or not re.match(r"^\d{4}-\d{2}-\d{2}$", v.strip()):
        raise ValueError(f"must be an ISO date YYYY-MM-DD (got {str(v)[:30]!r})")
    try:
        return dt.date.fromisoformat(v.strip())
    except ValueError:
        raise ValueError(f"{v.strip()} is not a real calendar date") from None


def default_id(name: str, race_date: str) -> str:
    """Slug of the name + race date; non-Latin names fall back to a short hash."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:40].strip("-")
    if not slug:
        slug = "runner-" + hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{slug}-{race_date}"[:64]


# ---------------------------------------------------------------- file readers

def _decode(raw: bytes, shown: str) -> tuple[str, list[Problem]]:
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        text = raw.decode("cp1252", errors="replace")
        return text, [Problem(shown, text.count("\n", 0, exc.start) + 1,
                              "file is not UTF-8; read it as Latin-1/Windows-1252 "
                              "(save as 'CSV UTF-8' to silence this)", severity="warning")]


def _csv_records(text: str, shown: str):
    """Yield (line, dict) per data row; problems for the header."""
    sample = text[:4096]
    first = sample.splitlines()[0] if sample.strip() else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise _FileProblem(Problem(shown, None, "roster is empty (expected a header row)")
                           ) from None
    header = [h.strip().lower() for h in header]
    dupes = sorted({h for h in header if header.count(h) > 1 and h})
    if dupes:
        raise _FileProblem(Problem(shown, 1, f"duplicated column(s): {', '.join(dupes)}"))
    missing = [f for f in REQUIRED if f not in header]
    if missing:
        raise _FileProblem(Problem(shown, 1, f"missing required column(s): {', '.join(missing)}"))
    extra = [h for h in header if h not in FIELDS]
    header_problems = [Problem(shown, 1, f"unknown column {h!r} ignored "
                               f"(known: {', '.join(FIELDS)})", severity="warning")
                       for h in extra if h]
    line = reader.line_num
    rows = []
    for cells in reader:
        start, line = line + 1, reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            rows.append((start, _RowShape(len(cells), len(header))))
            continue
        rows.append((start, {h: c for h, c in zip(header, cells, strict=True)
                             if h in FIELDS}))
    return rows, header_problems


class _FileProblem(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem


class _RowShape:
    def __init__(self, got: int, want: int):
        self.got, self.want = got, want


def _structured_records(text: str, shown: str, kind: str):
    try:
        data = json.loads(text) if kind == "json" else load_yaml(text, text_scalars=True)
    except json.JSONDecodeError as exc:
        raise _FileProblem(Problem(shown, exc.lineno, f"invalid JSON: {exc.msg}")) from None
    except yaml.YAMLError as exc:
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise _FileProblem(Problem(shown, yaml_error_line(exc), f"invalid YAML: {reason}")
                           ) from None
    if isinstance(data, dict) and "athletes" in data:
        data = data["athletes"]
        prefix: tuple[str, ...] = ("athletes",)
    else:
        prefix = ()
    if data is None:
        raise _FileProblem(Problem(shown, None, "roster is empty"))
    if not isinstance(data, list):
        raise _FileProblem(Problem(shown, 1, "roster must be a list of athletes"))
    rows = []
    for i, item in enumerate(data):
        line = yaml_node_line(text, (*prefix, str(i)), 0) or i + 1
        if not isinstance(item, dict):
            rows.append((line, _RowShape(-1, -1)))
            continue
        rows.append((line, {str(k).strip().lower(): _as_text(v) for k, v in item.items()}))
    return rows, []


def _as_text(v):
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)  # a numeric id in JSON is still a valid id
    if isinstance(v, dt.datetime):
        return v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def load_roster(
    path: Path, known_brands: set[str] | None = None, root: Path | None = None
) -> tuple[list[Athlete], list[Problem]]:
    """Load every valid athlete; each bad row becomes ``file:ROW: field: message``."""
    shown = display_path(path, root)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return [], [Problem(shown, None, "roster file not found")]
    except IsADirectoryError:
        return [], [Problem(shown, None, "roster path is a folder, not a file")]
    text, problems = _decode(raw, shown)
    kind = path.suffix.lower().lstrip(".")
    try:
        if kind == "csv" or kind == "txt":
            rows, head = _csv_records(text, shown)
        elif kind in ("yaml", "yml", "json"):
            rows, head = _structured_records(text, shown, "json" if kind == "json" else "yaml")
        else:
            return [], [Problem(shown, None, f"unknown roster format '.{kind}' "
                                "(use .csv, .yaml, .yml or .json)")]
    except _FileProblem as exc:
        return [], [*problems, exc.problem]
    problems.extend(head)
    if not rows:
        problems.append(Problem(shown, None, "roster has no athletes (header only)"))
    if len(rows) > MAX_ROWS:
        problems.append(Problem(shown, None, f"roster has {len(rows)} rows; the limit is "
                                f"{MAX_ROWS} per file: split it into several files"))
        return [], problems
    athletes: list[Athlete] = []
    seen: dict[str, int] = {}
    for line, record in rows:
        if isinstance(record, _RowShape):
            msg = ("row is not a mapping of field names to values" if record.got < 0 else
                   f"row has {record.got} cells but the header has {record.want}")
            problems.append(Problem(shown, line, msg))
            continue
        unknown = [k for k in record if k not in FIELDS]
        if unknown and kind != "csv":
            problems.append(Problem(shown, line, "unknown field", field=unknown[0]))
            continue
        try:
            athlete = Athlete.model_validate(record)
        except ValidationError as exc:
            problems.append(_row_problem(exc, shown, line))
            continue
        if athlete.id in seen:
            problems.append(Problem(shown, line, f"duplicate id {athlete.id!r} (first on row "
                                    f"{seen[athlete.id]})", field="id"))
            continue
        if known_brands is not None and athlete.brand and athlete.brand not in known_brands:
            problems.append(Problem(shown, line, f"unknown brand {athlete.brand!r} (known: "
                                    f"{', '.join(sorted(known_brands)) or 'none'})",
                                    field="brand"))
            continue
        for key in ("name", "race_name", "notes"):
            value = getattr(athlete, key) or ""
            if value[:1] in ("=", "+", "@") or (value[:1] == "-" and value[1:2].isalpha()):
                problems.append(Problem(shown, line, "starts like a spreadsheet formula; shown "
                                        "as plain text", field=key, severity="warning"))
        seen[athlete.id] = line
        athletes.append(athlete)
    return athletes, problems


def _row_problem(exc: ValidationError, shown: str, line: int) -> Problem:
    """One line per bad row: the first error names the field."""
    errors = exc.errors()
    # id and training_start are derived from name/race_date when absent: their
    # "missing" is a consequence of another error, never the one to report
    causes = [e for e in errors
              if not (e["type"] == "missing" and e["loc"] in (("id",), ("training_start",)))]
    errors = causes or errors
    err = errors[0]
    field = ".".join(str(p) for p in err["loc"]) or None
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "missing":
        msg = "required field is missing"
    elif err["type"] == "literal_error":
        msg = f"{msg} (got {str(err.get('input'))[:40]!r})"
    elif err["type"] == "string_too_long":
        msg = f"{msg} (got {len(err.get('input', ''))})"
    more = len(errors) - 1
    if more:
        msg += f" (and {more} more problem{'s' if more > 1 else ''} in this row)"
    return Problem(shown, line, msg, field=field)
