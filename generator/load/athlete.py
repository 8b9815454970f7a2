"""The Athlete model: one runner's race data, with the rules every field must follow
(ISO dates within range, ids that can name files, plain one-line text, emails).

Reading roster files is :mod:`generator.load.roster`; this module only validates."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from generator.core.errors import bounded_repr
from generator.core.vocab import HHMM, Distance, Experience, Frequency, Weekday
from generator.load.fields import weekday_list

ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
EMAIL_RE = re.compile(
    r"^[^@"
    r"\s<>()\[\],;:\"\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
                     *(f"lpt{i}" for i in range(10))}
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
    locale: str | None = None  # BCP 47 (es, es-MX, de, en-US): checked against CLDR
    units: Literal["km", "mi"] | None = None  # default: the locale's (en-US: mi)
    plan_from: dt.date | None = None  # no session before it
    preferred_days: tuple[Weekday, ...] = ()
    preferred_time: str | None = Field(default=None, pattern=HHMM)
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
        for key in ("distance", "experience", "massage_frequency", "long_run_day", "units"):
            if isinstance(data.get(key), str):
                data[key] = data[key].strip().lower()
        return data

    @field_validator("race_date", "training_start", "plan_from", mode="before")
    @classmethod
    def _iso_date(cls, v):
        return _parse_date(v)

    @field_validator("locale")
    @classmethod
    def _locale(cls, v):
        if v is None:
            return v
        from generator.load.locales import BadTag, parse_tag, tag_of

        try:
            return tag_of(parse_tag(v))
        except BadTag as exc:
            raise ValueError(str(exc)) from None

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not ID_RE.match(v):
            raise ValueError("must be 1-64 of A-Z a-z 0-9 _ - (it names output files)")
        if v.lower() in _WINDOWS_RESERVED:
            raise ValueError(f"{v!r} is a reserved device name")
        return v

    @field_validator("name", "race_name", "brand")
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

    @field_validator("preferred_days", mode="before")
    @classmethod
    def _days(cls, v):
        return weekday_list(v)

    @field_validator("plan_from")
    @classmethod
    def _plan_from(cls, v, info: ValidationInfo):
        race = info.data.get("race_date")
        if v is not None and race is not None and v >= race:
            raise ValueError("must be before race_date")
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
