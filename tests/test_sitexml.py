"""The sitemap and feed writer gives, byte for byte, what ElementTree gave before it
(``ET.indent`` then ``ET.tostring`` with the UTF-8 declaration), whatever the text."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from hypothesis import given, settings
from hypothesis import strategies as st

from generator.render.sitexml import _el, _xml

# every character class that needs care: markup, quotes, whitespace an attribute keeps
# as a reference, non-ASCII, astral and lone surrogates (written as character references)
TEXT = st.text(alphabet=st.sampled_from(
    list("ab &<>\"'\r\n\t=;#]") + ["é", "\u00a0", "\u202e", "😀", "\ud800"]),
    max_size=12)
NAME = st.sampled_from(["id", "title", "link", "entry", "xhtml:link", "xml:lang", "loc"])


def element_tree(node) -> ET.Element:
    tag, attrs, text, children = node
    element = ET.Element(tag, attrs)
    element.text = text
    element.extend(element_tree(child) for child in children)
    return element


def by_element_tree(node) -> bytes:
    root = element_tree(node)
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


nodes = st.recursive(
    st.builds(lambda tag, attrs, text: _el(tag, attrs, text),
              NAME, st.dictionaries(NAME, TEXT, max_size=3), st.none() | TEXT),
    lambda children: st.builds(lambda tag, attrs, kids: _el(tag, attrs, children=kids),
                               NAME, st.dictionaries(NAME, TEXT, max_size=2),
                               st.lists(children, min_size=1, max_size=4)),
    max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(nodes)
def test_the_writer_matches_element_tree(node):
    assert _xml(node) == by_element_tree(node)


def test_empty_text_and_no_text_both_close_the_element():
    for text in ("", None):
        node = _el("feed", {"xmlns": "urn:x"}, children=[_el("summary", text=text)])
        assert _xml(node) == by_element_tree(node)
        assert b"<summary />" in _xml(node)
