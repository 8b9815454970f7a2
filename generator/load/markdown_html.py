"""Markdown -> sanitised HTML: one reused Python-Markdown converter that skips the
patterns and processors a document cannot trigger, then nh3 with an allow-list.

Named ``markdown_html`` so that it does not shadow the ``markdown`` library."""

from __future__ import annotations

import functools
import importlib
import re
from xml.etree import ElementTree as etree

import markdown
import nh3
from markdown import inlinepatterns

_ALLOWED_TAGS = {
    "a", "abbr", "blockquote", "br", "code", "em", "figcaption", "figure", "h2", "h3",
    "h4", "h5", "h6", "hr", "img", "li", "ol", "p", "pre", "strong", "sub", "sup",
    "table", "tbody", "td", "th", "thead", "tr", "ul", "dl", "dt", "dd", "span", "div",
}
_ALLOWED_ATTRS = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"align", "scope"},
    "td": {"align"},
    "abbr": {"title"},
    "*": {"id"},
}


def _only_image_data(tag: str, attribute: str, value: str) -> str | None:
    """``data:`` URLs are for pictures: an ``<a href="data:text/html,...">`` is a script
    in disguise, and an ``<img>`` may only embed an image type."""
    if value.lstrip()[:5].lower() == "data:" and not (
            tag == "img" and attribute == "src"
            and re.match(r"^\s*data:image/(png|jpeg|gif|webp|svg\+xml)[;,]", value, re.I)):
        return None
    return value


def sanitise(html: str) -> str:
    """Trusted-author Markdown still goes through nh3: no script, no handlers, no javascript:."""
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes={k: set(v) for k, v in _ALLOWED_ATTRS.items()},
        attribute_filter=_only_image_data,
        url_schemes={"http", "https", "mailto", "data"},
        link_rel="noopener noreferrer",
    )


@functools.cache
def _markdown() -> markdown.Markdown:
    """One converter per process, reset between documents: building a Markdown
    instance with its extensions costs more than converting a short module."""
    md = markdown.Markdown(extensions=_extensions(), output_format="html")
    md.guidegen_skips = (skippable(md), {})  # see _without
    return md


def _extensions() -> list:
    """"extra" (its parts, in its order), "sane_lists" and "toc" without permalinks, made
    here: named by string, each would be looked up among every installed package's entry
    points first (a scan of their metadata, about 20 ms per process)."""
    from markdown.extensions import extra

    def make(name: str, **config):
        return importlib.import_module(f"markdown.extensions.{name}").makeExtension(**config)

    return [*(make(name) for name in extra.extensions), make("sane_lists"),
            make("toc", permalink=False)]


# Python-Markdown tries every block processor on every block and every inline pattern
# on every run of text, and most find nothing: a module without '>' has no quote,
# without '[' no link, footnote or reference, without '*' or '_' no emphasis. Each
# processor or pattern below can only act on text holding one of its "needs", and is
# skipped for a module whose source holds none of them: the HTML is the same byte for
# byte (tests/test_fastpaths.py converts both ways, on examples and fuzzed text).
# Text can hold more than the source: a line break ("  \n") can also come from tabs,
# CRs, the STX/ETX characters Python-Markdown strips or the HTML it re-flows; HTML
# blocks and fenced code leave placeholders ("\x02wzxhzdk:0\x03"); so line breaks
# have more needs, and block processors are all kept when there is HTML ('<', '&').
# Only the exact patterns (same regex) and processors (same class) listed here are
# ever skipped, so an upgrade or another extension just turns a shortcut off.
_BRACKET = ("[",)
_INLINE_NEEDS = {  # name: (regex, needs)
    "backtick": (inlinepatterns.BACKTICK_RE, ("`",)),
    "escape": (inlinepatterns.ESCAPE_RE, ("\\",)),
    "footnote": (r"\[\^([^\]]*)\]", _BRACKET),
    "reference": (inlinepatterns.REFERENCE_RE, _BRACKET),
    "link": (inlinepatterns.LINK_RE, _BRACKET),
    "image_link": (inlinepatterns.IMAGE_LINK_RE, _BRACKET),
    "image_reference": (inlinepatterns.IMAGE_REFERENCE_RE, _BRACKET),
    "short_reference": (inlinepatterns.REFERENCE_RE, _BRACKET),
    "short_image_ref": (inlinepatterns.IMAGE_REFERENCE_RE, _BRACKET),
    "autolink": (inlinepatterns.AUTOLINK_RE, ("<",)),
    "automail": (inlinepatterns.AUTOMAIL_RE, ("<",)),
    "linebreak": (inlinepatterns.LINE_BREAK_RE, ("  ", "\t", "\r", "\x02", "\x03", "<", "&")),
    "html": (inlinepatterns.HTML_RE, ("<",)),
    "entity": (inlinepatterns.ENTITY_RE, ("&", "[")),
    "em_strong": (r"\*|_", ("*", "_")),
}
_BLOCK_NEEDS = {  # name: (class, needs); their test() or run() is a regex search
    "table": ("TableProcessor", ("|",)),
    "hashheader": ("HashHeaderProcessor", ("#",)),
    "setextheader": ("SetextHeaderProcessor", ("=", "-")),
    "hr": ("HRProcessor", ("-", "_", "*")),
    "olist": ("SaneOListProcessor", (".",)),
    "ulist": ("SaneUListProcessor", ("*", "+", "-")),
    "deflist": ("DefListProcessor", (":", "`", "~")),  # ':' also comes with placeholders
    "quote": ("BlockQuoteProcessor", (">",)),
    "footnote": ("FootnoteBlockProcessor", _BRACKET),
    "abbr": ("AbbrBlockprocessor", _BRACKET),
    "reference": ("ReferenceProcessor", _BRACKET),
}
_HTML = ("<", "&")
# Processors of the whole text or tree, each run once per module whatever it holds: the
# HTML block parser reads the text through html.parser even when it has no tag (and
# gives it back unchanged), fenced code searches it for fences, attr_list walks every
# element for '{: ...}' and unescape for the placeholders of backslash escapes.
_PRE_NEEDS = {  # name: (class, needs)
    "fenced_code_block": ("FencedBlockPreprocessor", ("`", "~")),
    "html_block": ("HtmlBlockPreprocessor", _HTML),
}
_TREE_NEEDS = {
    "attr_list": ("AttrListTreeprocessor", ("{",)),
    "unescape": ("UnescapeTreeprocessor", ("\\",)),
}


def skippable(md: markdown.Markdown) -> tuple[dict, dict, dict, dict]:
    """({name: needs} of inline patterns, same of block processors, of preprocessors and
    of tree processors) that may be skipped in ``md``: the registered ones that are
    exactly those listed above."""
    patterns = md.inlinePatterns
    inline = {name: needs for name, (regex, needs) in _INLINE_NEEDS.items()
              if name in patterns and getattr(patterns[name], "pattern", None) == regex}
    return (inline, *(_ours(registry, listed) for registry, listed in (
        (md.parser.blockprocessors, _BLOCK_NEEDS), (md.preprocessors, _PRE_NEEDS),
        (md.treeprocessors, _TREE_NEEDS))))


def _ours(registry, listed: dict) -> dict:
    return {name: needs for name, (cls, needs) in listed.items()
            if name in registry and type(registry[name]).__name__ == cls
            and type(registry[name]).__module__.startswith("markdown.")}


def _without(md: markdown.Markdown, text: str) -> tuple:
    """(inline patterns, block processors, preprocessors, tree processors) of ``md``, in
    order, minus those that cannot act on ``text``: made once per kind; the processors
    as :class:`_Some` (Python-Markdown looks some up by name while it converts)."""
    (inline, block, pre, tree), lists = md.guidegen_skips
    has_html = any(h in text for h in _HTML)

    def left_out(listed: dict) -> tuple[str, ...]:
        return tuple(n for n, needs in listed.items() if not any(x in text for x in needs))

    skip = (left_out(inline), () if has_html else left_out(block), left_out(pre),
            left_out(tree))
    made = lists.get(skip)
    if made is None:
        made = lists[skip] = (
            _all_but(md.inlinePatterns, skip[0]), _all_but(md.parser.blockprocessors, skip[1]),
            _Some(md.preprocessors, skip[2]), _Some(md.treeprocessors, skip[3]))
    return made


def _all_but(registry, names: tuple[str, ...]) -> list:
    left_out = {id(registry[name]) for name in names}
    return [item for item in registry if id(item) not in left_out]


class _Some:
    """A registry's items minus ``names`` when iterated (as a conversion runs them);
    looked up by name, the whole registry (``md.treeprocessors["inline"]``)."""

    def __init__(self, registry, names: tuple[str, ...]):
        self.registry, self.items = registry, _all_but(registry, names)

    def __iter__(self):
        return iter(self.items)

    def __getitem__(self, key):
        return self.registry[key]

    def __contains__(self, key) -> bool:
        return key in self.registry


def _no_contents(toc_list) -> etree.Element:
    return etree.Element("div")


def convert_markdown(md: markdown.Markdown, body: str, skip: bool = True) -> str:
    """``md.convert(body)`` (then ``md.reset()``), skipping the inline patterns and
    processors that cannot act on ``body`` unless ``skip`` is false. The table of
    contents toc makes besides the heading ids (``md.toc``, which guidegen never reads)
    is then left empty too, unless ``body`` holds its marker ("[TOC]")."""
    inline, parser = md.treeprocessors["inline"], md.parser
    registered = inline.inlinePatterns, parser.blockprocessors, md.preprocessors, \
        md.treeprocessors
    toc = md.treeprocessors["toc"] if "toc" in md.treeprocessors else None
    if skip:
        # all four are only iterated or indexed while converting: these do
        (inline.inlinePatterns, parser.blockprocessors, md.preprocessors,
         md.treeprocessors) = _without(md, body)
        if type(toc).__module__ == "markdown.extensions.toc" and type(toc).__name__ == \
                "TocTreeprocessor" and not (toc.marker and toc.marker in body):
            toc.build_toc_div = _no_contents
    try:
        return md.convert(body)
    finally:
        (inline.inlinePatterns, parser.blockprocessors, md.preprocessors,
         md.treeprocessors) = registered
        if toc is not None:
            toc.__dict__.pop("build_toc_div", None)
        md.reset()


def render_markdown(body: str) -> str:
    md = _markdown()
    try:
        html = convert_markdown(md, body)
    except BaseException:
        # a conversion cut short (RecursionError on deep nesting) leaves state behind
        # that reset() does not clear (the block parser's state stack): every later
        # module would render differently. Start the next one with a fresh converter.
        _markdown.cache_clear()
        raise
    return sanitise(html)


def shift_headings(html: str, by: int) -> str:
    """Demote headings so a module body nests under its section title."""

    def repl(m: re.Match) -> str:
        level = min(6, int(m.group(2)) + by)
        return f"<{m.group(1)}h{level}"

    return re.sub(r"<(/?)h([1-6])", repl, html)
