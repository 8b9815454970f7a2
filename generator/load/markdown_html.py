"""Markdown -> sanitised HTML: one reused Python-Markdown converter that skips the
patterns and processors a document cannot trigger, then nh3 with an allow-list.

Named ``markdown_html`` so that it does not shadow the ``markdown`` library."""

from __future__ import annotations

import functools
import importlib
import re

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


def skippable(md: markdown.Markdown) -> tuple[dict, dict]:
    """({name: needs} of inline patterns, same of block processors) that may be
    skipped in ``md``: the registered ones that are exactly those listed above."""
    patterns, blocks = md.inlinePatterns, md.parser.blockprocessors
    inline = {name: needs for name, (regex, needs) in _INLINE_NEEDS.items()
              if name in patterns and getattr(patterns[name], "pattern", None) == regex}
    block = {name: needs for name, (cls, needs) in _BLOCK_NEEDS.items()
             if name in blocks and type(blocks[name]).__name__ == cls
             and type(blocks[name]).__module__.startswith("markdown.")}
    return inline, block


def _without(md: markdown.Markdown, text: str) -> tuple[list, list]:
    """(inline patterns, block processors) of ``md``, in order, minus those that
    cannot act on ``text``: lists of the very same objects, made once per kind."""
    (inline, block), lists = md.guidegen_skips
    has_html = any(h in text for h in _HTML)
    skip = (tuple(n for n, needs in inline.items() if not any(x in text for x in needs)),
            () if has_html else tuple(n for n, needs in block.items()
                                      if not any(x in text for x in needs)))
    made = lists.get(skip)
    if made is None:
        made = lists[skip] = (
            _all_but(md.inlinePatterns, skip[0]), _all_but(md.parser.blockprocessors, skip[1]))
    return made


def _all_but(registry, names: tuple[str, ...]) -> list:
    left_out = {id(registry[name]) for name in names}
    return [item for item in registry if id(item) not in left_out]


def convert_markdown(md: markdown.Markdown, body: str, skip: bool = True) -> str:
    """``md.convert(body)`` (then ``md.reset()``), skipping the inline patterns and
    block processors that cannot act on ``body`` unless ``skip`` is false."""
    inline, parser = md.treeprocessors["inline"], md.parser
    registered = inline.inlinePatterns, parser.blockprocessors
    if skip:
        # both are only iterated or indexed: lists of the same objects do
        inline.inlinePatterns, parser.blockprocessors = _without(md, body)
    try:
        return md.convert(body)
    finally:
        inline.inlinePatterns, parser.blockprocessors = registered
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
