"""Roster files (CSV, YAML, JSON) -> validated Athletes, plus located row errors."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
import unicodedata
from pathlib import Path

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

from generator.core.errors import Problem, bounded_repr, display_path, yaml_error_line
from generator.core.vocab import Distance, Experience, Frequency, Weekday
from generator.load.fields import iana_timezone
from generator.load.yamllines import item_lines, load_yaml_document

FIELDS = (
    "id", "name", "email", "race_name", "race_date", "distance", "training_start",
    "experience", "massage_frequency", "long_run_day", "focus_areas", "brand", "locale",
    "timezone", "notes",
)
REQUIRED = ("name", "race_name", "race_date")
ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
EMAIL_RE = re.compile(
    r"^[^@"
    r"\s<>()\[\],;:\"\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
                     *(f"lpt{i}" for i in range(10))}
MAX_ROWS = 100_000
# the whole file is read (and decoded) before parsing: refuse monsters up front.
# YAML is parsed in pure Python (~0.2 MB/s), so its cap is lower: big rosters are CSV
MAX_BYTES = {"csv": 32 * 2**20, "json": 32 * 2**20, "yaml": 8 * 2**20}
_SHORT = bounded_repr(40)


def short_repr(value) -> str:
    """repr() bounded in time and length, whatever a YAML/JSON file put in ``value``."""
    if isinstance(value, str):
        return repr(value[:40])
    text = _SHORT.repr(value)
    return text if len(text) <= 43 else text[:40] + "..."


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
    distance: Distance = "marathon"
    training_start: dt.date
    experience: Experience = "first"
    massage_frequency: Frequency = "auto"
    long_run_day: Weekday | None = None
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
        if ("id" not in data and isinstance(data.get("name"), str)
                and isinstance(data.get("race_date"), str | dt.date)):
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
        return v if v is None else iana_timezone(v)

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


YEARS = (1900, 2999)  # plans reach weeks around the race: 0001 or 9999 would overflow


def _parse_date(v):
    if isinstance(v, dt.datetime):
        raise ValueError("must be a date (YYYY-MM-DD), not a date-time")
    if isinstance(v, dt.date):
        return _in_range(v)
    if not isinstance(v, str):
        raise ValueError(f"must be an ISO date YYYY-MM-DD (got {short_repr(v)})")
    if not re.match(r"^\d{4}-\d{2}-\d{2}$", v.strip()):
        raise ValueError(f"must be an ISO date YYYY-MM-DD (got {v[:30]!r})")
    try:
        day = dt.date.fromisoformat(v.strip())
    except ValueError:
        raise ValueError(f"{v.strip()} is not a real calendar date") from None
    return _in_range(day)


def _in_range(day: dt.date) -> dt.date:
    if not YEARS[0] <= day.year <= YEARS[1]:
        raise ValueError(f"{day.isoformat()} is outside the years {YEARS[0]}-{YEARS[1]}")
    return day


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
    reader = csv.reader(_lines(text), delimiter=delimiter)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise _FileProblem(Problem(shown, 1, f"unreadable CSV: {exc}")) from None
    except StopIteration:
        raise _FileProblem(Problem(shown, None, "roster is empty (expected a header row)")
                           ) from None
    header = [h.strip().lower() for h in header]
    if not any(header):
        raise _FileProblem(Problem(shown, 1, "the first line is empty (expected a header row)"))
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
    # count first, keep nothing: an oversized roster is refused in bounded memory
    count = sum(1 for cells in _cells(text, delimiter, shown) if any(c.strip() for c in cells))
    if count > MAX_ROWS:
        raise _FileProblem(Problem(shown, None, f"roster has {count} rows; the limit is "
                                   f"{MAX_ROWS} per file: split it into several files"))
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


def _cells(text: str, delimiter: str, shown: str):
    """Every record's cells after the header (counting pass of :func:`_csv_records`)."""
    reader = csv.reader(_lines(text), delimiter=delimiter)
    next(reader, None)
    try:
        yield from reader
    except csv.Error as exc:
        raise _FileProblem(Problem(shown, reader.line_num, f"unreadable CSV: {exc}")) from None


_LINE_RE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def _lines(text: str):
    """The lines of ``text`` with their ends, as ``open(newline="")`` reads them, one at a
    time (a StringIO would hold a second, four-bytes-a-character copy of a big roster)."""
    return (m.group() for m in _LINE_RE.finditer(text))


class _FileProblem(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem


class _RowShape:
    def __init__(self, got: int, want: int):
        self.got, self.want = got, want


def _structured_records(text: str, shown: str, kind: str):
    node = None
    try:
        if kind == "json":
            data = json.loads(text)
        else:
            data, node = load_yaml_document(text, text_scalars=True)
    except json.JSONDecodeError as exc:
        raise _FileProblem(Problem(shown, exc.lineno, f"invalid JSON: {exc.msg}")) from None
    except RecursionError:
        raise _FileProblem(Problem(shown, None, "invalid JSON: nested too deeply")) from None
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
    # one pass for every item's line (looking each up in the whole document was O(n^2))
    lines = item_lines(node, prefix) if node is not None else _json_item_lines(text, prefix)
    if len(lines) != len(data):
        lines = list(range(1, len(data) + 1))
    rows = []
    for line, item in zip(lines, data, strict=True):
        if not isinstance(item, dict):
            rows.append((line, _RowShape(-1, -1)))
            continue
        rows.append((line, {str(k).strip().lower(): _as_text(v) for k, v in item.items()}))
    return rows, []


def _json_item_lines(text: str, prefix: tuple[str, ...]) -> list[int]:
    """1-based line of each item of the top-level list (or of ``"athletes"``), found
    with the C decoder item by item; empty when the text is not shaped like that."""
    decoder = json.JSONDecoder()
    ws = re.compile(r"[ \t\n\r]*")

    def skip(pos: int) -> int:
        return ws.match(text, pos).end()

    try:
        pos = skip(0)
        if prefix:  # {"athletes": [...], ...}: find the value of the key
            if text[pos] != "{":
                return []
            pos = skip(pos + 1)
            while True:
                key, pos = decoder.raw_decode(text, pos)
                pos = skip(skip(pos) + 1)  # the ':'
                if key == prefix[0]:
                    break
                _value, pos = decoder.raw_decode(text, pos)
                pos = skip(skip(pos) + 1)  # the ','
        if text[pos] != "[":
            return []
        lines, line, counted = [], 1, 0
        pos = skip(pos + 1)
        while text[pos] != "]":
            line += text.count("\n", counted, pos)
            counted = pos
            lines.append(line)
            _item, pos = decoder.raw_decode(text, pos)
            pos = skip(pos)
            if text[pos] == ",":
                pos = skip(pos + 1)
        return lines
    except (ValueError, IndexError, RecursionError):
        return []


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
    kind = path.suffix.lower().lstrip(".")
    limit = MAX_BYTES["yaml" if kind in ("yaml", "yml") else "json" if kind == "json"
                      else "csv"]
    try:
        size = path.stat().st_size
        if size > limit:
            return [], [Problem(shown, None, f"roster file is {size / 2**20:.0f} MiB; the limit "
                                f"is {limit // 2**20} MiB per {kind.upper() or 'CSV'} file: "
                                "split it into several files")]
        raw = path.read_bytes()
    except FileNotFoundError:
        return [], [Problem(shown, None, "roster file not found")]
    except IsADirectoryError:
        return [], [Problem(shown, None, "roster path is a folder, not a file")]
    except OSError as exc:
        return [], [Problem(shown, None, f"cannot read the roster: {exc.strerror}")]
    text, problems = _decode(raw, shown)
    del raw
    try:
        if kind == "csv" or kind == "txt":
            # a cell may be as long as the file (validation then names the field and
            # its length); csv's default limit would raise on cells over 128 KiB
            limit = csv.field_size_limit()
            csv.field_size_limit(max(limit, len(text) + 1))
            try:
                rows, head = _csv_records(text, shown)
            finally:
                csv.field_size_limit(limit)
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
        msg = f"{msg} (got {short_repr(err.get('input'))})"
    elif err["type"] == "string_too_long":
        msg = f"{msg} (got {len(err.get('input', ''))})"
    more = len(errors) - 1
    if more:
        msg += f" (and {more} more problem{'s' if more > 1 else ''} in this row)"
    return Problem(shown, line, msg, field=field)
