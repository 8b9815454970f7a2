"""Locate YAML keys by line, so validation errors can say ``file:line``."""

from __future__ import annotations

import yaml


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
