"""A Jinja environment that notes, while it compiles a template, what
``jinja2.meta`` would find in it: the names the template reads from its context and
the templates it names (extends, includes, imports).

The page cache needs both for every page template: :func:`reads` (render/pagecache.py
makes page keys from what it gives).
Asking ``jinja2.meta`` parses the template's source a second time and generates its code
a second time (``find_undeclared_variables`` runs a code generator that writes nothing);
a cold build of the site spent as long on that as on compiling its templates. Here the
compiling code generator does the tracking ``meta.TrackingCodeGenerator`` does, so the
answer costs nothing more. A template whose code came from the bytecode cache was not
compiled: :meth:`TracedEnvironment.noted` has nothing for it, and ``reads`` asks
``jinja2.meta`` as before.

Every environment ``Renderer.env`` makes (one per brand and language) shares compiled
code (render/codecache.py), so only the first compiles a template; the notes are shared
likewise, by the template's name and source and what else decides the answer: the
syntax settings and extensions (the tree) and the names of the globals (a global is not
an undeclared name).
"""

from __future__ import annotations

from collections.abc import Iterable

import jinja2
from jinja2 import meta, nodes
from jinja2.compiler import CodeGenerator, Frame


class _Tracking(CodeGenerator):
    """Generates the template's code, and notes its undeclared names as
    ``meta.TrackingCodeGenerator`` does (the same frames: the same answer)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.undeclared: set[str] = set()

    def enter_frame(self, frame: Frame) -> None:
        super().enter_frame(frame)
        for _, (action, param) in frame.symbols.loads.items():
            if action == "resolve" and param not in self.environment.globals:
                self.undeclared.add(param)


NOTED_MAX = 1024  # notes kept (serve notes each version of a template it compiles)
_NOTED: dict[tuple, tuple[frozenset[str], tuple[str | None, ...]]] = {}


class TracedEnvironment(jinja2.Environment):
    """Notes, for each template it compiles from source, its undeclared names and the
    templates it names (:meth:`noted`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._parsed: dict[str | None, tuple[nodes.Template, str]] = {}

    def noted(self, name: str, source: str
              ) -> tuple[frozenset[str], tuple[str | None, ...]] | None:
        """(``meta.find_undeclared_variables``, ``meta.find_referenced_templates``) of
        ``name`` with this ``source``, if an environment like this one compiled it."""
        return _NOTED.get((self._settings(), name, source))

    def _settings(self) -> tuple:
        return (self.block_start_string, self.block_end_string, self.variable_start_string,
                self.variable_end_string, self.comment_start_string, self.comment_end_string,
                self.line_statement_prefix, self.line_comment_prefix, self.optimized,
                tuple(sorted(self.extensions)), frozenset(self.globals))

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        self._parsed[name] = (tree, source)  # for _generate, which is handed only the tree
        return tree

    def _generate(self, source: nodes.Template, name: str | None, filename: str | None,
                  defer_init: bool = False) -> str:
        parsed = self._parsed.pop(name, None)
        # before the code generator: its optimizer folds constants in the tree in place
        referenced = tuple(meta.find_referenced_templates(source))
        generator = _Tracking(self, name, filename, None, defer_init, self.optimized)
        generator.visit(source)
        if name is not None and parsed is not None and parsed[0] is source:
            if len(_NOTED) >= NOTED_MAX:
                _NOTED.clear()
            _NOTED[(self._settings(), name, parsed[1])] = (frozenset(generator.undeclared),
                                                           referenced)
        return generator.stream.getvalue()


def reads(env: jinja2.Environment, name: str, memo: dict | None = None
          ) -> frozenset[str] | None:
    """Undeclared names of ``name`` and of every template it extends, includes or
    imports; None when a template is named only at render time, one cannot be loaded,
    or one of our filters, tests or globals is handed the whole context. ``memo`` keeps
    what each template's source gives, for the next page template that uses it."""
    for table in (env.filters, env.tests, env.globals):
        for func in table.values():  # @pass_context marks a function with jinja_pass_arg
            passed = getattr(getattr(func, "jinja_pass_arg", None), "name", None)
            if passed == "context" and not getattr(func, "context_free", False) and not (
                    getattr(func, "__module__", None) or "").startswith("jinja2."):
                return None
    names: set[str] = set()
    todo, seen = [name], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            source, _filename, _uptodate = env.loader.get_source(env, current)
            found = memo.get((id(env), current)) if memo is not None else None
            noted = getattr(env, "noted", None)  # as it compiled (TracedEnvironment)
            if (found is None or found[1] != source) and noted is not None:
                if (noted_here := noted(current, source)) is None:
                    env.get_template(current)  # compiled now rather than as it renders
                    noted_here = noted(current, source)
                found = (env, source, *noted_here) if noted_here else None
            if found is None or found[1] != source:
                tree = env.parse(source, current)
                found = (env, source, meta.find_undeclared_variables(tree),
                         list(meta.find_referenced_templates(tree)))
                if memo is not None:
                    memo[(id(env), current)] = found  # the env kept: its id stays its own
        except jinja2.TemplateError:
            return None  # rendering reports it, located
        names |= found[2]
        for other in found[3]:
            if other is None:
                return None
            todo.append(other)
    return frozenset(names)


def compile_all(env: jinja2.Environment, names: Iterable[str] = (), prefix: str = "site/"
                ) -> None:
    """Compile ``names`` and every template whose name starts with ``prefix`` (the
    pages' and what they extend or import), noting what each reads. Errors are left for
    rendering to report, located, as usual."""
    try:
        listed = set(env.list_templates(filter_func=lambda name: name.startswith(prefix)))
    except TypeError:  # a loader that cannot list its templates
        listed = set()
    for name in sorted(listed.union(names)):
        try:
            env.get_template(name)
        except jinja2.TemplateError:
            pass
