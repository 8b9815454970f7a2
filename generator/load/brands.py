"""Clinic brands: ``brands/<id>/brand.toml`` + logo + optional template overrides."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from generator.core.errors import Problem, display_path, pydantic_problems
from generator.core.vocab import Weekday
from generator.load.fields import iana_timezone
from generator.load.tomlsource import read_toml, toml_key_line

HEX_RE = r"^#[0-9a-fA-F]{6}$"
BRAND_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x85\u2028\u2029]")  # \t, \n allowed
_BREAK_RE = re.compile(r"[\t\n]")
LOGO_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg",
              ".jpeg": "image/jpeg"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _text(v, one_line: bool):
    """Brand text reaches email headers (the sender's name), ICS and PDF metadata:
    no control characters, and no line breaks where one line is expected."""
    if isinstance(v, str) and (_CONTROL_RE.search(v) or (one_line and _BREAK_RE.search(v))):
        raise ValueError("must be one line without control characters" if one_line
                         else "contains control characters")
    return v


class Colors(_Strict):
    primary: str = Field(pattern=HEX_RE)
    accent: str = Field(pattern=HEX_RE)
    text: str = Field(default="#1d2428", pattern=HEX_RE)
    background: str = Field(default="#ffffff", pattern=HEX_RE)
    muted: str = Field(default="#5b6770", pattern=HEX_RE)


class Contact(_Strict):
    phone: str | None = None
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    website: str | None = Field(default=None, pattern=r"^https?://\S+$")

    @field_validator("phone")
    @classmethod
    def _one_line(cls, v):
        return _text(v, one_line=True)


class BrandConfig(_Strict):
    name: str = Field(min_length=1, max_length=120)
    tagline: str = ""
    logo: str
    paper: Literal["A4", "Letter"] = "A4"
    timezone: str
    open_days: list[Weekday] = Field(min_length=1)
    appointment_time: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    booking_url: str = Field(pattern=r"^https?://\S+$")
    address: str = Field(min_length=1)
    legal_footer: str = Field(min_length=1)
    unsubscribe: str | None = Field(default=None, pattern=r"^(mailto:|https?://)\S+$")
    font_family: str = Field(default="DejaVu Sans", pattern=r"^[A-Za-z0-9 _-]{1,60}$")
    colors: Colors
    contact: Contact = Contact()

    @field_validator("name", "tagline")
    @classmethod
    def _one_line(cls, v):
        return _text(v, one_line=True)

    @field_validator("address", "legal_footer")
    @classmethod
    def _no_controls(cls, v):
        return _text(v, one_line=False)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        return iana_timezone(v)

    @field_validator("open_days")
    @classmethod
    def _unique_days(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("a day is listed twice")
        return v

    @field_validator("logo")
    @classmethod
    def _logo_name(cls, v: str) -> str:
        if "/" in v or "\\" in v or v.startswith(".") or Path(v).suffix.lower() not in LOGO_TYPES:
            raise ValueError("must be a file name inside the brand folder ending in "
                             + ", ".join(LOGO_TYPES))
        return v


@dataclass(frozen=True)
class Brand:
    id: str
    config: BrandConfig
    folder: Path
    logo_uri: str  # data: URI, so HTML, PDF and email all embed the same bytes
    digest: str  # hash of brand.toml + logo + overrides

    def __getattr__(self, name):  # brand.name, brand.colors ... straight from the config
        if name.startswith("_") or name == "config":
            raise AttributeError(name)
        return getattr(self.config, name)

    @property
    def templates_dir(self) -> Path | None:
        d = self.folder / "templates"
        return d if d.is_dir() else None


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(folder)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def load_brand(folder: Path, root: Path | None = None) -> tuple[Brand | None, list[Problem]]:
    path = folder / "brand.toml"
    shown = display_path(path, root)
    if not BRAND_ID_RE.match(folder.name):
        return None, [Problem(display_path(folder, root), None, "brand folder name must be "
                              "lowercase letters, digits, '-' or '_'")]
    data, problems = read_toml(path, shown)
    if data is None:
        return None, problems
    try:
        config = BrandConfig.model_validate(data)
    except ValidationError as exc:
        text = path.read_text(encoding="utf-8")
        return None, pydantic_problems(exc, shown, lambda loc: toml_key_line(text, loc), None)
    logo = folder / config.logo
    if not logo.is_file():
        return None, [Problem(shown, toml_key_line(path.read_text("utf-8"), ("logo",)),
                              f"logo file {config.logo!r} not found in {folder.name}/",
                              field="logo")]
    uri = f"data:{LOGO_TYPES[logo.suffix.lower()]};base64," + base64.b64encode(
        logo.read_bytes()).decode()
    return Brand(folder.name, config, folder.resolve(), uri, _digest(folder)), []


def load_brands(brands_dir: Path, root: Path | None = None) -> tuple[dict[str, Brand],
                                                                      list[Problem]]:
    brands: dict[str, Brand] = {}
    problems: list[Problem] = []
    if not brands_dir.is_dir():
        return {}, [Problem(display_path(brands_dir, root), None, "brands folder not found")]
    for folder in sorted(p for p in brands_dir.iterdir() if p.is_dir()):
        brand, probs = load_brand(folder, root)
        problems.extend(probs)
        if brand is not None:
            brands[brand.id] = brand
    return brands, problems
