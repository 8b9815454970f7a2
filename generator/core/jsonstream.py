"""JSON for other tools, written item by item: ``timeline --json`` of a 50,000-runner roster
is a few hundred megabytes of text that never needs to be in memory at once.

:func:`json_array` gives exactly the text of ``json.dumps(list(items), indent=2,
ensure_ascii=False)`` (tests/test_scale.py compares them byte for byte), one item at a
time, from each item's :func:`array_item` text (which workers may make in parallel);
:func:`json_line` is one compact item per line (JSON Lines), for pipelines.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

INDENT = 2
_PAD = "\n" + " " * INDENT


def array_item(item) -> str:
    """``item`` as :func:`json_array` nests it: its lines one level further in. JSON
    escapes every line break inside strings, so shifting the text's line breaks is exact."""
    return json.dumps(item, indent=INDENT, ensure_ascii=False).replace("\n", _PAD)


def json_array(texts: Iterable[str]) -> Iterator[str]:
    """The pieces of the JSON array of the items whose :func:`array_item` texts are
    ``texts`` (no trailing newline, like ``json.dumps``)."""
    first = True
    for text in texts:
        yield ("[" if first else ",") + _PAD + text
        first = False
    yield "[]" if first else "\n]"


def json_line(item) -> str:
    """One JSON Lines line: the item, compact, with its newline."""
    return json.dumps(item, ensure_ascii=False) + "\n"
