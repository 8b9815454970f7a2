"""Content modules: loading, `when` conditions, located front-matter errors, sanitising."""

from __future__ import annotations

import pytest

from generator.load.content import load_modules
from generator.load.roster import Athlete


def _athlete(**fields) -> Athlete:
    base = {"id": "t-1", "name": "T", "race_name": "R", "race_date": "2027-04-18"}
    return Athlete.model_validate({**base, **fields})


def _load(root, files: dict[str, str]):
    """Load ``content/`` of a scratch project holding only ``files``."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return load_modules(root / "content", root)


# ------------------------------------------------------------------ the example content

@pytest.fixture(scope="module")
def example_modules(example_root):
    modules, problems = load_modules(example_root / "content", example_root)
    assert problems == []
    return modules


def test_example_content_loads_at_least_seven_modules_in_order(example_modules):
    assert len(example_modules) >= 7
    keys = [(m.order, m.slug) for m in example_modules]
    assert keys == sorted(keys)
    assert all(m.title and m.html for m in example_modules)
    assert all(m.source.startswith("content/") and m.source.endswith(".md")
               for m in example_modules)


def test_draft_module_is_excluded_from_guides_and_site(example_modules):
    draft = next(m for m in example_modules if m.slug == "nutrition-notes")
    assert draft.draft is True
    assert draft.on_site is False
    assert draft.for_guide(_athlete(focus_areas=["calves"])) is False
    assert all(m.on_site for m in example_modules if m.slug != "nutrition-notes"
               and "site" in m.audience)


def test_first_marathon_module_only_for_first_timers(example_modules):
    module = next(m for m in example_modules if m.slug == "first-marathon")
    assert module.for_guide(_athlete(experience="first"))
    assert not module.for_guide(_athlete(experience="returning"))
    assert not module.for_guide(_athlete(experience="competitive"))


def test_calves_module_only_for_athletes_focusing_on_calves(example_modules):
    module = next(m for m in example_modules if m.slug == "calves-and-feet")
    assert module.for_guide(_athlete(focus_areas=["hips", "calves"]))
    assert module.for_guide(_athlete(focus_areas="quads;Calves"))
    assert not module.for_guide(_athlete(focus_areas=["hips"]))
    assert not module.for_guide(_athlete())
    assert module.on_site is False  # audience: [guide]


def test_unconditional_modules_go_into_every_guide(example_modules):
    plain = [m for m in example_modules if m.slug in ("why-massage-helps", "how-often")]
    assert len(plain) == 2
    for athlete in (_athlete(), _athlete(experience="competitive", distance="ultra")):
        assert all(m.for_guide(athlete) for m in plain)


# ------------------------------------------------------------------ located errors

GOOD = "---\ntitle: Fine\n---\nBody.\n"


def test_unknown_key_is_reported_on_its_line(tmp_path):
    modules, problems = _load(tmp_path, {
        "content/a.md": "---\ntitle: A\norder: 5\ncolour: red\n---\nBody\n",
        "content/b.md": GOOD,
    })
    assert [str(p) for p in problems] == ["content/a.md:4: colour: unknown key"]
    assert [m.slug for m in modules] == ["b"]


def test_wrong_type_is_reported_on_the_line_of_the_value(tmp_path):
    _, problems = _load(tmp_path, {
        "content/a.md": "---\ntitle: A\nsummary: s\norder: soon\n---\nBody\n",
    })
    assert len(problems) == 1
    assert str(problems[0]).startswith("content/a.md:4: order: ")
    assert "whole number" in problems[0].message and "'soon'" in problems[0].message


def test_wrong_type_nested_in_sessions_points_at_the_nested_key(tmp_path):
    _, problems = _load(tmp_path, {
        "content/a.md": ("---\ntitle: A\nsessions:\n  - kind: maintenance\n"
                         "    pressure: hard\n---\nBody\n"),
    })
    assert len(problems) == 1
    assert str(problems[0]).startswith("content/a.md:5: sessions.0.pressure: ")


def test_missing_title_is_an_error_located_in_the_front_matter(tmp_path):
    modules, problems = _load(tmp_path, {"content/a.md": "---\nsummary: no title\n---\nBody\n"})
    assert modules == []
    assert [str(p) for p in problems] == ["content/a.md:2: title: required field is missing"]


@pytest.mark.parametrize(
    ("front_matter", "line"),
    [
        ("title: A\ntags: [a, b\nsummary: x\n", 4),  # unclosed flow list, noticed at line 4
        ("title: A\nkey: : :\n", 3),
        ("title: A\n  bad: indent\n", 3),
    ],
)
def test_invalid_yaml_reports_the_file_line_of_the_error(tmp_path, front_matter, line):
    modules, problems = _load(tmp_path, {"content/a.md": f"---\n{front_matter}---\nBody\n"})
    assert modules == []
    assert len(problems) == 1
    assert str(problems[0]).startswith(f"content/a.md:{line}: invalid YAML: ")


def test_impossible_date_in_front_matter_is_text_not_a_crash(tmp_path):
    modules, problems = _load(tmp_path, {"content/a.md": "---\ntitle: A\nsummary: 2027-02-30\n"
                                                         "---\nBody\n"})
    assert problems == []
    assert modules[0].summary == "2027-02-30"


def test_front_matter_not_closed_is_an_error(tmp_path):
    _, problems = _load(tmp_path, {"content/a.md": "---\ntitle: A\nBody\n"})
    assert [(p.path, p.line) for p in problems] == [("content/a.md", 1)]


def test_file_without_front_matter_is_an_error_not_silently_skipped(tmp_path):
    _, problems = _load(tmp_path, {"content/a.md": "# Just markdown\n"})
    assert [(p.path, p.line) for p in problems] == [("content/a.md", 1)]
    assert "front matter" in problems[0].message


def test_duplicate_slug_is_reported_on_the_slug_line_of_the_second_file(tmp_path):
    modules, problems = _load(tmp_path, {
        "content/a.md": "---\ntitle: A\nslug: same\n---\nBody\n",
        "content/b.md": "---\ntitle: B\norder: 3\nslug: same\n---\nBody\n",
    })
    assert [m.source for m in modules] == ["content/a.md"]
    assert [str(p) for p in problems] == [
        "content/b.md:4: slug: slug 'same' is already used by content/a.md"
    ]


def test_second_rule_of_the_same_session_kind_is_reported_on_its_line(tmp_path):
    pre = "  - kind: pre-race\n    pressure: light\n    days_before: [3, 5]\n"
    modules, problems = _load(tmp_path, {
        "content/a.md": f"---\ntitle: A\nsessions:\n{pre}---\nBody\n",
        "content/b.md": ("---\ntitle: B\nsessions:\n  - kind: maintenance\n"
                         f"    pressure: moderate\n{pre}---\nBody\n"),
    })
    assert [m.slug for m in modules] == ["a"]
    assert [str(p) for p in problems] == [
        "content/b.md:6: sessions: a pre-race session rule is already declared in "
        "content/a.md:4 for runners this module's 'when' also matches; make the 'when' "
        "conditions exclude each other"
    ]


def test_a_draft_may_repeat_a_session_kind(tmp_path):
    rule = "sessions:\n  - kind: maintenance\n    pressure: moderate\n"
    modules, problems = _load(tmp_path, {
        "content/a.md": f"---\ntitle: A\n{rule}---\nBody\n",
        "content/b.md": f"---\ntitle: B\ndraft: true\n{rule}---\nBody\n",
    })
    assert problems == []
    assert sorted(m.slug for m in modules) == ["a", "b"]


def test_deep_pressure_in_the_last_week_is_refused_where_it_is_declared(tmp_path):
    _, problems = _load(tmp_path, {
        "content/a.md": ("---\ntitle: A\nsessions:\n  - kind: pre-race\n    pressure: firm\n"
                         "    days_before: [3, 5]\n---\nBody\n"),
    })
    assert len(problems) == 1
    assert str(problems[0]).startswith("content/a.md:4: sessions.0: ")
    assert "light" in problems[0].message


def test_one_bad_module_does_not_stop_the_others(tmp_path):
    modules, problems = _load(tmp_path, {
        "content/a.md": "---\ntitle: A\norder: soon\n---\nBody\n",
        "content/b.md": GOOD,
        "content/c.md": "---\ntitle: C\n---\nBody\n",
    })
    assert [m.slug for m in modules] == ["b", "c"]
    assert [p.path for p in problems] == ["content/a.md"]


def test_crlf_file_reports_the_same_lines(tmp_path):
    (tmp_path / "content").mkdir()
    (tmp_path / "content/a.md").write_bytes(b"---\r\ntitle: A\r\nbogus: 1\r\n---\r\nBody\r\n")
    _, problems = load_modules(tmp_path / "content", tmp_path)
    assert [str(p) for p in problems] == ["content/a.md:3: bogus: unknown key"]


# ------------------------------------------------------------------ sanitising

HOSTILE = """\
---
title: Hostile
---
Intro <script>alert('s')</script> text.

<script type="text/javascript">document.cookie</script>

<img src="pic.png" onerror="alert('e')" alt="pic">

<p onclick="alert('c')" onmouseover="alert('m')">Paragraph</p>

[click me](javascript:alert('j')) and <a href="JaVaScRiPt:alert('k')">two</a>
and <a href=" javascript:alert('l')">three</a>.

<iframe src="https://evil.example/"></iframe>
<style>body { display: none }</style>
"""


@pytest.fixture
def hostile_html(tmp_path) -> str:
    modules, problems = _load(tmp_path, {"content/hostile.md": HOSTILE})
    assert problems == []
    return modules[0].html


def test_script_tags_never_reach_module_html(hostile_html):
    lowered = hostile_html.lower()
    assert "<script" not in lowered
    assert "document.cookie" not in lowered
    assert "Intro" in hostile_html and "text." in hostile_html


def test_event_handler_attributes_are_stripped(hostile_html):
    lowered = hostile_html.lower()
    for handler in ("onerror", "onclick", "onmouseover"):
        assert handler not in lowered
    assert 'src="pic.png"' in hostile_html
    assert ">Paragraph<" in hostile_html


def test_javascript_links_lose_their_href(hostile_html):
    assert "javascript:" not in hostile_html.lower()
    assert "click me</a>" in hostile_html
    assert "two</a>" in hostile_html


def test_iframes_and_styles_are_removed(hostile_html):
    lowered = hostile_html.lower()
    assert "<iframe" not in lowered
    assert "<style" not in lowered and "display: none" not in lowered


def test_ordinary_markdown_survives_sanitising(tmp_path):
    modules, _ = _load(tmp_path, {"content/a.md": (
        "---\ntitle: A\n---\n## Heading\n\nSome **bold** and a "
        "[link](https://example.com/x).\n\n- one\n- two\n")})
    html = modules[0].html
    assert '<h2 id="heading">Heading</h2>' in html
    assert "<strong>bold</strong>" in html
    assert 'href="https://example.com/x"' in html
    assert "<li>one</li>" in html
