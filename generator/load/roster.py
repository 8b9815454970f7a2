"""Roster files (CSV, YAML, JSON) -> validated Athletes, plus located row errors.

The Athlete model and its field rules live in :mod:`generator.load.athlete`; they are
re-exported here, so ``from generator.load.roster import Athlete`` keeps working."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import json
import re
from pathlib import Path

import yaml
from pydantic import ValidationError

from generator.core.counted import Counted, limited_records
from generator.core.errors import (
    Problem,
    did_you_mean,
    display_path,
    plain_message,
    shows_value,
    yaml_error_line,
    yaml_reason,
)
from generator.core.vocab import noun_for
from generator.load.athlete import (
    EMAIL_RE,
    ID_RE,
    YEARS,
    Athlete,
    default_id,
    short_repr,
)
from generator.load.yamllines import item_lines, load_yaml_document

__all__ = [
    "EMAIL_RE", "FIELDS", "ID_RE", "MAX_BYTES", "MAX_ROWS", "REQUIRED", "YEARS", "Athlete",
    "default_id", "load_roster", "short_repr",
]

FIELDS = (
    "id", "name", "email", "race_name", "race_date", "distance", "training_start",
    "experience", "massage_frequency", "long_run_day", "focus_areas", "brand", "locale",
    "units", "plan_from", "preferred_days", "preferred_time", "notes",
)
# columns the roster once took that nothing reads: refused (an error naming what to use
# instead; the rows are still built without them), never accepted and silently ignored
REFUSED = {
    "timezone": "not a roster column: session times are in the clinic's time zone ('timezone' "
                "in brands/<id>/brand.toml); remove the column",
}
REQUIRED = ("name", "race_name", "race_date")
MAX_ROWS = 100_000
# the whole file is read (and decoded) before parsing: refuse monsters up front.
# YAML is parsed in pure Python (~0.2 MB/s), so its cap is lower: big rosters are CSV
MAX_BYTES = {"csv": 32 * 2**20, "json": 32 * 2**20, "yaml": 8 * 2**20}


# ---------------------------------------------------------------- file readers

def _decode(raw: bytes, shown: str) -> tuple[str, list[Problem]]:
    """UTF-16 with a byte-order mark (Excel's "Unicode text"), else UTF-8 (BOM or not),
    else Latin-1/Windows-1252, with a warning."""
    utf16 = _UTF16.get(raw[:2])
    if utf16 is not None:
        body = raw[2:]
        try:
            return body.decode(utf16), []
        except UnicodeDecodeError as exc:
            line = body[:exc.start].decode(utf16, errors="replace").count("\n") + 1
            return body.decode(utf16, errors="replace"), [Problem(
                shown, line, "file starts like UTF-16 but is not valid UTF-16 from this line "
                "on (cut short?); unreadable characters were replaced", severity="warning")]
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        text = raw.decode("cp1252", errors="replace")
        return text, [Problem(shown, text.count("\n", 0, exc.start) + 1,
                              "file is not UTF-8; read it as Latin-1/Windows-1252 "
                              "(save as 'CSV UTF-8' to silence this)", severity="warning")]


_UTF16 = {codecs.BOM_UTF16_LE: "utf-16-le", codecs.BOM_UTF16_BE: "utf-16-be"}
DELIMITERS = (",", ";", "\t")  # on a tie, the first wins


def _delimiter(first_line: str) -> str:
    """The delimiter the header line uses most: ',' (CSV), ';' (CSV in locales whose
    decimal mark is a comma) or a tab (Excel's "Unicode text", "Text (Tab delimited)")."""
    return max(DELIMITERS, key=first_line.count)


def _csv_records(text: str, shown: str):
    """Yield (line, dict) per data row; problems for the header."""
    sample = text[:4096]
    first = sample.splitlines()[0] if sample.strip() else ""
    delimiter = _delimiter(first)
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
        raise _FileProblem(Problem(shown, 1, f"duplicated {noun_for(len(dupes), 'column')}: "
                                   f"{', '.join(dupes)}"))
    missing = [f for f in REQUIRED if f not in header]
    if missing:
        raise _FileProblem(Problem(shown, 1, f"missing required "
                                   f"{noun_for(len(missing), 'column')}: {', '.join(missing)}"))
    extra = [h for h in header if h not in FIELDS and h not in REFUSED]
    header_problems = [Problem(shown, 1, REFUSED[h], field=h) for h in header if h in REFUSED]
    header_problems += [Problem(shown, 1, f"unknown column {h!r} ignored" + (did_you_mean(
        h, FIELDS) or f" (known: {', '.join(FIELDS)})"), severity="warning") for h in extra if h]
    # count first, keep nothing: an oversized roster is refused in bounded memory
    count = sum(1 for cells in _cells(text, delimiter, shown) if any(c.strip() for c in cells))
    if count > MAX_ROWS:
        raise _FileProblem(Problem(shown, None, f"roster has {count} rows; the limit is "
                                   f"{MAX_ROWS} per file: split it into several files"))
    return Counted(count, _csv_rows(reader, header, csv.field_size_limit())), header_problems


def _csv_rows(reader, header: list[str], size_limit: int):
    """(line, row dict or _RowShape) of each non-blank record, one at a time (a list of
    50,000 row dicts doubled the memory of loading), at load_roster's cell size limit."""
    line = reader.line_num
    for cells in limited_records(reader, size_limit):
        start, line = line + 1, reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            yield start, _RowShape(len(cells), len(header))
            continue
        yield start, {h: c for h, c in zip(header, cells, strict=True) if h in FIELDS}


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
        raise _FileProblem(Problem(shown, yaml_error_line(exc),
                                   f"invalid YAML: {yaml_reason(exc)}")) from None
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
    path: Path, known_brands: set[str] | None = None, root: Path | None = None,
    lines: dict[str, int] | None = None,
) -> tuple[list[Athlete], list[Problem]]:
    """Load every valid athlete; each bad row becomes ``file:ROW: field: message``.

    ``lines``, when given, receives each valid athlete's row line (id -> line)."""
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
        if kind in ("csv", "tsv", "txt"):  # .txt: Excel's "Unicode text" and tab-delimited
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
                                "(use .csv, .tsv, .txt, .yaml, .yml or .json)")]
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
    refused_seen: set[str] = set()
    for line, record in rows:
        if isinstance(record, _RowShape):
            msg = ("row is not a mapping of field names to values" if record.got < 0 else
                   f"row has {record.got} cells but the header has {record.want}")
            problems.append(Problem(shown, line, msg))
            continue
        for key in [k for k in record if k in REFUSED]:
            del record[key]
            if key not in refused_seen and kind != "csv":
                refused_seen.add(key)
                problems.append(Problem(shown, line, REFUSED[key], field=key))
        unknown = [k for k in record if k not in FIELDS]
        if unknown and kind != "csv":
            problems.append(Problem(shown, line, "unknown field" + did_you_mean(unknown[0], FIELDS),
                                    field=unknown[0]))
            continue
        try:
            athlete, bad_email = _validate(record)
        except ValidationError as exc:
            problems += _row_problems(exc, shown, line)
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
        if bad_email is not None:
            problems.append(Problem(shown, line, f"{short_repr(bad_email)} is not a valid "
                                    "address; the guide is built, no email will be sent",
                                    field="email", severity="warning"))
        seen[athlete.id] = line
        athletes.append(athlete)
    if lines is not None:
        lines.update((a.id, seen[a.id]) for a in athletes)
    return athletes, problems


def _validate(record: dict) -> tuple[Athlete, object | None]:
    """The row's Athlete, and the email it had if that email was not valid.

    A bad address costs the runner their email, not their guide: the row is validated
    again without it (the Athlete model itself never holds an invalid address). Raises
    the ValidationError of the whole row (the address's error too) when other fields are
    bad as well: the row is skipped, and every problem in it is reported."""
    try:
        return Athlete.model_validate(record), None
    except ValidationError as exc:
        if not any(e["loc"] == ("email",) for e in exc.errors()):
            raise
        try:
            return Athlete.model_validate({**record, "email": None}), record.get("email")
        except ValidationError:
            raise exc from None


def _row_problems(exc: ValidationError, shown: str, line: int) -> list[Problem]:
    """A bad row's problems, one line each (its field, the message, the offending value),
    so that a clinic fixes the whole row at once rather than one field per run."""
    errors = exc.errors()
    # id and training_start are derived from name/race_date when absent: their
    # "missing" is a consequence of another error, never one to report
    causes = [e for e in errors
              if not (e["type"] == "missing" and e["loc"] in (("id",), ("training_start",)))]
    return [_field_problem(err, shown, line) for err in causes or errors]


def _field_problem(err: dict, shown: str, line: int) -> Problem:
    field = ".".join(str(p) for p in err["loc"]) or None
    msg = plain_message(err)
    if err["type"] == "missing":
        msg = "required field is missing"
    elif err["type"] == "string_too_long":
        msg = f"{msg} (got {len(err.get('input', ''))})"
    elif "input" in err and not shows_value(msg, err["input"]):
        msg = f"{msg} (got {short_repr(err['input'])})"  # the offending value, bounded
    return Problem(shown, line, msg, field=field)


