"""Content modules: Markdown files with validated YAML front matter.

Their bodies become HTML through :mod:`generator.load.markdown_html`."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import frontmatter
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from generator.core.errors import (
    Problem,
    display_path,
    display_paths,
    pydantic_problems,
    yaml_error_line,
    yaml_reason,
)
from generator.core.vocab import SLUG, Distance, Experience, Frequency, Pressure
from generator.core.vocab import SessionKind as Kind
from generator.load.markdown_html import (
    _BLOCK_NEEDS,
    _INLINE_NEEDS,
    _markdown,
    convert_markdown,
    render_markdown,
    sanitise,
    shift_headings,
    skippable,
)
from generator.load.modulevars import (
    ModuleText,
    Piece,
    TemplateProblem,
    html_piece,
    neutral_values,
    parse_template,
    text_piece,
)
from generator.load.translations import attach, is_translation, structural_keys
from generator.load.yamllines import load_yaml, yaml_node_line

# the Markdown machinery moved to markdown_html: re-exported for existing imports
__all__ = [
    "MAX_INDENT", "SLUG_RE", "FrontMatter", "Module", "SessionRule", "When", "_BLOCK_NEEDS",
    "_INLINE_NEEDS", "_markdown", "convert_markdown", "load_modules", "parse_module",
    "render_markdown", "sanitise", "shift_headings", "skippable",
]

SLUG_RE = SLUG  # a module's slug (the name other modules import)
MAX_INDENT = 160  # columns of indentation (or '>' quoting) before a line's text


class _Strict(BaseModel):
    # validators are built on first use (the same ones, the same errors): a rebuild whose
    # modules all come from the content cache validates no front matter and builds none
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class SessionRule(_Strict):
    """One timeline rule, declared next to the prose that explains it."""

    kind: Kind
    pressure: Pressure
    duration: int = Field(default=60, ge=15, le=180)
    stop_days_before: int | None = Field(default=None, ge=7, le=60)
    every: Literal["athlete", "auto", "weekly", "biweekly"] | None = None
    days_before: tuple[int, int] | None = None
    days_after: tuple[int, int] | None = None

    @model_validator(mode="after")
    def _fits_kind(self) -> SessionRule:
        allowed = {
            "maintenance": {"stop_days_before", "every"},
            "pre-race": {"days_before"},
            "post-race": {"days_after"},
        }[self.kind]
        for name in ("stop_days_before", "every", "days_before", "days_after"):
            if getattr(self, name) is not None and name not in allowed:
                raise ValueError(f"'{name}' does not apply to a {self.kind} session")
        window = self.days_before if self.kind == "pre-race" else self.days_after
        if self.kind != "maintenance":
            if window is None:
                name = "days_before" if self.kind == "pre-race" else "days_after"
                raise ValueError(f"a {self.kind} session needs '{name}: [FIRST, LAST]'")
            lo, hi = window
            if not 1 <= lo <= hi <= 14:
                raise ValueError("window must be [FIRST, LAST] with 1 <= FIRST <= LAST <= 14")
        if self.kind == "pre-race" and self.pressure != "light" and self.days_before[0] <= 7:
            raise ValueError("sessions in the 7 days before the race must be light")
        return self

    @property
    def stop(self) -> int:
        return self.stop_days_before if self.stop_days_before is not None else 10

    @property
    def frequency(self) -> str:
        return self.every or "athlete"


class When(_Strict):
    """Conditions on the athlete for including a module in their guide."""

    experience: list[Experience] | None = None
    distance: list[Distance] | None = None
    focus_areas: list[str] | None = None
    massage_frequency: list[Frequency] | None = None

    def overlaps(self, other: When) -> bool:
        """Whether one runner could match both conditions. Focus areas never separate two
        modules: a runner may have several."""
        for name in ("experience", "distance", "massage_frequency"):
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine is not None and theirs is not None and not set(mine) & set(theirs):
                return False
        return True

    def matches(self, athlete) -> bool:
        for name in ("experience", "distance", "massage_frequency"):
            wanted = getattr(self, name)
            if wanted is not None and getattr(athlete, name) not in wanted:
                return False
        if self.focus_areas is not None:
            have = {a.lower() for a in athlete.focus_areas}
            if not have & {a.lower() for a in self.focus_areas}:
                return False
        return True


class FrontMatter(_Strict):
    title: str = Field(min_length=1, max_length=200)
    slug: str | None = Field(default=None, pattern=SLUG_RE)
    order: int = 100
    summary: str | None = Field(default=None, max_length=300)
    tags: list[str] = []
    draft: bool = False
    audience: list[Literal["guide", "site"]] = ["guide", "site"]
    when: When = When.model_construct()  # When(), without building its validator now
    sessions: list[SessionRule] = []
    updated: dt.date | None = None  # last real edit: the site's lastmod and feed date


@dataclass(frozen=True)
class Module:
    slug: str
    title: str
    order: int
    summary: str | None
    tags: tuple[str, ...]
    draft: bool
    audience: tuple[str, ...]
    when: When
    sessions: tuple[SessionRule, ...]
    html: str  # sanitised body HTML, body headings start at h2
    source: str  # path as shown in messages
    digest: str  # sha256 of the source file
    text: ModuleText | None = None  # title, summary, body with variables (modulevars.py)
    updated: dt.date | None = None  # front matter 'updated:' (else git, see render/site.py)
    lang: str | None = None  # a translation's language (load/translations.py); None: base
    translations: dict = field(default_factory=dict, hash=False, compare=False)  # lang -> it

    def in_language(self, lang: str) -> Module:
        """This module in ``lang``: its translation, else itself (the project's language)."""
        return self.translations.get(lang, self)

    def with_values(self, values: Mapping) -> Module:
        """The module as one guide (or the site) shows it: title, summary and HTML with
        its variables replaced by ``values`` (escaped in the HTML). ``title``, ``summary``
        and ``html`` as loaded hold the site's neutral wording; a module without
        variables is returned as it is."""
        text = self.text
        if text is None:
            return self
        return replace(self, title=text.title.render(values) if text.title else self.title,
                       summary=text.summary.render(values) if text.summary else self.summary,
                       html=text.body.render(values) if text.body else self.html)

    def for_guide(self, athlete) -> bool:
        return not self.draft and "guide" in self.audience and self.when.matches(athlete)

    @property
    def on_site(self) -> bool:
        return not self.draft and "site" in self.audience


def _split_front_matter(text: str) -> tuple[str, str, int]:
    """(front matter, body, line offset of the front matter inside the file).

    python-frontmatter keeps the newline after the opening '---', so the offset is
    measured rather than assumed (assuming 1 put every YAML line one too low).
    """
    fm_text, body = frontmatter.YAMLHandler().split(text)
    return fm_text, body, text.count("\n", 0, text.find(fm_text))


def _front_matter_line(path: Path, loc: tuple[str, ...]) -> int:
    """Line of a front-matter key in an already-parsed module (1 if not found)."""
    text = path.read_bytes().decode("utf-8-sig").replace("\r\n", "\n")
    fm_text, _, offset = _split_front_matter(text)
    return yaml_node_line(fm_text, loc, offset) or 1


def parse_module(path: Path, shown: str) -> tuple[Module | None, list[Problem]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Problem(shown, None, f"cannot read the file: {exc.strerror}")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [Problem(shown, None, f"not valid UTF-8 ({exc.reason})")]
    text = text.replace("\r\n", "\n")
    if not text.startswith("---\n"):
        return None, [Problem(shown, 1, "front matter missing: the file must start with '---'")]
    try:
        fm_text, body, offset = _split_front_matter(text)
    except ValueError:
        return None, [Problem(shown, 1, "front matter is not closed by a '---' line")]
    try:
        data = load_yaml(fm_text)
    except yaml.YAMLError as exc:
        line = yaml_error_line(exc)
        return None, [Problem(shown, line + offset if line else 1,
                              f"invalid YAML: {yaml_reason(exc, offset)}")]
    if not isinstance(data, dict):
        return None, [Problem(shown, 2, "front matter must be a mapping of keys to values")]
    if is_translation(path):
        wrong = structural_keys(data, fm_text, offset, shown)
        if wrong:
            return None, wrong
    try:
        meta = FrontMatter.model_validate(data)
    except ValidationError as exc:
        return None, pydantic_problems(
            exc, shown, lambda loc: yaml_node_line(fm_text, loc, offset), 2, model=FrontMatter
        )
    first = text.count("\n", 0, len(text) - len(body.lstrip("\n"))) + 1  # body's 1st line
    deep = next((no for no, line in enumerate(body.lstrip("\n").split("\n"), first)
                 if len(line) - len(line.lstrip(" \t>")) > MAX_INDENT), None)
    try:
        if deep is not None:  # Python-Markdown takes minutes over hundreds of levels
            raise RecursionError
        templated, problems = _module_text(meta, body, text, fm_text, offset, shown)
        if problems:
            return None, problems
        html = render_markdown(body) if templated is None or templated.body is None else ""
    except RecursionError:  # Python-Markdown recurses per nesting level
        return None, [Problem(shown, deep or first, "Markdown nested too deeply (lists or "
                              "quotes inside each other)")]
    module = Module(
        slug=meta.slug or path.stem,
        title=meta.title,
        order=meta.order,
        summary=meta.summary,
        tags=tuple(meta.tags),
        draft=meta.draft,
        audience=tuple(meta.audience),
        when=meta.when,
        sessions=tuple(meta.sessions),
        html=html,
        source=shown,
        digest=hashlib.sha256(raw).hexdigest(),
        text=templated,
        updated=meta.updated,
    )
    # as loaded, a module reads as on the public site: neutral values
    return module.with_values(neutral_values()), []


def _module_text(meta: FrontMatter, body: str, text: str, fm_text: str, offset: int,
                 shown: str) -> tuple[ModuleText | None, list[Problem]]:
    """The module's title, summary and body split at their variables (None when it uses
    none), or the problems that refuse it: ``content/x.md:LINE: body: ...``."""
    pieces: dict[str, Piece | None] = {}
    problems = []
    body_line = text.count("\n", 0, len(text) - len(body))  # body's line 1 is the '---'
    last_line = text.count("\n") + 1
    for name, source in (("title", meta.title), ("summary", meta.summary), ("body", body)):
        try:
            items = parse_template(source) if source is not None else None
            if items is None:
                pieces[name] = None
            elif name == "body":
                pieces[name] = html_piece(items, render_markdown)
            else:
                pieces[name] = text_piece(items)
        except TemplateProblem as exc:
            if name == "body":
                line = min(body_line + (exc.line or 2), last_line)
            else:  # a title or summary: the line of its key
                line = yaml_node_line(fm_text, (name,), offset)
            problems.append(Problem(shown, line, exc.message, name))
    if problems or not any(pieces.values()):
        return None, problems
    return ModuleText(pieces["title"], pieces["summary"], pieces["body"]), []


def _rule_clash(module: Module, path: Path, seen_kind: dict[str, list]
                ) -> tuple[int, str] | None:
    """Several modules may declare one session kind only for runners that no two of them
    can match (``when`` conditions that exclude each other): the first clash, as (index
    of the rule, message naming both modules and lines)."""
    if "guide" not in module.audience:
        return None
    for index, rule in enumerate(module.sessions):
        for other, shown, other_path, other_index in seen_kind.get(rule.kind, ()):
            if "guide" in other.audience and module.when.overlaps(other.when):
                line = _front_matter_line(other_path, ("sessions", str(other_index), "kind"))
                where = f"{shown}:{line}" if line else shown
                return index, (f"a {rule.kind} session rule is already declared in {where} "
                               "for runners this module's 'when' also matches; make the "
                               "'when' conditions exclude each other")
    return None


def _parse_job(job: tuple[Path, str]):
    return parse_module(*job)


def _before_fork() -> None:
    """The Markdown converter and the front-matter validator (deferred: see ``_Strict``)
    made once here, inherited by forked workers, not made again in each."""
    _markdown()
    FrontMatter.model_rebuild()


def _parse_all(jobs: list[tuple[Path, str]], meanwhile: Callable[[], None] | None = None
               ) -> list:
    if len(jobs) < 2:  # a rebuild after an edit: no worker pool to import nor start
        return [_parse_job(job) for job in jobs]
    from generator.core.parallel import pmap

    return pmap(_parse_job, jobs, before_fork=_before_fork, meanwhile=meanwhile)


def load_modules(content_dir: Path, root: Path | None = None, cache=None,
                 meanwhile: Callable[[], None] | None = None
                 ) -> tuple[list[Module], list[Problem]]:
    """Every ``*.md`` under ``content_dir``, sorted by (order, slug); problems for the rest.
    ``cache`` (a ``load.contentcache.ContentCache``) parses only files it does not hold.
    ``meanwhile()`` runs while workers parse the modules, if workers parse them."""
    modules: list[Module] = []
    problems: list[Problem] = []
    if not content_dir.is_dir():
        return [], [Problem(display_path(content_dir, root), None, "content folder not found")]
    seen_slug: dict[str, str] = {}
    # kind -> [(module, shown path, path, index of its rule)]: the rule's line is looked
    # up only for a clash (it means reading and parsing the file's front matter again)
    seen_kind: dict[str, list] = {}
    paths = sorted(p for p in content_dir.rglob("*.md") if p.is_file())
    jobs = list(zip(paths, display_paths(paths, root), strict=True))
    translated = [j for j in jobs if is_translation(j[0])]  # attached to their bases below
    jobs = [j for j in jobs if not is_translation(j[0])]
    every = jobs + translated  # parsed at once: on every core, through the cache
    parse_all = _parse_all if meanwhile is None else functools.partial(
        _parse_all, meanwhile=meanwhile)
    parsed = parse_all(every) if cache is None else cache.parse(every, parse_all)
    translations = dict(zip(translated, parsed[len(jobs):], strict=True))
    for (path, shown), (module, probs) in zip(jobs, parsed[:len(jobs)], strict=True):
        problems.extend(probs)
        if module is None:
            continue
        if not re.match(SLUG_RE, module.slug):
            problems.append(Problem(shown, None, f"file name {path.stem!r} is not a valid slug "
                                    "(lowercase letters, digits, '-'); set 'slug:'", "slug"))
            continue
        if module.slug in seen_slug:
            problems.append(Problem(shown, _front_matter_line(path, ("slug",)),
                                    f"slug {module.slug!r} is already used by "
                                    f"{seen_slug[module.slug]}", "slug"))
            continue
        if not module.draft:
            clash = _rule_clash(module, path, seen_kind)
            if clash is not None:
                index, message = clash
                line = _front_matter_line(path, ("sessions", str(index), "kind"))
                problems.append(Problem(shown, line, message, "sessions"))
                continue
            for index, rule in enumerate(module.sessions):
                seen_kind.setdefault(rule.kind, []).append((module, shown, path, index))
        seen_slug[module.slug] = shown
        modules.append(module)
    modules.sort(key=lambda m: (m.order, m.slug))
    modules, found = attach(modules, translated, lambda *job: translations[job],
                            None if cache is None else cache.derive)
    return modules, problems + found
