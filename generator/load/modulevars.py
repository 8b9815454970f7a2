"""The variables a content module may use, declared once, and the tiny template
language they are written in.

A module's title, summary and body may show a few facts about the runner's guide,
``{{ race.distance_label }}`` or ``{{ sessions.pre_race.date }}``: nothing else.
:data:`VARIABLES` is the one list of them; it validates modules (``guidegen check``),
gives the public site its neutral wording and makes the README's table
(tests/test_module_vars.py checks the README against :func:`readme_table`).

The grammar is deliberately small: ``{{ name.attr }}``, optionally through one or more
of :data:`FILTERS` (``{{ race.distance_label|capitalize }}``). No statements (``{% %}``),
calls, indexing, literals, operators or names starting with ``_``: each is a located
error, found by walking Jinja's syntax tree before anything is compiled. What passes is
then evaluated by Jinja's ImmutableSandboxedEnvironment, with no globals and only those
filters, so a checker bug still cannot reach Python internals.

Markdown is converted once, at load. Each ``{{ ... }}`` is replaced by a placeholder
before conversion, so runner text never goes through Markdown (``*x*`` in a name stays
``*x*``), and the sanitised HTML is split at the placeholders (:class:`Piece`). A guide
joins the pieces with its values, escaped by the sandbox's autoescaping: a name like
``<b>Zoë</b>`` shows as text. Placeholders may only end up in text (and in the heading
ids Markdown derives from text, where the variable's neutral value is used, so ids are
the same in every guide); one in a link target or another attribute is an error.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import jinja2
from jinja2 import nodes

from generator.core.notes import N_

if TYPE_CHECKING:
    from jinja2.sandbox import ImmutableSandboxedEnvironment


@dataclass(frozen=True)
class Variable:
    name: str  # dotted, as written in a module
    description: str
    example: str  # what a runner's guide shows
    neutral: str  # what public site pages show
    varies: str  # what guides sharing its value have in common: runner, distance or clinic
    on_site: str | None = None  # for the README, when the site shows something else


VARIABLES: tuple[Variable, ...] = (
    Variable("runner.first_name", "the runner's first name (the first word of `name`)",
             "Zoë", N_("runner"), "runner"),
    Variable("runner.name", "the runner's name, as in the roster", "Zoë Ó Briain",
             N_("runner"), "runner"),
    Variable("race.name", "the race (`race_name`)", "Solent Coastal Marathon", N_("your race"),
             "runner"),
    Variable("race.date", "race day, written as the guide writes dates",
             "Sunday, 18 April 2027", N_("race day"), "runner"),
    Variable("race.distance_label", "the distance in words: `marathon`, `half marathon` or "
             "`ultra`", "half marathon", N_("race"), "distance"),
    Variable("race.distance", "the roster's `distance`: `marathon`, `half-marathon` or `ultra`",
             "half-marathon", N_("race"), "distance"),
    Variable("sessions.pre_race.date", "the day of the light pre-race massage",
             "Wednesday, 14 April 2027", N_("the days before your race"), "runner"),
    Variable("sessions.pre_race.time", "its time at the clinic", "17:30",
             N_("your appointment time"), "runner"),
    Variable("sessions.post_race.date", "the day of the light post-race massage",
             "Tuesday, 20 April 2027", N_("the days after your race"), "runner"),
    Variable("sessions.post_race.time", "its time at the clinic", "17:30",
             N_("your appointment time"), "runner"),
    Variable("clinic.name", "the clinic: the runner's brand's `name`", "Harbour Sports Therapy",
             N_("your clinic"), "clinic", on_site="the site brand's `name`"),
)
BY_NAME: dict[str, Variable] = {v.name: v for v in VARIABLES}
FILTERS = ("capitalize", "lower", "upper", "title")  # no arguments, text in, text out
TEMPLATE_SYNTAX = ("{{", "{%", "{#")  # a text without these is plain text, no Jinja at all


# bodies are HTML: values are escaped; titles and summaries are text that every page
# escapes where it shows them (templates, JSON-LD, the Atom feed), so they are not.
# Made on first use: a rebuild whose modules all come from the cache needs neither.
@functools.cache
def _sandbox(autoescape: bool) -> ImmutableSandboxedEnvironment:
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(autoescape=autoescape, undefined=jinja2.StrictUndefined,
                                        keep_trailing_newline=True)
    env.filters = {name: env.filters[name] for name in FILTERS}
    env.tests.clear()
    env.globals.clear()  # no range(), lipsum(), dict(), namespace()...
    return env


class TemplateProblem(Exception):
    """A construct a module may not use, at ``line`` of the text it was found in."""

    def __init__(self, line: int | None, message: str):
        super().__init__(message)
        self.line, self.message = line, message


def nest(flat: Mapping[str, str]) -> dict:
    """{"race.name": x} -> {"race": {"name": x}}: what the templates look names up in."""
    tree: dict = {}
    for name, value in flat.items():
        *groups, leaf = name.split(".")
        node = tree
        for group in groups:
            node = node.setdefault(group, {})
        node[leaf] = value
    return tree


def neutral_values(clinic: str | None = None,
                   translate: Callable[[str], str] = str) -> dict:
    """What site pages show (and what a guide shows for a session it does not have);
    ``translate``: the words in another language (a catalog's gettext)."""
    flat = {v.name: translate(v.neutral) for v in VARIABLES}
    if clinic is not None:
        flat["clinic.name"] = clinic
    return nest(flat)


# ------------------------------------------------------------------ checking a text

_STATEMENTS = {nodes.For: "for", nodes.If: "if", nodes.Assign: "set", nodes.AssignBlock: "set",
               nodes.Macro: "macro", nodes.CallBlock: "call", nodes.FilterBlock: "filter",
               nodes.With: "with", nodes.Include: "include", nodes.Import: "import",
               nodes.FromImport: "from", nodes.Extends: "extends", nodes.Block: "block"}
_EXPRESSIONS = {nodes.Call: "calls", nodes.Getitem: "indexing with [...] (write race.name)",
                nodes.Slice: "slices", nodes.Literal: "literal values", nodes.CondExpr:
                "inline if", nodes.Test: "tests ('is ...')", nodes.BinExpr: "operators",
                nodes.UnaryExpr: "operators", nodes.Compare: "comparisons",
                nodes.Concat: "the ~ operator"}
_HINT = "module text may only show variables, like {{ race.name }} (see README: Module variables)"


def _refuse(node: nodes.Node, what: str) -> TemplateProblem:
    return TemplateProblem(getattr(node, "lineno", None), f"{what} not allowed; {_HINT}")


def _path(node: nodes.Node) -> list[str]:
    if isinstance(node, nodes.Getattr):
        if node.attr.startswith("_"):
            raise _refuse(node, f"'{node.attr}': names starting with '_' are")
        return [*_path(node.node), node.attr]
    if isinstance(node, nodes.Name):
        if node.name.startswith("_"):
            raise _refuse(node, f"'{node.name}': names starting with '_' are")
        return [node.name]
    what = next((w for cls, w in _EXPRESSIONS.items() if isinstance(node, cls)),
                type(node).__name__)
    raise _refuse(node, f"{what} are" if what.endswith("s") else f"{what} is")


def _expression(node: nodes.Node) -> str:
    """The canonical source of an allowed expression (``race.name|upper``)."""
    if isinstance(node, nodes.Filter):
        if node.node is None or node.args or node.kwargs or node.dyn_args or node.dyn_kwargs:
            raise _refuse(node, f"the filter '{node.name}' with arguments is")
        if node.name not in FILTERS:
            raise TemplateProblem(node.lineno, f"unknown filter '{node.name}'; the filters "
                                  f"are {', '.join(FILTERS)}")
        return f"{_expression(node.node)}|{node.name}"
    name = ".".join(_path(node))
    if name in BY_NAME:
        return name
    inside = [v.name for v in VARIABLES if v.name.startswith(name + ".")]
    if inside:
        raise TemplateProblem(node.lineno, f"'{name}' is a group of variables: use "
                              f"{', '.join(inside)}")
    import difflib

    close = difflib.get_close_matches(name, BY_NAME, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"the variables are {', '.join(BY_NAME)}"
    raise TemplateProblem(node.lineno, f"unknown variable '{name}'; {hint}")


def parse_template(source: str) -> list[str | tuple[str, int]] | None:
    """``source`` as text and (expression, line) items; None when it holds no template
    syntax at all. Raises :class:`TemplateProblem` for anything outside the grammar."""
    if not any(mark in source for mark in TEMPLATE_SYNTAX):
        return None
    try:
        tree = _sandbox(True).parse(source)
    except jinja2.TemplateSyntaxError as exc:
        reason = (exc.message or "invalid").rstrip(".")
        raise TemplateProblem(exc.lineno, f"template syntax error: {reason}; to write {{{{, "
                              "{% or {# as text, put it inside {% raw %}...{% endraw %}"
                              ) from None
    items: list[str | tuple[str, int]] = []
    for statement in tree.body:
        if not isinstance(statement, nodes.Output):
            word = next((w for cls, w in _STATEMENTS.items() if isinstance(statement, cls)),
                        "...")
            raise _refuse(statement, f"'{{% {word} %}}' is")
        for node in statement.nodes:
            if isinstance(node, nodes.TemplateData):
                items.append(node.data)
            else:
                items.append((_expression(node), node.lineno))
    # the walk above accepts only names it declares; Jinja's own view must agree
    from jinja2 import meta

    unknown = meta.find_undeclared_variables(tree) - {n.split(".")[0] for n in BY_NAME}
    if unknown:  # pragma: no cover - a gap in the walk, never a silent pass
        raise TemplateProblem(None, f"unknown variable '{sorted(unknown)[0]}'")
    return items


# ------------------------------------------------------------------ pieces of text

@dataclass(frozen=True)
class Piece:
    """A text split at its variables: ``parts[0] exprs[0] parts[1] ... parts[-1]``."""

    parts: tuple[str, ...]
    exprs: tuple[str, ...]
    html: bool  # parts are HTML (a body) and values are escaped; else plain text

    def render(self, values: Mapping) -> str:
        out = [self.parts[0]]
        for expr, part in zip(self.exprs, self.parts[1:], strict=True):
            out += (_compiled(expr, self.html).render(values), part)
        return "".join(out)

    @property
    def variables(self) -> frozenset[str]:
        return frozenset(e.split("|")[0] for e in self.exprs)


@functools.cache  # per process: a few dozen distinct expressions
def _compiled(expr: str, html: bool) -> jinja2.Template:
    return _sandbox(html).from_string("{{ " + expr + " }}")


def text_piece(items: list[str | tuple[str, int]]) -> Piece:
    parts, exprs = [""], []
    for item in items:
        if isinstance(item, str):
            parts[-1] += item
        else:
            exprs.append(item[0])
            parts.append("")
    return Piece(tuple(parts), tuple(exprs), html=False)


def _slug(text: str) -> str:
    return re.sub(r"[^\w]+", "-", text.lower()).strip("-")


_TAG = re.compile(r"<[^>\"]*(?:\"[^\"]*\"[^>\"]*)*>")  # nh3 always double-quotes attributes
_ID = re.compile(r'(\sid=")([^"]*)(")')


def html_piece(items: list[str | tuple[str, int]], to_html: Callable[[str], str]) -> Piece:
    """Convert the Markdown of ``items`` once (``to_html``), variables held by
    placeholders, and split the HTML at them. Raises TemplateProblem for a variable that
    lands in a link target or another attribute."""
    text = "".join(i for i in items if isinstance(i, str))
    stem = "qzgv"
    while stem in text.lower():  # a placeholder nothing else in the module can look like
        stem += "x"
    exprs = [i for i in items if not isinstance(i, str)]  # (expression, line)
    marker = re.compile(stem + r"(\d+)z")
    numbers = iter(range(len(exprs)))
    html = to_html("".join(i if isinstance(i, str) else f"{stem}{next(numbers)}z"
                           for i in items))

    def in_tag(tag: re.Match) -> str:
        def in_id(m: re.Match) -> str:  # Markdown's heading ids: the neutral wording
            value = marker.sub(lambda p: _slug(BY_NAME[exprs[int(p[1])][0].split("|")[0]]
                                                .neutral), m[2])
            return m[1] + value + m[3]

        fixed = _ID.sub(in_id, tag[0])
        left = marker.search(fixed)
        if left:
            raise TemplateProblem(exprs[int(left[1])][1], "variables can only be used in "
                                  "text, not in a link target, image or other attribute")
        return fixed

    html = _TAG.sub(in_tag, html)
    split = marker.split(html)  # text, index, text, index, ..., text
    return Piece(tuple(split[0::2]), tuple(exprs[int(i)][0] for i in split[1::2]), html=True)


@dataclass(frozen=True)
class ModuleText:
    """The templated title, summary and body of a module that uses variables (a field
    is None when that text has none)."""

    title: Piece | None
    summary: Piece | None
    body: Piece | None

    @property
    def variables(self) -> frozenset[str]:
        return frozenset().union(*(p.variables for p in (self.title, self.summary, self.body)
                                   if p is not None))


_SHARED_BY = {"runner": "one runner", "distance": "every runner of that distance",
              "clinic": "every runner of that clinic"}


def readme_table() -> str:
    """The README's table of module variables, made from :data:`VARIABLES`."""
    rows = ["| variable | what it is | in a guide, e.g. | on the site "
            "| the same in the guides of |", "|---|---|---|---|---|"]
    rows += [f"| `{{{{ {v.name} }}}}` | {v.description} | {v.example} | "
             f"{v.on_site or v.neutral} | {_SHARED_BY[v.varies]} |" for v in VARIABLES]
    return "\n".join(rows)
