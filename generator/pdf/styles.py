"""An element's computed style worked out once per worker, then reused by later guides.

WeasyPrint computes a style for every element of every document it lays out
(``weasyprint.css.StyleFor``), and each property of it lazily, the first time layout or
painting reads it (``ComputedStyle.__missing__``): about a sixth of a batch worker's time.
Within a document it already shares one style between elements whose parent style and
matched rules are the same. The guides of a batch are made of the same templates and
stylesheets, so most of their elements get the same style in every guide.

A computed style is a function of: its parent's computed style (which leads up to the root
style), the element's cascaded declarations (each property's winning value and weight),
the document's base URL and font configuration, and, for viewport units alone, the size of
the document's first page. So, inside :func:`keeping` (the batch's fast path), an
element's style is kept under its parent style's identity and its cascaded values (read
by value: a stylesheet parsed again for each guide, as the ``<style>`` blocks of a guide's
HTML are, gives the same key), and a later document whose element has the same parent
style and cascade gets the very same style object, with every property already computed.

The styles of pseudo-elements (``::before``, ``::marker``: every element has several, as
stylesheets give them rules) are kept the same way, under their element's style.

A style is not kept (it is computed as usual, and so is every style under it) when its
cascade uses viewport units (its values would follow another document's page size), holds
a value that cannot be compared by value, or when it is the root or ``<body>`` style and
its ``overflow`` is not ``visible`` (WeasyPrint moves that value to the page and sets the
element's to ``visible``: a change a later document must not inherit), or the root's
``display`` is ``none`` (WeasyPrint then rewrites its descendants' styles). Page styles are
never kept (WeasyPrint adds to their counters as it lays pages out). Anchors are still
registered in each document.

tests/test_styles.py compares the bytes with and without kept styles.
"""

from __future__ import annotations

from collections import OrderedDict

from generator.pdf import internals
from generator.pdf.scope import Scope

enabled = True  # tests turn it off to compare the bytes
counts = {"kept": 0, "reused": 0, "computed": 0}
LIMIT = 15_000  # styles kept per worker (under 1 kB each), and cascaded values' keys: the
# least recently used dropped first

# (parent style's id or ("root", base URL, font configuration), cascade as a key)
#   -> (style, parent style): the parent is held so that its id names it
_kept: OrderedDict = OrderedDict()
_kept_ids: set[int] = set()  # ids of the styles in _kept (a child is kept under one)
_value_keys: OrderedDict = OrderedDict()  # id(cascaded value) -> (value, its key)
# ``with keeping():`` styles computed inside are kept, and styles kept before are reused
keeping = Scope()
# set by install(), from WeasyPrint and tinycss2: units that follow the page size, and the
# classes of parsed CSS tokens and of colours
_VIEWPORT_UNITS: frozenset = frozenset()
_Node: type = type(None)
_Color: type = type(None)
_Anonymous: type = type(None)  # WeasyPrint's style of anonymous boxes (lines, text runs)


class _NotAKey(Exception):
    """A cascaded value that cannot be part of a key."""


def install() -> bool:
    """Compute element styles through the kept ones (once per process); False when the
    internals it needs (``internals.STYLES_NEEDED``) are missing: then none is kept."""
    global _VIEWPORT_UNITS, _Node, _Color, _Anonymous
    if internals.missing(internals.STYLES_NEEDED):
        return False
    from tinycss2.ast import Node
    from tinycss2.color4 import Color
    from weasyprint.css import AnonymousStyle, StyleFor
    from weasyprint.css.units import VIEWPORT_UNITS

    if getattr(StyleFor.set_computed_styles, "guidegen", False):
        return True
    _VIEWPORT_UNITS, _Node, _Color = frozenset(VIEWPORT_UNITS), Node, Color
    _Anonymous = AnonymousStyle
    plain = StyleFor.set_computed_styles

    def set_computed_styles(self, element, parent, root=None, pseudo_type=None,
                            base_url=None, target_collector=None):
        if not (enabled and keeping.on) or not isinstance(getattr(element, "tag", None), str):
            return plain(self, element, parent, root, pseudo_type, base_url,
                         target_collector)  # a page or its margin boxes: no tag
        styles = self.get_computed_styles()
        parent_style = None if parent is None else styles[parent, None]
        key = _key(self, element, pseudo_type, parent_style, base_url)
        found = None if key is None else _kept.get(key)
        if found is None or found[1] is not parent_style:
            counts["computed"] += 1
            plain(self, element, parent, root, pseudo_type, base_url, target_collector)
            if key is not None:
                _keep(key, element, pseudo_type, styles[element, pseudo_type], parent_style)
            return
        counts["reused"] += 1
        _kept.move_to_end(key)
        style = styles[element, pseudo_type] = found[0]
        if target_collector and style["anchor"]:  # what plain does for each element
            target_collector.collect_anchor(style["anchor"])

    set_computed_styles.guidegen = True
    StyleFor.set_computed_styles = set_computed_styles
    return True


def lasting(style) -> bool:
    """True if ``style`` is kept, or is the style of anonymous boxes under a kept one (what
    outlives a document: measures.py notes only what is taken from such a style)."""
    while type(style) is _Anonymous:
        style = style.parent_style
    return id(style) in _kept_ids


def _key(style_for, element, pseudo_type, parent_style, base_url):
    """The key the style of ``element`` (of its ``pseudo_type`` pseudo-element) is kept
    under, or None: not kept."""
    if parent_style is None:
        parent_key = ("root", base_url, style_for.font_config)
    elif id(parent_style) in _kept_ids:
        parent_key = id(parent_style)
    else:
        return None  # under a style not kept: computed as usual
    cascaded = style_for.get_cascaded_styles().get((element, pseudo_type), {})
    try:
        key = parent_key, pseudo_type, tuple(sorted((name, _cascaded_key(values), weight)
                                       for name, (values, weight) in cascaded.items()))
        hash(key)
    except (_NotAKey, TypeError):  # TypeError: unhashable, or keys that do not sort
        return None
    return key


def _keep(key, element, pseudo_type, style, parent_style) -> None:
    tag = element.tag.rpartition("}")[2].lower()
    if pseudo_type is None and tag in ("html", "body") and style["overflow"] != "visible":
        return  # WeasyPrint moves it to the page and rewrites the element's style
    if parent_style is None and style["display"] == ("none",):
        return  # a document without a root box: its styles are rewritten
    _kept[key] = (style, parent_style)
    _kept_ids.add(id(style))
    while len(_kept) > LIMIT:  # what was under a dropped style is no longer found
        _kept_ids.discard(id(_kept.popitem(last=False)[1][0]))
    counts["kept"] += 1


def _cascaded_key(values):
    """:func:`_value_key` of a cascaded value, worked out once per value object: most come
    from the stylesheets a worker keeps, and are the same objects in every guide (parsed
    CSS is never changed in place)."""
    if type(values) is str or values is None:
        return values
    found = _value_keys.get(id(values))
    if found is not None and found[0] is values:
        _value_keys.move_to_end(id(values))
        return found[1]
    key = _value_key(values)
    _value_keys[id(values)] = (values, key)  # the value held: its id names it
    if len(_value_keys) > LIMIT:
        _value_keys.popitem(last=False)
    return key


def _value_key(value):
    """A cascaded value as a key that compares by value: tinycss2 tokens by their CSS text
    and type, tuples item by item (with their type), colours by space, coordinates and
    alpha; anything else as itself (hashable, or TypeError). Raises _NotAKey for viewport
    units."""
    kind = type(value)
    if kind is str or value is None:
        return value
    if kind in (int, float, bool):
        return kind.__name__, value
    if isinstance(value, (tuple, list)):
        if kind is not list and hasattr(value, "unit") and \
                str(value.unit).lower() in _VIEWPORT_UNITS:
            raise _NotAKey(value.unit)
        return kind.__name__, tuple(_value_key(item) for item in value)
    if isinstance(value, _Node):
        _check_units(value)
        return "css", kind.__name__, value.serialize()
    if isinstance(value, _Color):
        return "color", value.space, value.coordinates, value.alpha
    tokens = getattr(value, "tokens", None)  # a value that waits for var(): its tokens
    if tokens is not None:
        for token in tokens:
            _check_units(token)
    hash(value)
    return value


def _check_units(node) -> None:
    """Raise _NotAKey if the tinycss2 node ``node`` or one inside it has a viewport unit."""
    unit = getattr(node, "unit", None)
    if isinstance(unit, str) and unit.lower() in _VIEWPORT_UNITS:
        raise _NotAKey(unit)
    for inner in (getattr(node, "arguments", None), getattr(node, "content", None)):
        if isinstance(inner, (list, tuple)):
            for item in inner:
                _check_units(item)
