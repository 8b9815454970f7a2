"""render/traced.py: what a template reads, noted as it compiles, is what ``jinja2.meta``
finds in its source, so the page cache (render/pagecache.py ``reads``) need not parse
and generate each page template a second time."""

from __future__ import annotations

import jinja2
import pytest
from conftest import REPO_ROOT
from jinja2 import meta

from generator.load.project import load_project
from generator.render import traced
from generator.render.codecache import COMPILED
from generator.render.renderer import Renderer
from generator.render.traced import TracedEnvironment, reads

TRICKY = {
    "base.html": ("{% block head %}{{ title }}{% endblock %}{% block body %}{% endblock %}"
                  "{{ footer | default(year) }}"),
    "page.html": ("{% extends 'base.html' %}{% import 'macros.html' as m %}"
                  "{% from 'macros.html' import card with context %}"
                  "{% block body %}{{ super() }}{% set total = items | length %}"
                  "{% for item in items if item.shown %}{{ loop.index }} {{ item }}"
                  "{{ m.card(item, extra) }}{% else %}{{ empty }}{% endfor %}"
                  "{% with local = outer %}{{ local }}{{ inner }}{% endwith %}"
                  "{% call m.wrap(wrapper_arg) %}{{ called }}{% endcall %}"
                  "{% filter upper %}{{ shouted }}{% endfilter %}"
                  "{% set block_var %}{{ captured }}{% endset %}{{ block_var }} {{ total }}"
                  "{% include 'part-' ~ kind ~ '.html' ignore missing %}"
                  "{% include 'part-a.html' %}"
                  "{% trans count=n %}{{ count }} thing{% pluralize %}{{ count }} things"
                  "{% endtrans %}{{ _('Hello') }} {{ gettext('x %(n)s', n=who) }}"
                  "{% endblock %}"),
    "macros.html": ("{% macro card(item, extra=default_extra) %}{{ item }}{{ extra }}"
                    "{{ macro_global }}{% endmacro %}"
                    "{% macro wrap(arg) %}{{ arg }}{{ caller() }}{% endmacro %}"),
    "part-a.html": "{{ part_value }}{% if flag %}{{ only_if }}{% endif %}",
}


@pytest.fixture(autouse=True)
def nothing_noted(monkeypatch):
    """Each test starts with no notes and no compiled code (both are shared by the whole
    process: code another test compiled would be loaded, not compiled, here)."""
    monkeypatch.setattr(traced, "_NOTED", {})
    monkeypatch.setattr(COMPILED, "_code", {})


def source(env: jinja2.Environment, name: str) -> str:
    return env.loader.get_source(env, name)[0]


def from_meta(env: jinja2.Environment, name: str) -> tuple[frozenset, tuple]:
    tree = env.parse(source(env, name), name)
    return (frozenset(meta.find_undeclared_variables(tree)),
            tuple(meta.find_referenced_templates(tree)))


def traced_env(loader: jinja2.BaseLoader) -> TracedEnvironment:
    env = TracedEnvironment(loader=loader, extensions=["jinja2.ext.i18n"])
    env.install_null_translations(newstyle=True)
    return env


@pytest.mark.parametrize("name", sorted(TRICKY))
def test_what_compiling_notes_is_what_jinja2_meta_finds(name):
    env = traced_env(jinja2.DictLoader(TRICKY))
    assert env.noted(name, source(env, name)) is None
    env.get_template(name)
    assert env.noted(name, source(env, name)) == from_meta(env, name)
    assert env.noted(name, source(env, name))[0]  # each reads something, or it proves little


def test_every_shipped_template_compiles_to_what_jinja2_meta_finds():
    """In each language's environment: only the first compiles a template (they share
    its code), and each finds the notes it would have made."""
    project = load_project(REPO_ROOT)
    renderer = Renderer(project.templates_dir, project)
    assert len(project.languages.all) == 3
    for lang in project.languages.all:
        env = renderer.env(None, renderer.words(project.languages.language(lang)))
        names = env.list_templates()
        assert len(names) > 10
        for name in names:
            env.get_template(name)
            assert env.noted(name, source(env, name)) == from_meta(env, name), (lang, name)


def test_notes_are_not_shared_with_an_environment_whose_globals_differ():
    """A global is not an undeclared name: the same template, another answer."""
    one = traced_env(jinja2.DictLoader(TRICKY))
    other = traced_env(jinja2.DictLoader(TRICKY))
    other.globals["extra"] = "a global now"
    one.get_template("page.html")
    assert "extra" in one.noted("page.html", TRICKY["page.html"])[0]
    assert other.noted("page.html", TRICKY["page.html"]) is None


def test_reads_takes_what_compiling_noted_and_parses_nothing(monkeypatch):
    """The page cache's ``reads`` gives the same names through either environment; with
    the traced one it compiles each template it needs (once, as rendering would) and asks
    ``jinja2.meta`` nothing."""
    plain = jinja2.Environment(loader=jinja2.DictLoader(TRICKY),
                               extensions=["jinja2.ext.i18n"])
    plain.install_null_translations(newstyle=True)
    expected = reads(plain, "page.html")
    assert expected is None  # "'part-' ~ kind": named at render time
    assert reads(plain, "part-a.html") == {"part_value", "flag", "only_if"}
    loader = jinja2.DictLoader({**TRICKY, "page.html": TRICKY["page.html"].replace(
        "{% include 'part-' ~ kind ~ '.html' ignore missing %}", "")})
    plain.loader = loader
    expected = reads(plain, "page.html")
    assert {"title", "footer", "items", "captured", "part_value", "macro_global"} <= expected
    env = traced_env(loader)

    def parse(*args):
        raise AssertionError("parsed again")

    monkeypatch.setattr(meta, "find_undeclared_variables", parse)
    assert reads(env, "page.html") == expected
    assert {name for _loader, name in env.cache} == {
        "page.html", "base.html", "macros.html", "part-a.html"}  # each compiled, once


def test_a_template_edited_since_it_compiled_is_read_from_its_new_source():
    """``serve`` keeps environments' answers only for the source they were noted from."""
    templates = {"a.html": "{{ old_name }}"}
    env = traced_env(jinja2.DictLoader(templates))
    assert reads(env, "a.html") == {"old_name"}
    templates["a.html"] = "{{ new_name }}"
    assert reads(env, "a.html") == {"new_name"}
