"""Shortcuts taken for speed give exactly what the slow, plain paths give.

* Front matter is tokenised by libyaml when possible (``yamllines.load_yaml``); the
  pure-Python, line-tracking loader must agree on the data and on every error.
* Markdown skips inline patterns and block processors that cannot act on a document
  (``content.convert_markdown``); the HTML must be the same byte for byte.
* The site's helpers (``prune``, ``favicon_ico``, ``display_paths``) keep their results.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import generator.load.content as content
import generator.load.yamllines as yamllines
from generator.core.errors import display_path, display_paths
from generator.load.content import (
    _BLOCK_NEEDS,
    _INLINE_NEEDS,
    _markdown,
    convert_markdown,
    load_modules,
    skippable,
)
from generator.load.markdown_html import _PRE_NEEDS, _TREE_NEEDS
from generator.load.yamllines import load_yaml, load_yaml_document
from generator.render.site import favicon_ico

FUZZ = settings(max_examples=int(os.environ.get("GUIDEGEN_FUZZ_EXAMPLES", "120")),
                deadline=None, suppress_health_check=[HealthCheck.too_slow])
needs_libyaml = pytest.mark.skipif(yamllines.CParser is None, reason="PyYAML without libyaml")


def _outcome(load, text: str, text_scalars: bool = False):
    """Data, or the error's type, message and line: what a caller can observe."""
    try:
        return "data", load(text, text_scalars)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return "error", type(exc).__name__, str(exc), mark.line if mark else None


def _slow(text: str, text_scalars: bool = False):
    return load_yaml_document(text, text_scalars)[0]


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _front_matters(root: Path) -> list[str]:
    texts = []
    for path in sorted((root / "content").glob("*.md")):
        fm, _, _ = content._split_front_matter(path.read_text(encoding="utf-8"))
        texts.append(fm)
    return texts


SAMPLES = [
    "title: A\norder: 3\nsummary: ratio 3:2, a#b # a comment\n",
    "title: 'Quoted ''title'''\ntags: [calves, feet]\ndraft: false\n",
    "title: \"Escapes \\u00e9 \\x41\"\nwhen:\n  experience: [first]\n  distance:\n    - marathon\n",
    "title: Dates\nsummary: 2027-02-30\nrace: 2027-04-18\n",
    "title: Numbers\norder: 0x1F\nx: 1e9\ny: .inf\nz: ~\nb: yes\n",
    "title: Block\nsummary: |\n  line one\n  line two\nfolded: >-\n  a\n  b\n",
    "sessions:\n  - kind: pre-race\n    pressure: light\n    days_before: [3, 5]\n",
    "title: Ünïcödé 🏃 — “quotes”\n",
    "a: &x [1, 2]\nb: *x\n",  # aliases: same guarded composer, same data
    "",
    "# only a comment\n",
]
BAD = [
    "title: [unclosed\n",
    "title: A\nkey: : :\n",
    "title: A\n  bad: indent\n",
    "title: A\ntitle: B\n",  # duplicate key
    "tags: " + "[" * 5000 + "\n",  # too deep
    "a: &a [*a]\n",  # recursive alias
    "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
    "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n",  # alias bomb
    "title: *undefined\n",
    "!!python/object/apply:os.system [id]\n",
    "title: A\n---\ntitle: B\n",  # two documents
    "title:\tA\n",  # tab: libyaml is more lenient here, the slow path decides
    "x: {a? b: c}\n",
]


@pytest.mark.parametrize("text_scalars", [False, True])
def test_fast_yaml_gives_the_same_data_and_errors_as_the_line_tracking_loader(
        example_root, text_scalars):
    for text in _front_matters(example_root) + SAMPLES + BAD:
        fast, slow = _outcome(load_yaml, text, text_scalars), _outcome(_slow, text, text_scalars)
        assert fast[0] == slow[0] and (_same(fast[1], slow[1]) if fast[0] == "data"
                                       else fast == slow), text


@needs_libyaml
def test_plain_front_matter_takes_the_libyaml_path(example_root, monkeypatch):
    texts = _front_matters(example_root) + SAMPLES
    expected = [_slow(t) for t in texts]

    def refuse(*_args, **_kwargs):
        raise AssertionError("the pure-Python loader was used")

    monkeypatch.setattr(yamllines, "load_yaml_document", refuse)
    assert all(_same(load_yaml(t), e) for t, e in zip(texts, expected, strict=True))


def test_an_alias_bomb_in_front_matter_is_refused_with_the_same_located_message(tmp_path):
    bomb = BAD[6]
    text = "---\ntitle: X\n" + bomb + "---\nBody\n"
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "a.md").write_text(text, encoding="utf-8")
    modules, problems = load_modules(tmp_path / "content", tmp_path)
    assert modules == []
    assert [str(p) for p in problems] == [
        "content/a.md:6: invalid YAML: aliases expand the document to 74,740 values "
        "(at most 1,220 allowed)"]
    with pytest.raises(yaml.YAMLError) as fast:
        load_yaml("title: X\n" + bomb)
    with pytest.raises(yaml.YAMLError) as slow:
        _slow("title: X\n" + bomb)
    assert str(fast.value) == str(slow.value)


YAML_TOKENS = st.sampled_from([
    "title", "order", "tags", "when", "kind", ": ", ":", "- ", "-", "[", "]", "{", "}", ",",
    "&a ", "*a", "<<: ", "!!str ", "'", '"', "|", ">", "#", "---", "...", "\n", "\n  ",
    "\n    ", "\t", " ", "?", "2027-02-30", "yes", "~", "1e9", "0x1F", "\\", "é", "🏃",
    "\x85", "\u2028", "\ufeff", "%YAML 1.1",
])


@FUZZ
@given(tokens=st.lists(YAML_TOKENS, max_size=40), text_scalars=st.booleans())
def test_fast_yaml_agrees_with_the_line_tracking_loader_on_any_text(tokens, text_scalars):
    text = "".join(tokens)
    fast, slow = _outcome(load_yaml, text, text_scalars), _outcome(_slow, text, text_scalars)
    assert fast[0] == slow[0]
    assert _same(fast[1], slow[1]) if fast[0] == "data" else fast == slow


# ---------------------------------------------------------------- Markdown inline patterns

def _both_ways(body: str) -> tuple[str, str]:
    content._markdown.cache_clear()
    skipping = content._markdown()
    content._markdown.cache_clear()
    everything = content._markdown()
    content._markdown.cache_clear()
    return (convert_markdown(skipping, body),
            convert_markdown(everything, body, skip=False))


MARKDOWN_SAMPLES = [
    "Plain words only.\n\n## Heading\n\n- a\n- b\n",
    "*em* **strong** _u_ __uu__ `code` \\*escaped\\*",
    "[link](https://e.com) ![img](a.png) [ref][r]\n\n[r]: https://r.example",
    "Text[^1] more.\n\n[^1]: The note",
    "<https://auto.link> <me@example.com> <b>bold</b> &copy; &#169;",
    "hard  \nbreak",
    "ab\t\nbreak",  # the tab becomes two spaces: a line break
    "word \x03 \nbreak",  # so does ' \x03 ' once the control character is stripped
    # HTML blocks re-flowed into a line break (found by differential fuzzing)
    '<!-- c -->&copy;(>- (1. &amp; <div>&amp;word!- - </div>&#169;<{: #id }</b>!\n\n'
    '&<div>)<b>wordtext<div markdown="1">{: #id } <',
    "Footnote[^n] without an ampersand.\n\n[^n]: its back-link has an entity",
    '<div markdown="1">\n*inside*\n</div>',
    "Term\n: Definition\n\n| a | b |\n|---|---|\n| c | d |",
    "*[HTML]: Hyper Text\n\nHTML here",
    "```\ncode *not em*\n```\n\n    indented <code>",
    "[TOC]\n\n## One\n\n## Two",
    "3. three\n4. four\n\n+ plus\n\n* * *\n\nTitle\n=====\n\nSub\n---\n\n> quoted\n",
    "A &amp; B\n\nC\n: definition after an entity",
]


def test_skipping_inline_patterns_changes_no_html(example_root):
    bodies = [content._split_front_matter(p.read_text(encoding="utf-8"))[1]
              for p in sorted((example_root / "content").glob("*.md"))]
    for body in bodies + MARKDOWN_SAMPLES:
        skipped, full = _both_ways(body)
        assert skipped == full, body


def test_every_listed_pattern_and_processor_is_recognised():
    """A failure means Python-Markdown changed one of them: its shortcut is off (slower,
    still correct). Check the new code and update markdown_html's _*_NEEDS."""
    inline, block, pre, tree = skippable(_markdown())
    assert set(inline) == set(_INLINE_NEEDS)
    assert set(block) == set(_BLOCK_NEEDS)
    assert set(pre) == set(_PRE_NEEDS)
    assert set(tree) == set(_TREE_NEEDS)


MD_ALPHABET = list("aab c  \n\n\t\r*_[]()<>&`\\!#:-|{}.^~=+\x02\x03\"'/@0é") + [
    "    ", "\n- ", "\n  - ", "1. ", "> ", "<div>", "</div>", '<p markdown="1">', "&amp;",
    "http://", "[^a]", "\n[^a]: ", "*[ab]: ", "{: #x}", "```", "\n: ", "| ", "---", "<!--",
    "-->", "[TOC]", "  \n"]
TRIGGERS = ["`", "\\", "[", "<", "&", "*", "_", " ", "\t", "\r", "\x02", "\x03", "|", "#", "=",
            "-", ".", "+", ":", ">", "~", "{", "[TOC]"]


@FUZZ
@given(data=st.data())
def test_skipping_inline_patterns_changes_no_html_on_any_text(data):
    banned = data.draw(st.sets(st.sampled_from(TRIGGERS)))
    alphabet = [c for c in MD_ALPHABET if not any(b in c for b in banned)] or ["a"]
    body = "".join(data.draw(st.lists(st.sampled_from(alphabet), max_size=80)))
    skipped, full = _both_ways(body)
    assert skipped == full


# ---------------------------------------------------------------------------- the site

def _favicon_reference(colour: str, size: int = 32) -> bytes:
    """The first, straightforward implementation of favicon_ico."""
    import struct

    h = colour.lstrip("#")
    r, g, b = int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
    centre, radius, pixels = (size - 1) / 2, size / 2 - 1, bytearray()
    for y in range(size):
        for x in range(size):
            inside = sum(((x + dx / 4 - centre) ** 2 + (y + dy / 4 - centre) ** 2) <= radius ** 2
                         for dx in (-1.5, -0.5, 0.5, 1.5) for dy in (-1.5, -0.5, 0.5, 1.5))
            pixels += bytes((b, g, r, round(255 * inside / 16)))
    mask = bytes(((size + 31) // 32) * 4 * size)
    header = struct.pack("<IiiHHIIiiII", 40, size, size * 2, 1, 32, 0,
                         len(pixels) + len(mask), 0, 0, 0, 0)
    image = header + bytes(pixels) + mask
    entry = struct.pack("<BBBBHHII", size, size, 0, 0, 1, 32, len(image), 6 + 16)
    return struct.pack("<HHH", 0, 1, 1) + entry + image


@pytest.mark.parametrize(("colour", "size"), [("#0b5d6b", 32), ("#ffffff", 16), ("#123456", 48)])
def test_favicon_is_unchanged(colour, size):
    assert favicon_ico(colour, size) == _favicon_reference(colour, size)


def test_display_paths_is_display_path_for_each(tmp_path, monkeypatch):
    (tmp_path / "root" / "content").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    paths = [Path("root/content/a.md"), tmp_path / "root" / "b.md", Path("/elsewhere/c.md"),
             Path("root/../root/content/d.md"), Path(".")]
    for root in (None, Path("root"), tmp_path / "root" / "content", Path("/elsewhere")):
        assert display_paths(paths, root) == [display_path(p, root) for p in paths]


def test_site_command_does_not_import_the_roster_or_planner(example_root, tmp_path):
    code = ("import sys\nfrom generator.cli import cli\n"
            f"try:\n    cli(['site', '--out', {str(tmp_path / 'out')!r}], prog_name='guidegen')\n"
            "except SystemExit:\n    pass\n"
            "print(sorted(m for m in ('generator.load.roster', 'generator.plan.timeline',"
            " 'weasyprint')"
            " if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=example_root, capture_output=True,
                          text=True, timeout=120)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
    assert (tmp_path / "out" / "site" / "index.html").is_file()
