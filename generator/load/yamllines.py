"""Load YAML safely and locate its keys by line, so errors can say ``file:line``.

Rosters and front matter are edited by hand and sometimes come from strangers, so
loading is guarded: nesting deeper than :data:`MAX_DEPTH` (PyYAML composes
recursively: a deep document would raise RecursionError), aliases that expand the
document far beyond its size (a "billion laughs" bomb would take minutes and
gigabytes) and duplicated keys (YAML silently keeps the last one) are all
``yaml.YAMLError``s with a line, like any syntax error.

:func:`load_yaml` tokenises with libyaml when it is available (four times faster
on front matter) and keeps every guarantee: the events libyaml parses go through
the same guarded composer and constructor as the pure-Python loaders, and any
error, or any text where libyaml and PyYAML's own scanner are known to disagree,
is parsed again by the pure-Python loader, so data and messages stay exactly as
they are without libyaml.
"""

from __future__ import annotations

import re

import yaml
from yaml.composer import Composer, ComposerError
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.reader import Reader
from yaml.resolver import Resolver

try:
    from yaml._yaml import CParser
except ImportError:  # PyYAML built without libyaml: the pure-Python loaders only
    CParser = None

_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"
MAX_DEPTH = 64  # nesting levels; a roster or front matter needs fewer than ten
MAX_EXPANSION = 10  # aliases may make a document at most this many times its own size


class _Guarded:
    """Mixin for SafeLoader subclasses: depth limit and duplicate keys (see module doc)."""

    _depth = 0

    def compose_node(self, parent, index):
        if self._depth >= MAX_DEPTH:
            raise ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels",
                                self.peek_event().start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _value in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE:
                continue
            key = (key_node.tag, key_node.value)
            if key in seen:
                raise ConstructorError("while constructing a mapping", node.start_mark,
                                       f"found duplicate key {key_node.value!r}",
                                       key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


class TextDateLoader(_Guarded, yaml.SafeLoader):
    """SafeLoader that leaves dates as text.

    PyYAML turns ``2027-02-30`` into a ``ValueError`` from ``datetime.date`` (not a
    YAMLError) while loading the whole document; keeping dates as text lets the
    schema report it as one located field error instead of a crash.
    """


TextDateLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class TextScalarLoader(_Guarded, yaml.SafeLoader):
    """SafeLoader where every scalar but ``null`` stays text, as in a CSV cell.

    For rosters, whose fields are all text: ``id: 12345`` stays the id "12345"
    and ``locale: no`` stays Norwegian instead of becoming ``False``.
    """


TextScalarLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag == "tag:yaml.org,2002:null"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _fast_loader(slow: type) -> type | None:
    """``slow``'s composer, constructor and resolvers over libyaml's parser (see the
    module doc); only the scanner and parser differ."""
    if CParser is None:
        return None

    class Fast(_Guarded, Composer, SafeConstructor, Resolver, CParser):
        def __init__(self, stream):
            CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

    Fast.__name__ = Fast.__qualname__ = "Fast" + slow.__name__
    Fast.yaml_implicit_resolvers = slow.yaml_implicit_resolvers
    return Fast


_FAST_LOADERS = {False: _fast_loader(TextDateLoader), True: _fast_loader(TextScalarLoader)}
# Texts where libyaml accepts what PyYAML refuses (or reads it otherwise): tabs and
# other unusual spacing, '!' tags, a comment glued to a block scalar header, '?'
# near flow collections. Found by differential fuzzing; these go the slow way.
_SLOW_ONLY = re.compile(r"[\t\r\x85\ufeff\u2028\u2029!]|[|>][-+0-9]*#")


def _libyaml_ok(text: str) -> bool:
    return not (_SLOW_ONLY.search(text) or Reader.NON_PRINTABLE.search(text)
                or ("?" in text and ("[" in text or "{" in text)))


def _children(node) -> list:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _check_expansion(root, text: str) -> None:
    """Refuse recursive aliases and documents that aliases blow up (iterative walk).
    ``text`` without a ``*`` has no alias, so no node is shared: nothing to walk."""
    if "*" not in text:
        return
    sizes: dict[int, int] = {}  # id(node) -> values it expands to
    refs: dict[int, int] = {}  # id(node) -> how often it is referenced
    nodes: dict[int, object] = {}
    open_: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        key = id(node)
        if leaving:
            open_.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in _children(node))
            continue
        refs[key] = refs.get(key, 0) + 1
        if key in sizes:
            continue
        if key in open_:
            raise ComposerError(None, None, "an alias refers to its own anchor "
                                "(recursive data)", node.start_mark)
        open_.add(key)
        nodes[key] = node
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node))
    limit = MAX_EXPANSION * len(sizes) + 1000
    if sizes[id(root)] > limit:
        shared = [k for k, n in refs.items() if n > 1] or [id(root)]
        worst = nodes[max(shared, key=lambda k: sizes[k])]
        raise ComposerError(None, None, f"aliases expand the document to "
                            f"{sizes[id(root)]:,} values (at most {limit:,} allowed)",
                            worst.start_mark)


def load_yaml_document(text: str, text_scalars: bool = False):
    """``(data, root node)``: the data as :func:`load_yaml` returns it, and the composed
    node tree (for line numbers) from the same, single parse."""
    loader = (TextScalarLoader if text_scalars else TextDateLoader)(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        _check_expansion(node, text)
        return loader.construct_document(node), node
    except RecursionError:  # MAX_DEPTH should prevent it; never let it escape
        raise ComposerError(None, None, "nested too deeply", None) from None
    finally:
        loader.dispose()


def load_yaml(text: str, text_scalars: bool = False):
    """Safe YAML with dates kept as text (see :class:`TextDateLoader`);
    ``text_scalars`` keeps numbers and booleans as text too."""
    fast = _FAST_LOADERS[bool(text_scalars)]
    if fast is not None and _libyaml_ok(text):
        loader = fast(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            _check_expansion(node, text)
            return loader.construct_document(node)
        except Exception:  # the pure-Python loader below says exactly what is wrong
            pass
        finally:
            loader.dispose()
    return load_yaml_document(text, text_scalars)[0]


def item_lines(node, prefix: tuple[str, ...] = ()) -> list[int]:
    """1-based line of every item of the sequence at ``prefix`` (empty if none)."""
    for part in prefix:
        if not isinstance(node, yaml.MappingNode):
            return []
        node = next((v for k, v in node.value if str(k.value) == part), None)
    if not isinstance(node, yaml.SequenceNode):
        return []
    return [item.start_mark.line + 1 for item in node.value]


def yaml_node_line(text: str, loc: tuple[str, ...], offset: int = 0) -> int | None:
    """1-based line (plus ``offset``) of the value at ``loc`` in YAML ``text``.

    Walks the composed node tree; falls back to the deepest ancestor found.
    """
    loader = TextDateLoader(text)
    try:
        node = loader.get_single_node()
    except (yaml.YAMLError, RecursionError):
        return None
    finally:
        loader.dispose()
    if node is None:
        return None
    best = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if str(key.value) == part:
                    best = key.start_mark.line + 1 + offset
                    node = value
                    break
            else:
                return best
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(
            node.value
        ):
            node = node.value[int(part)]
            best = node.start_mark.line + 1 + offset
        else:
            return best
    return best
