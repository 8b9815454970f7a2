"""Validation messages in the words of the people who edit the files: no pydantic
phrasing ("Input should be", "a valid integer") and no regular expression reaches them."""

from __future__ import annotations

import importlib
import pkgutil

import pydantic
import pytest

import generator.load
from generator.core.errors import known_keys, plain_message
from generator.core.vocab import PATTERN_WORDS


class Sample(pydantic.BaseModel):
    order: int = 0
    draft: bool = False
    title: str = ""
    days: list[str] = []
    shaped: str = pydantic.Field(default="00:00", pattern=next(iter(PATTERN_WORDS)))


@pytest.mark.parametrize("field, value, message", [
    ("order", "soon", "must be a whole number"),
    ("order", 1.5, "must be a whole number"),
    ("draft", "maybe", "must be true or false"),
    ("title", True, "must be text"),
    ("days", "mon", "must be a list"),
])
def test_a_value_of_the_wrong_kind_is_named_plainly(field, value, message):
    with pytest.raises(pydantic.ValidationError) as caught:
        Sample(**{field: value})
    assert plain_message(caught.value.errors()[0]) == message


def test_a_shape_is_said_in_words_not_as_a_regular_expression():
    with pytest.raises(pydantic.ValidationError) as caught:
        Sample(shaped="25:00")
    said = plain_message(caught.value.errors()[0])
    assert said == f"must be {next(iter(PATTERN_WORDS.values()))}"
    assert "^" not in said and "\\" not in said


def test_every_pattern_a_loaded_file_is_checked_against_has_words():
    """A new ``Field(pattern=...)`` in a load model without words in PATTERN_WORDS would
    show its regular expression to a clinic: this finds it."""
    patterns = {}
    for info in pkgutil.iter_modules(generator.load.__path__, "generator.load."):
        module = importlib.import_module(info.name)
        for model in vars(module).values():
            if not (isinstance(model, type) and issubclass(model, pydantic.BaseModel)
                    and model.__module__ == info.name):
                continue
            for name, field in model.model_fields.items():
                for meta in field.metadata:
                    pattern = getattr(meta, "pattern", None)
                    if pattern is not None:
                        patterns[f"{model.__name__}.{name}"] = pattern
    assert len(patterns) >= 10, patterns  # colours, times, addresses, slug, font
    assert {f: p for f, p in patterns.items() if p not in PATTERN_WORDS} == {}


def test_a_misspelt_key_is_answered_with_the_key_it_is_close_to(tmp_path):
    from generator.load.content import FrontMatter, load_modules

    assert {"title", "summary", "kind", "days_before", "distance"} <= known_keys(FrontMatter)
    content = tmp_path / "content"
    content.mkdir()
    (content / "a.md").write_text(
        "---\ntitle: A\naudience: [web]\nsumary: typo\nsessions:\n  - kind: pre-race\n"
        "    pressure: light\n    days_before: [5, 3]\n    minuts: 30\n---\nBody.\n",
        encoding="utf-8")
    _modules, problems = load_modules(content, tmp_path)
    assert [(p.line, p.field, p.message) for p in problems] == [  # in the file's order
        (3, "audience.0", "must be 'guide' or 'site' (got 'web')"),
        (4, "sumary", "unknown key (did you mean 'summary'?)"),
        (9, "sessions.0.minuts", "unknown key"),  # nothing close: no guess
    ]


def test_a_misspelt_roster_column_or_field_is_answered_too(tmp_path):
    """An unknown CSV column is ignored with a warning (a runner whose 'emial' column is
    ignored gets no email): it names the column meant, or lists the known ones."""
    from generator.load.roster import load_roster

    csv = tmp_path / "roster.csv"
    csv.write_text("id,name,emial,race_name,race_date,shoe_size\n"
                   "x1,Ana,a@example.com,Berlin,2027-09-26,38\n", encoding="utf-8")
    athletes, problems = load_roster(csv, None, tmp_path)
    assert [a.id for a in athletes] == ["x1"] and athletes[0].email is None
    said = [str(p) for p in problems]
    assert said[0] == ("roster.csv:1: warning: unknown column 'emial' ignored (did you mean "
                       "'email'?)")
    assert said[1].startswith("roster.csv:1: warning: unknown column 'shoe_size' ignored "
                              "(known: id, name, email, ")
    yml = tmp_path / "roster.yaml"
    yml.write_text("- id: y1\n  name: Y\n  race_name: M\n  race_date: 2027-04-18\n"
                   "  emial: y@example.com\n", encoding="utf-8")
    athletes, problems = load_roster(yml, None, tmp_path)
    assert [str(p) for p in problems] == [
        "roster.yaml:1: emial: unknown field (did you mean 'email'?)"]


@pytest.mark.parametrize("front, line, said", [
    ('title: "unclosed\norder: 3\n', 4,
     "invalid YAML: found unexpected end of stream (in the quoted text that starts on line 2)"),
    ("title: X\ntags: [a, b\norder: 3\n", 4,
     "invalid YAML: expected ',' or ']', but got ':' (in the [ ] list that starts on line 3)"),
    ("title: X\nwhen:\n\tdistance: [marathon]\n", 4,
     "invalid YAML: a tab character; indent with spaces"),
    ("title: Massage: why it helps\norder: 1\n", 2,
     "invalid YAML: a second ': ' on one line; put text that holds ': ' in quotes"),
    ("title: X\nwhen:\n  distance: [marathon]\n experience: [first]\n", 5,
     "invalid YAML: this line's indentation does not line up with the lines above it "
     "(in the block of keys that starts on line 2)"),
])
def test_broken_yaml_says_where_what_it_was_reading_began(tmp_path, front, line, said):
    from generator.load.content import load_modules

    content = tmp_path / "content"
    content.mkdir()
    (content / "a.md").write_text(f"---\n{front}---\nBody.\n", encoding="utf-8")
    _modules, problems = load_modules(content, tmp_path)
    assert [(p.line, p.message) for p in problems] == [(line, said)]
