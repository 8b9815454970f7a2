"""Problems that carry their source, and the one exception hierarchy.

Loaders never raise for a single bad item: they return the good items plus a
list of :class:`Problem` (``path:line: field: message``).  Whole-command
failures raise a :class:`GuidegenError`, which knows its exit code and is
caught once, in the CLI.
"""

from __future__ import annotations

import os
import reprlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import get_args

from generator.core.vocab import PATTERN_WORDS

EXIT_OK = 0
EXIT_INVALID_INPUT = 1
EXIT_USAGE = 2


def bounded_repr(width: int) -> reprlib.Repr:
    """A reprlib.Repr that stays short and fast on any nesting (3.11 has no kwargs)."""
    short = reprlib.Repr()
    short.maxstring = short.maxother = 3 * width  # callers cut to ``width`` themselves
    short.maxlist = short.maxtuple = short.maxdict = short.maxset = 10
    short.maxlevel = 3
    return short


# what a problem line may not contain: line breaks (a problem is one line), control
# characters (a roster cell must not drive the terminal it is printed on) and bidi
# controls (nor reorder the line it is shown in)
_UNPRINTABLE = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7f, 0xa0))} | {
    c: f"\\u{c:04x}" for c in (0x2028, 0x2029, 0x200e, 0x200f, *range(0x202a, 0x202f),
                                *range(0x2066, 0x206a))}
_SHORT = bounded_repr(60)


@dataclass(frozen=True)
class Problem:
    """One located problem in an input file."""

    path: str
    line: int | None
    message: str
    field: str | None = None
    severity: str = "error"  # "error", "warning" or "note" (worth knowing; nothing wrong)
    athlete_id: str | None = None  # the runner it concerns, when it concerns one

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        field = f"{self.field}: " if self.field else ""
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{where}: {prefix}{field}{self.message}".translate(_UNPRINTABLE)

    def to_dict(self) -> dict:
        return asdict(self)


class GuidegenError(Exception):
    """Base class: an error the CLI shows as one line and exits with ``exit_code``."""

    exit_code = EXIT_USAGE

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        problems: list[Problem] | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.problems = problems or []

    def __reduce__(self):
        # keep path, line and problems when the error crosses a process boundary
        return (_rebuild_error, (type(self), self.message, self.path, self.line,
                                 self.problems))

    def lines(self) -> list[str]:
        """What the CLI prints: one line per problem."""
        return [str(p) for p in self.problems] or [str(self)]

    def __str__(self) -> str:
        if self.path is None:
            return self.message
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.message}"


def _rebuild_error(cls, message, path, line, problems):
    return cls(message, path=path, line=line, problems=problems)


class ConfigError(GuidegenError):
    """The project configuration cannot be used: nothing can be built."""


class UsageError(GuidegenError):
    """The command line asks for something impossible."""


class DependencyError(GuidegenError):
    """A system library (Pango, HarfBuzz...) is missing; the message says what to install."""


class RenderError(GuidegenError):
    """A template failed to render (syntax error, undefined variable)."""

    exit_code = EXIT_INVALID_INPUT


def display_path(path: Path, root: Path | None = None) -> str:
    """Path as users typed it: relative to ``root`` (or cwd) when inside it."""
    return display_paths([path], root)[0]


def display_paths(paths: list[Path], root: Path | None = None) -> list[str]:
    """:func:`display_path` of each path, resolving ``root`` and cwd once for all."""
    bases: list[Path | None] = [root.resolve() if root is not None else None, None]
    folders: dict[Path, Path] = {}  # each folder resolved once (hundreds of modules share one)
    shown = []
    for path in paths:
        text = str(path)
        if path.name not in ("", "..") and not path.is_symlink():  # its folder's + name
            folder = folders.get(path.parent)
            if folder is None:
                folder = folders[path.parent] = path.parent.resolve()
            resolved = folder / path.name
        else:
            resolved = path.resolve()
        for i in (0, 1):
            if i == 1 and bases[1] is None:
                bases[1] = Path.cwd().resolve()  # only when needed, as display_path did
            if bases[i] is not None:
                inside = _inside(resolved, bases[i])
                if inside is not None:
                    text = inside
                    break
        shown.append(text)
    return shown


def _inside(path: Path, base: Path) -> str | None:
    """``str(path.relative_to(base))`` if ``path`` is inside ``base``, else None; both
    resolved. On POSIX, where both are plain strings without '.' or '..' parts, by their
    text (pathlib parses them again for each call)."""
    if os.name != "posix":
        return str(path.relative_to(base)) if path.is_relative_to(base) else None
    text, folder = str(path), str(base)
    if text == folder:
        return "."
    folder = folder if folder.endswith("/") else folder + "/"
    return text[len(folder):] if text.startswith(folder) else None


def yaml_error_line(exc: Exception) -> int | None:
    """1-based line of a PyYAML error, if it has a mark."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return mark.line + 1 if mark is not None else None


# what PyYAML was reading when it failed, said for the person who edits the file
_YAML_CONTEXTS = {"while scanning a quoted scalar": "the quoted text",
                  "while parsing a flow sequence": "the [ ] list",
                  "while parsing a flow mapping": "the { } mapping",
                  "while parsing a block mapping": "the block of keys",
                  "while scanning a simple key": "the key"}


def yaml_reason(exc: Exception, offset: int = 0) -> str:
    """Why PyYAML refused a text, for ``invalid YAML: ...``: its problem, and where the
    construct it was reading began when that is another line ("found unexpected end of
    stream (in the quoted text that starts on line 2)"); a tab is said as one. ``offset``:
    lines before the text in its file (front matter starts on line 2)."""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if "'\\t' that cannot start any token" in problem:
        return "a tab character; indent with spaces"
    if problem == "mapping values are not allowed here":
        return "a second ': ' on one line; put text that holds ': ' in quotes"
    if problem.startswith("expected <block end>"):
        problem = "this line's indentation does not line up with the lines above it"
    where = _YAML_CONTEXTS.get(getattr(exc, "context", None) or "")
    start, end = getattr(exc, "context_mark", None), getattr(exc, "problem_mark", None)
    if where and start is not None and (end is None or start.line != end.line):
        problem += f" (in {where} that starts on line {start.line + 1 + offset})"
    return problem


# pydantic's messages for a value of the wrong kind, said for people who edit
# spreadsheets and Markdown rather than Python
_KINDS = {"int_parsing": "a whole number", "int_type": "a whole number",
          "int_from_float": "a whole number", "float_parsing": "a number",
          "float_type": "a number", "bool_parsing": "true or false",
          "bool_type": "true or false", "string_type": "text", "list_type": "a list"}


def plain_message(err: dict) -> str:
    """A validation error's message in guidegen's words: pydantic's "Value error, "
    prefix dropped, "Input should be ..." said as "must be ...", as guidegen's own checks
    say it ("must be before race_date"), and a value of the wrong kind or shape named
    plainly ("must be a whole number", not "a valid integer, unable to parse string as an
    integer"; "must be a colour as #rrggbb", not the regular expression)."""
    kind = _KINDS.get(err["type"])
    if kind is None and err["type"] == "string_pattern_mismatch":
        kind = PATTERN_WORDS.get((err.get("ctx") or {}).get("pattern"))
    if kind is not None:
        return f"must be {kind}"
    msg = err["msg"].removeprefix("Value error, ")
    for said in ("Input should ", "String should ", "List should "):
        if msg.startswith(said):  # "String should have at most 120 characters"
            return "must " + msg.removeprefix(said)
    return msg


def shows_value(msg: str, value) -> bool:
    """Whether ``msg`` already quotes ``value`` (or, for a list, one of its items): then
    no "(got ...)" is added to say it again."""
    if "(got " in msg:
        return True
    items = value[:10] if isinstance(value, list | tuple) else [value]
    return any(isinstance(v, str) and v.strip() and v.strip()[:40] in msg for v in items)


def known_keys(model) -> frozenset[str]:
    """Every key ``model`` (a pydantic model class) and the models inside it accept."""
    keys, seen, todo = set(), set(), [model]
    while todo:
        kind = todo.pop()
        if isinstance(kind, type) and hasattr(kind, "model_fields") and kind not in seen:
            seen.add(kind)
            for name, field in kind.model_fields.items():
                keys.add(field.alias or name)
                todo.append(field.annotation)
        else:
            todo.extend(get_args(kind))
    return frozenset(keys)


def did_you_mean(name: str, known) -> str:
    """" (did you mean 'summary'?)" when ``name`` is close to one of ``known``, else ""."""
    import difflib

    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def pydantic_problems(
    exc, path: str, line_of: callable, default_line: int | None, severity: str = "error",
    model=None,
) -> list[Problem]:
    """Turn a pydantic ValidationError into located problems, in the order of their lines.

    ``line_of(loc)`` maps a field location tuple to a line number (or None). ``model``,
    the model that refused the data: an unknown key close to one it accepts says which
    ("unknown key (did you mean 'summary'?)").
    """
    problems = []
    for err in exc.errors():
        loc = tuple(str(p) for p in err["loc"])
        field = ".".join(loc) if loc else None
        msg = plain_message(err)
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
            if model is not None and loc:
                msg += did_you_mean(loc[-1], known_keys(model))
        elif err["type"] == "missing":
            msg = "required field is missing"
        elif "input" in err and not isinstance(err["input"], dict) and not shows_value(
            msg, err["input"]
        ):
            got = _SHORT.repr(err["input"])  # bounded: YAML aliases can make it huge
            if len(got) > 60:
                got = got[:57] + "..."
            msg = f"{msg} (got {got})"
        problems.append(
            Problem(path, line_of(loc) or default_line, msg, field=field, severity=severity)
        )
    return sorted(problems, key=lambda p: p.line or 0)
