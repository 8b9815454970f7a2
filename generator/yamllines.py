"""Locate YAML keys by line, so validation errors can say ``file:line``."""

from __future__ import annotations

import yaml

_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class TextDateLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text.

    PyYAML turns ``2027-02-30`` into a ``ValueError`` from ``datetime.date`` (not a
    YAMLError) while loading the whole document; keeping dates as text lets the
    schema report it as one located field error instead of a crash.
    """


TextDateLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class TextScalarLoader(yaml.SafeLoader):
    """SafeLoader where every scalar but ``null`` stays text, as in a CSV cell.

    For rosters, whose fields are all text: ``id: 12345`` stays the id "12345"
    and ``locale: no`` stays Norwegian instead of becoming ``False``.
    """


TextScalarLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag == "tag:yaml.org,2002:null"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str, text_scalars: bool = False):
    """``yaml.safe_load`` with dates kept as text (see :class:`TextDateLoader`);
    ``text_scalars`` keeps numbers and booleans as text too."""
    return yaml.load(text, Loader=TextScalarLoader if text_scalars else TextDateLoader)


def yaml_node_line(text: str, loc: tuple[str, ...], offset: int = 0) -> int | None:
    """1-based line (plus ``offset``) of the value at ``loc`` in YAML ``text``.

    Walks the composed node tree; falls back to the deepest ancestor found.
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
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
