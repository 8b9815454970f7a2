"""Clinic brands: ``brands/<id>/brand.toml`` + logo + optional template overrides.

Besides validating ``brand.toml``, loading a brand warns (located at its colour key) when
a colour used for text is hard to read on the brand background (WCAG AA, 4.5:1), and
sanitises an SVG logo (:func:`clean_svg`): the logo is published on the site's origin
and embedded in every guide and email, so it carries no script, event handler or
reference outside itself. What was removed is a located warning; a logo that cannot be
read safely (not well-formed XML, not SVG) is a located error.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from dataclasses import dataclass, replace
from html import escape  # not xml.sax.saxutils's: that module imports urllib, http, ssl
from pathlib import Path
from typing import Literal
from xml.parsers import expat

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from generator.core import vocab
from generator.core.errors import Problem, display_path, pydantic_problems
from generator.core.vocab import Weekday
from generator.load.fields import closed_ranges, iana_timezone
from generator.load.tomlsource import read_toml, toml_key_line

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
    primary: str = Field(pattern=vocab.HEX_COLOUR)
    accent: str = Field(pattern=vocab.HEX_COLOUR)
    text: str = Field(default="#1d2428", pattern=vocab.HEX_COLOUR)
    background: str = Field(default="#ffffff", pattern=vocab.HEX_COLOUR)
    muted: str = Field(default="#5b6770", pattern=vocab.HEX_COLOUR)


class Contact(_Strict):
    phone: str | None = None
    email: str | None = Field(default=None, pattern=vocab.EMAIL_SHAPE)
    website: str | None = Field(default=None, pattern=vocab.WEB_ADDRESS)

    @field_validator("phone")
    @classmethod
    def _one_line(cls, v):
        return _text(v, one_line=True)


class BrandText(_Strict):
    """A brand's words in another language (``[translations.es]`` in brand.toml)."""

    tagline: str | None = None
    legal_footer: str | None = None
    address: str | None = None

    @field_validator("tagline", "address", "legal_footer")
    @classmethod
    def _words(cls, v, info):
        return _text(v, one_line=info.field_name == "tagline") if v is not None else v


class BrandConfig(_Strict):
    name: str = Field(min_length=1, max_length=120)
    tagline: str = ""
    logo: str
    paper: Literal["A4", "Letter"] = "A4"
    timezone: str
    open_days: list[Weekday] = Field(min_length=1)
    appointment_time: str = Field(pattern=vocab.HHMM)
    closed: tuple[tuple[dt.date, dt.date], ...] = ()  # "2026-12-24..2027-01-02", "2027-04-13"
    booking_url: str = Field(pattern=vocab.WEB_ADDRESS)
    address: str = Field(min_length=1)
    legal_footer: str = Field(min_length=1)
    unsubscribe: str | None = Field(default=None, pattern=vocab.MAIL_OR_WEB)
    font_family: str = Field(default="DejaVu Sans", pattern=vocab.FONT_NAME)
    colors: Colors
    contact: Contact = Contact()
    translations: dict[str, BrandText] = {}  # language -> tagline, legal footer, address

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

    @field_validator("closed", mode="before")
    @classmethod
    def _closed(cls, v):
        return closed_ranges(v)

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


# ---------------------------------------------------------------- colour contrast

TEXT_CONTRAST = 4.5  # WCAG 2 AA, normal text
TEXT_COLOURS = {"text": "body text", "primary": "headings and links",
                "muted": "captions and secondary text"}  # all set on colors.background


def rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def luminance(colour: str) -> float:
    """WCAG relative luminance of a #rrggbb colour."""
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two #rrggbb colours (1 to 21)."""
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def contrast_problems(colors: Colors, shown: str, toml_text: str) -> list[Problem]:
    """A warning for each text colour below 4.5:1 on the background, at its key."""
    found = []
    for key, use in TEXT_COLOURS.items():
        colour = getattr(colors, key)
        ratio = contrast(colour, colors.background)
        if ratio < TEXT_CONTRAST:
            found.append(Problem(
                shown, toml_key_line(toml_text, ("colors", key)),
                f"{colour} ({use}) on the background {colors.background} has a contrast of "
                f"{ratio:.2f}:1; text needs at least {TEXT_CONTRAST}:1 (WCAG AA) to be "
                "readable", field=f"colors.{key}", severity="warning"))
    return found


# ---------------------------------------------------------------- SVG logos

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"
XHTML_NS = "http://www.w3.org/1999/xhtml"
# removed with everything inside them: they run script or embed other documents
_ACTIVE = {"script", "foreignObject", "handler", "listener", "iframe", "embed", "object"}
_ANIMATIONS = {"set", "animate", "animateColor", "animateMotion", "animateTransform"}
_URL_REFS = ("href", "src")  # attributes naming another resource (any namespace)
# CSS (a style, a presentation attribute) that could fetch something; a backslash could
# spell any of these with CSS escapes (\\75 rl), so it is refused too
_OUTSIDE_URL = re.compile(r"url\(\s*+['\"]?+\s*+(?!#)|@import|image-set|\bsrc\(|javascript:|"
                          r"expression\(|\\", re.I)
_CSS_RULE = "CSS may only refer inside the logo (url(#id); no @import or CSS escapes)"
_INLINE_IMAGE = re.compile(r"data:image/(png|jpeg|gif|webp);base64,", re.I)
_ATTR_BREAKS = str.maketrans({"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})  # in attributes


class LogoError(ValueError):
    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.line = line


def _short(value: str, width: int = 60) -> str:
    return repr(value if len(value) <= width else value[:width] + "...")


def clean_svg(data: bytes) -> tuple[bytes, list[tuple[int, str]]]:
    """(the SVG safe to publish, [(line, what was removed)]); LogoError if unreadable.

    Removed: scripts and elements that embed other documents (``<script>``,
    ``<foreignObject>``, ...), HTML elements, ``on*`` event handlers, animations of
    links or handlers, links and references that leave the file (``href``/``src`` other
    than ``#id`` or an inline PNG/JPEG/GIF/WebP ``data:`` image, ``url()`` other than
    ``url(#id)``, ``@import``), entity declarations and ``xml-stylesheet``. Editor data
    in other namespaces (Inkscape, RDF metadata) is dropped silently. A logo with
    nothing to remove is returned byte for byte."""
    parser = expat.ParserCreate(namespace_separator=" ")
    out: list[str] = []
    open_tags: list[tuple[str, int, bool]] = []  # (name, index of its start tag, style?)
    notes: list[tuple[int, str]] = []
    state = {"skip": 0, "changed": False, "xlink": False, "root": True}
    style: list[str] = []  # the text of the <style> element being read

    def note(message: str) -> None:
        notes.append((parser.CurrentLineNumber, message))
        state["changed"] = True

    def start(name: str, attrs: dict[str, str]) -> None:
        ns, _, local = name.rpartition(" ")
        if state["root"]:
            state["root"] = False
            if (ns, local) != (SVG_NS, "svg"):
                raise LogoError("not an SVG image: the root element must be <svg> in the SVG "
                                f"namespace {SVG_NS}", parser.CurrentLineNumber)
        if state["skip"]:
            state["skip"] += 1
            return
        target = attrs.get("attributeName", "").rpartition(":")[2].lower()
        if ns != SVG_NS or local in _ACTIVE or (
                local in _ANIMATIONS and (target in _URL_REFS or target.startswith("on"))):
            state["skip"], state["changed"] = 1, True
            if ns == SVG_NS or ns == XHTML_NS or local in _ACTIVE:
                note(f"<{local}> removed (a logo may not run script, animate links or "
                     "embed other documents)")
            return
        kept = []
        for aname, value in attrs.items():
            ans, _, alocal = aname.rpartition(" ")
            if ans not in ("", XLINK_NS, XML_NS):
                state["changed"] = True  # editor data (inkscape:label ...)
            elif alocal.lower().startswith("on"):
                note(f"event handler {alocal}= removed from <{local}>")
            elif alocal in _URL_REFS and not (value.startswith("#")
                                              or _INLINE_IMAGE.match(value)):
                note(f"reference outside the logo removed: <{local} {alocal}="
                     f"{_short(value)}>")
            elif _OUTSIDE_URL.search(value):
                note(f"<{local} {alocal}={_short(value)}> removed: {_CSS_RULE}")
            else:
                prefix = {XLINK_NS: "xlink:", XML_NS: "xml:"}.get(ans, "")
                state["xlink"] = state["xlink"] or ans == XLINK_NS
                value = escape(value, quote=False).translate(_ATTR_BREAKS)
                quote = "'" if '"' in value and "'" not in value else '"'  # as saxutils.quoteattr
                kept.append(f" {prefix}{alocal}={quote}{value.replace(quote, '&quot;')}{quote}")
        open_tags.append((local, len(out), local == "style"))
        out.append(f"<{local}{''.join(kept)}>")
        style.clear()

    def end(name: str) -> None:
        if state["skip"]:
            state["skip"] -= 1
            return
        local, index, is_style = open_tags.pop()
        if is_style and _OUTSIDE_URL.search(css := "".join(style)):
            note(f"<style> {_short(css)} removed: {_CSS_RULE}")
            del out[index:]
        elif len(out) - 1 == index:
            out[index] = out[index][:-1] + "/>"
        else:
            out.append(f"</{local}>")

    def text(data: str) -> None:
        if not state["skip"] and open_tags:
            out.append(escape(data, quote=False))
            if open_tags[-1][2]:
                style.append(data)

    def entity(name, _is_param, _value, _base, system_id, public_id, _notation) -> None:
        where = f" ({_short(system_id or public_id)})" if system_id or public_id else ""
        note(f"entity {name!r}{where} removed: a logo may not declare entities")

    def doctype(_name, _system_id, _public_id, internal_subset: bool) -> None:
        if internal_subset:  # declarations (entities, attribute defaults): not published
            state["changed"] = True

    def instruction(target: str, data: str) -> None:
        if target.lower() == "xml-stylesheet":
            note(f"<?xml-stylesheet {_short(data)}?> removed")

    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.CharacterDataHandler, parser.EntityDeclHandler = text, entity
    parser.ProcessingInstructionHandler, parser.StartDoctypeDeclHandler = instruction, doctype
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise LogoError(f"not a readable SVG image: {expat.errors.messages[exc.code]}",
                        exc.lineno) from None
    if not state["changed"]:
        return data, []
    xmlns = f' xmlns="{SVG_NS}"' + (f' xmlns:xlink="{XLINK_NS}"' if state["xlink"] else "")
    out[0] = "<svg" + xmlns + out[0].removeprefix("<svg")  # the root, <svg ...>
    return "".join(out).encode("utf-8") + b"\n", notes


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

    def in_language(self, lang: str) -> Brand:
        """The brand with its texts in ``lang`` where brand.toml gives them."""
        text = self.config.translations.get(lang)
        return self if text is None else replace(self, config=self.config.model_copy(
            update=text.model_dump(exclude_none=True)))

    @property
    def logo_bytes(self) -> bytes:
        """The logo as published (an SVG logo sanitised): the bytes of ``logo_uri``."""
        return base64.b64decode(self.logo_uri.partition(",")[2])

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
    toml_text = path.read_text(encoding="utf-8")
    try:
        config = BrandConfig.model_validate(data)
    except ValidationError as exc:
        return None, pydantic_problems(exc, shown, lambda loc: toml_key_line(toml_text, loc),
                                       None, model=BrandConfig)
    logo = folder / config.logo
    if not logo.is_file():
        return None, [Problem(shown, toml_key_line(toml_text, ("logo",)),
                              f"logo file {config.logo!r} not found in {folder.name}/",
                              field="logo")]
    data, logo_shown = logo.read_bytes(), display_path(logo, root)
    warnings = contrast_problems(config.colors, shown, toml_text)
    if logo.suffix.lower() == ".svg":
        try:
            data, removed = clean_svg(data)
        except LogoError as exc:
            return None, [Problem(logo_shown, exc.line, str(exc), field="logo")]
        warnings += [Problem(logo_shown, line, f"{what}; the published logo leaves it out",
                             field="logo", severity="warning") for line, what in removed]
    uri = f"data:{LOGO_TYPES[logo.suffix.lower()]};base64," + base64.b64encode(data).decode()
    return Brand(folder.name, config, folder.resolve(), uri, _digest(folder)), warnings


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
