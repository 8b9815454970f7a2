"""The content cache (parsed modules by file hash) and the page cache (rendered site pages
by what they read): hits when nothing changed, a miss for exactly what did, damaged or
foreign entries ignored, and the same bytes on disk with or without them."""

from __future__ import annotations

import hashlib
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT, copy_example, invoke_cli, tree
from sitekit import EPOCH

from generator.build import BuildOptions, build
from generator.core.cachestore import MAGIC, CacheStore
from generator.load import content as content_module
from generator.load import contentcache, gitdates
from generator.load.content import load_modules
from generator.load.contentcache import ContentCache
from generator.load.project import load_project
from generator.render.pagecache import PageCache, Unhashable, digest, reads
from generator.render.renderer import Renderer

PAGE = """\
---
title: Page {n}
order: {n}
summary: About page {n}.
---
## Part one

Text of page {n}, with *emphasis* and a [link](https://example.org/{n}).
"""


@pytest.fixture
def counted(monkeypatch) -> list[str]:
    """The files parsed (shown paths), in order: ``parse_module`` counted."""
    parsed: list[str] = []
    real = content_module.parse_module

    def counting(path, shown):
        parsed.append(shown)
        return real(path, shown)

    monkeypatch.setattr(content_module, "parse_module", counting)
    return parsed


@pytest.fixture
def site_env(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)


def project_with_pages(scratch_project, n: int = 6) -> Path:
    files = {f"content/page-{i}.md": PAGE.format(n=i) for i in range(n)}
    return scratch_project(files, copy=("templates",))


def load(root: Path, cache: ContentCache | None):
    modules, problems = load_modules(root / "content", root, cache)
    return modules, problems


# ---- the content cache -----------------------------------------------------------------

def test_an_unchanged_rebuild_parses_no_module(scratch_project, tmp_path, counted):
    root = project_with_pages(scratch_project)
    pack = tmp_path / "out" / ".cache" / "content.pack"
    first, _ = load(root, ContentCache(pack))
    assert len(counted) == len(first) == 8  # six pages and the two scratch modules
    counted.clear()
    cache = ContentCache(pack)
    again, problems = load(root, cache)
    assert counted == [] and problems == []
    assert (cache.hits, cache.misses) == (8, 0)
    assert again == first  # field by field, html included


def test_a_rebuild_from_the_cache_parses_no_front_matter_again(tmp_path, monkeypatch):
    """Translations' allowed keys and session rules' lines come from the parse: a module
    read back from the cache is not read and parsed again for them (the example has 24
    translations and four modules with session rules)."""
    import yaml

    root = copy_example(tmp_path / "project", ["content"])
    pack = tmp_path / "cache.pack"
    first = load(root, ContentCache(pack))
    assert first[1] == [] and any(m.translations for m in first[0])
    parses = []
    real = yaml.reader.Reader.__init__

    def counting(self, stream):  # every YAML parse, whichever loader, starts with a Reader
        parses.append(1)
        real(self, stream)

    monkeypatch.setattr(yaml.reader.Reader, "__init__", counting)
    again = load(root, ContentCache(pack))
    assert parses == []
    assert again == first


def test_a_translation_setting_a_structural_key_is_reported_at_its_line_every_build(
        tmp_path):
    root = copy_example(tmp_path / "project", ["content"], files={
        "content/how-often.es.md": "---\ntitle: Cada cuánto\nsummary: Resumen.\norder: 3\n"
                                   "---\nTexto.\n"})
    pack = tmp_path / "cache.pack"
    for _ in range(2):  # the second build from the cache: reported again
        modules, problems = load(root, ContentCache(pack))
        bad = [p for p in problems if p.path == "content/how-often.es.md"]
        assert [(p.line, p.field) for p in bad] == [(4, "order")]
        assert "es" not in next(m for m in modules if m.slug == "how-often").translations


def test_editing_one_module_parses_exactly_that_one(scratch_project, tmp_path, counted):
    root = project_with_pages(scratch_project)
    pack = tmp_path / "cache.pack"
    load(root, ContentCache(pack))
    page = root / "content" / "page-3.md"
    page.write_text(page.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    counted.clear()
    cache = ContentCache(pack)
    modules, _ = load(root, cache)
    assert counted == ["content/page-3.md"]
    assert (cache.hits, cache.misses) == (7, 1)
    assert "One more line." in next(m for m in modules if m.slug == "page-3").html
    assert modules == load(root, None)[0]  # as a load without any cache gives


def test_the_pack_grows_by_the_edits_and_is_compacted_before_it_doubles(scratch_project,
                                                                        tmp_path):
    root = project_with_pages(scratch_project)
    pack = tmp_path / "cache.pack"
    load(root, ContentCache(pack))
    first = pack.stat().st_size
    sizes = []
    for n in range(12):  # the same module edited again and again: each edit appends it
        page = root / "content" / "page-1.md"
        page.write_text(page.read_text(encoding="utf-8") + f"\nEdit {n}.\n", encoding="utf-8")
        load(root, ContentCache(pack))
        sizes.append(pack.stat().st_size)
    assert sizes[0] > first and max(sizes) <= 2 * sizes[-1] + 2048
    assert min(sizes[1:]) < max(sizes)  # compacted at least once
    (root / "content" / "page-2.md").unlink()
    cache = ContentCache(pack)
    load(root, cache)
    assert cache.hits == 7 and len(cache.store) == 7  # what the next build holds


def test_broken_modules_are_parsed_and_reported_every_time(scratch_project, tmp_path,
                                                           counted):
    root = project_with_pages(scratch_project, 2)
    (root / "content" / "broken.md").write_text("---\ntitle: [unclosed\n---\nBody\n",
                                                encoding="utf-8")
    pack = tmp_path / "cache.pack"
    for parsed in (5, 1):  # two pages, two scratch modules and the broken one; then it
        counted.clear()
        _, problems = load(root, ContentCache(pack))
        assert [p.path for p in problems] == ["content/broken.md"]
        assert len(counted) == parsed and "content/broken.md" in counted


@pytest.mark.parametrize("damage", ["flip a byte", "truncate", "garbage", "empty",
                                    "other magic"])
def test_a_damaged_cache_is_ignored_and_rewritten(scratch_project, tmp_path, counted,
                                                  damage):
    root = project_with_pages(scratch_project)
    pack = tmp_path / "cache.pack"
    expected, _ = load(root, ContentCache(pack))
    data = pack.read_bytes()
    at = len(data) - 10  # inside the last entry's payload
    damaged = {
        "flip a byte": data[:at] + bytes([data[at] ^ 0x40]) + data[at + 1:],
        "truncate": data[:len(data) * 2 // 3],
        "garbage": os.urandom(len(data)),
        "empty": b"",
        "other magic": b"guidegen-cache-pack-0\n" + data[len(MAGIC):],
    }[damage]
    pack.write_bytes(damaged)
    counted.clear()
    cache = ContentCache(pack)
    modules, problems = load(root, cache)
    assert problems == [] and modules == expected
    assert cache.misses >= 1 and len(counted) == cache.misses
    if damage == "flip a byte":
        assert cache.misses == 1  # one entry lost, the others still good
    counted.clear()
    cache = ContentCache(pack)
    assert load(root, cache)[0] == expected and counted == []  # rewritten whole


def test_a_pack_that_is_a_symlink_is_replaced_never_written_through(scratch_project,
                                                                    tmp_path):
    root = project_with_pages(scratch_project, 1)
    pack, elsewhere = tmp_path / "cache.pack", tmp_path / "elsewhere.txt"
    load(root, ContentCache(pack))
    elsewhere.write_bytes(pack.read_bytes())  # a copy someone links the pack to
    before = elsewhere.read_bytes()
    pack.unlink()
    pack.symlink_to(elsewhere)
    page = root / "content" / "page-0.md"
    page.write_text(page.read_text(encoding="utf-8") + "\nEdited.\n", encoding="utf-8")
    load(root, ContentCache(pack))
    assert elsewhere.read_bytes() == before
    assert not pack.is_symlink() and pack.is_file()


class _Exploit:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


def test_a_save_ends_a_generation_keeping_only_what_it_used(tmp_path):
    pack = tmp_path / "store.pack"
    keys = [hashlib.sha256(b"%d" % i).hexdigest() for i in range(3)]
    store = CacheStore(pack)
    for i, key in enumerate(keys):
        store.put(key, b"value %d" % i)
    store.save()
    store = CacheStore(pack)  # the next build asks for one entry only
    assert store.get(keys[1]) == b"value 1"
    store.save()
    assert len(CacheStore(pack)) == 1 and CacheStore(pack).get(keys[1]) == b"value 1"
    store.save()  # a second save with nothing asked in between keeps nothing
    assert len(CacheStore(pack)) == 0


def test_an_entry_naming_anything_but_module_classes_is_refused(scratch_project, tmp_path,
                                                                counted):
    root = project_with_pages(scratch_project, 1)
    pack, marker = tmp_path / "cache.pack", tmp_path / "pwned"
    load(root, ContentCache(pack))
    store = CacheStore(pack)  # raw bytes: a pack someone else wrote, checks and all
    evil = pickle.dumps(_Exploit(marker))
    for path in sorted((root / "content").glob("*.md")):
        file_hash = hashlib.sha256(path.read_bytes()).hexdigest()
        store.put(ContentCache.key(path, f"content/{path.name}", file_hash), evil)
    store.save()
    counted.clear()
    cache = ContentCache(pack)
    modules, problems = load(root, cache)
    assert not marker.exists()
    assert problems == [] and len(modules) == 3 and cache.misses == 3 and len(counted) == 3


def test_a_new_guidegen_or_markdown_starts_afresh(scratch_project, tmp_path, counted,
                                                  monkeypatch):
    root = project_with_pages(scratch_project, 2)
    pack = tmp_path / "cache.pack"
    load(root, ContentCache(pack))
    first = contentcache.fingerprint()
    monkeypatch.setattr(contentcache, "fingerprint", lambda: first + "-other")
    counted.clear()
    cache = ContentCache(pack)
    load(root, cache)
    assert cache.hits == 0 and len(counted) == 4


def test_a_file_saved_again_while_it_was_parsed_is_stored_as_what_was_parsed(
        scratch_project, tmp_path, monkeypatch, counted):
    root = project_with_pages(scratch_project, 1)
    pack = tmp_path / "cache.pack"
    load(root, ContentCache(pack))
    page = root / "content" / "page-0.md"
    page.write_text(page.read_text(encoding="utf-8") + "\nFirst edit.\n", "utf-8")
    real = content_module._parse_all

    def edit_again(jobs):  # the author saves again between our lookup and the parse
        page.write_text(page.read_text(encoding="utf-8") + "\nSecond edit.\n", "utf-8")
        return real(jobs)

    monkeypatch.setattr(content_module, "_parse_all", edit_again)
    modules, _ = load(root, ContentCache(pack))
    assert "Second edit." in next(m for m in modules if m.slug == "page-0").html
    monkeypatch.setattr(content_module, "_parse_all", real)
    counted.clear()
    cache = ContentCache(pack)
    again, _ = load(root, cache)  # the file as it is now is what was stored
    assert counted == [] and again == modules


def test_serve_keeps_the_cache_in_memory_and_hands_out_fresh_modules(scratch_project,
                                                                     counted):
    root = project_with_pages(scratch_project, 2)
    cache = ContentCache()  # no file: what `guidegen serve` keeps for the session
    first, _ = load(root, cache)
    object.__setattr__(first[0], "title", "changed by a caller")
    counted.clear()
    again, _ = load(root, cache)
    assert counted == [] and again[0].title != "changed by a caller"


def test_every_shipped_module_goes_through_the_cache(tmp_path, counted):
    """The shipped content (every kind of front matter, variables, sessions, translations)
    reads back from an entry: a new field of a type outside the allow-list would miss
    every time."""
    pack = tmp_path / "cache.pack"
    first, _ = load_modules(REPO_ROOT / "content", REPO_ROOT, ContentCache(pack))
    counted.clear()
    cache = ContentCache(pack)
    again, _ = load_modules(REPO_ROOT / "content", REPO_ROOT, cache)
    assert counted == [] and cache.misses == 0 and again == first  # translations too
    assert [m.translations for m in again] == [m.translations for m in first]
    assert any(m.translations for m in again)


# ---- the page cache --------------------------------------------------------------------

def site_once(root: Path, out: Path, pages: PageCache | None = None,
              cache: ContentCache | None = None) -> dict[str, str]:
    """Load and render the site into ``out/site`` as ``guidegen site`` does."""
    from generator.load.inputs import load_inputs
    from generator.publish.layout import OutputLayout
    from generator.publish.site import build_site

    project = load_project(root)
    inputs = load_inputs(project, cache=cache)
    renderer = Renderer(project.templates_dir, project, inputs.context)
    assert build_site(inputs, renderer, OutputLayout(out), pages) == []
    return tree(out / "site")


def test_an_unchanged_site_renders_no_page_and_an_edit_only_the_pages_that_show_it(
        scratch_project, tmp_path, site_env):
    root = project_with_pages(scratch_project)
    pages = PageCache()
    cold = site_once(root, tmp_path / "a", pages)
    assert pages.rendered == 11  # home, eight modules, about and the 404 page
    pages.rendered = 0
    assert site_once(root, tmp_path / "a", pages) == cold and pages.rendered == 0
    page = root / "content" / "page-3.md"
    page.write_text(page.read_text(encoding="utf-8") + "\nMore text.\n", encoding="utf-8")
    warm = site_once(root, tmp_path / "a", pages)
    # its page, its neighbours (their previous/next links), the home page and the 404
    # page (their lists of modules)
    assert pages.rendered == 5
    assert warm == site_once(root, tmp_path / "b")  # as a build without any cache
    assert warm["page-3/index.html"] != cold["page-3/index.html"]


def test_module_digests_kept_by_their_content_key_give_the_same_page_keys(
        scratch_project, tmp_path, site_env):
    """A module handed out by the content cache has its digest kept under its content
    key (render/pagecache.py): the next build's page keys are the ones a digest gives,
    and an edited module (a new key) is digested again."""
    root = project_with_pages(scratch_project)
    packs = tmp_path / "cache"

    def once() -> tuple[dict[str, str], PageCache]:
        pages = PageCache(packs / "pages.pack")
        found = site_once(root, tmp_path / "a", pages, ContentCache(packs / "content.pack"))
        return found, pages  # (build_site saved the pages)

    cold, pages = once()
    assert pages.rendered == 11
    warm, pages = once()  # module digests from the store, not worked out
    assert warm == cold and pages.rendered == 0
    page = root / "content" / "page-3.md"
    page.write_text(page.read_text(encoding="utf-8") + "\nMore text.\n", encoding="utf-8")
    edited, pages = once()
    assert pages.rendered == 5 and edited == site_once(root, tmp_path / "b")
    again, pages = once()
    assert again == edited and pages.rendered == 0


def test_translated_modules_keep_their_digests_too(tmp_path, site_env, monkeypatch):
    """A module with its translations attached, each translation (made from the base
    module and the translation's file) and a module with the site's wording of its
    variables filled in are handed out under keys made from theirs: a rebuild of the
    three-language example digests no module field by field, and an edit digests the
    edited module and what was made from it, nothing else."""
    from generator.load.content import Module
    from generator.render import pagecache

    root = copy_example(tmp_path / "project", files={"content/how-often.md": None})
    packs = tmp_path / "cache"
    digested: list[str] = []
    real = pagecache._items

    def counting(kind, items, out, depth, memo):
        if kind is Module:
            digested.append(f"{items[items.index('slug') + 1]}.{items[items.index('lang') + 1]}")
        return real(kind, items, out, depth, memo)

    monkeypatch.setattr(pagecache, "_items", counting)

    def once() -> dict[str, str]:
        digested.clear()
        return site_once(root, tmp_path / "a", PageCache(packs / "pages.pack"),
                         ContentCache(packs / "content.pack"))

    cold = once()
    assert {"race-week.None", "race-week.es", "race-week.de"} <= set(digested)
    assert once() == cold and digested == []
    page = root / "content" / "race-week.es.md"
    page.write_text(page.read_text(encoding="utf-8") + "\nMás texto.\n", encoding="utf-8")
    edited = once()
    # the Spanish translation (as attached, and with the site's wording filled in) and
    # the base module that holds it; not the German one, nor any other module
    assert set(digested) == {"race-week.None", "race-week.es"}
    assert edited == site_once(root, tmp_path / "b")  # as a build without any cache


def test_modules_made_again_without_a_parse_replace_the_ones_listed_before(tmp_path,
                                                                          site_env):
    """``serve`` renders the site again after a template edit without parsing: the
    modules filled in again replace those listed before (a long session does not grow)."""
    from generator.load.inputs import load_inputs
    from generator.render.site import render_site

    root = copy_example(tmp_path / "project")
    project = load_project(root)
    inputs = load_inputs(project, cache=ContentCache())
    renderer = Renderer(project.templates_dir, project, inputs.context)
    sizes = []
    for _ in range(3):
        render_site(inputs, renderer, PageCache())
        sizes.append(len(contentcache.HANDED_OUT))
    assert sizes[0] == sizes[1] == sizes[2] > len(inputs.modules) * 3  # filled ones too


@pytest.mark.parametrize("kept", ["on disk", "in memory"])
def test_a_template_edit_renders_every_page_again(scratch_project, tmp_path, site_env, kept):
    root = project_with_pages(scratch_project)
    pages = PageCache(tmp_path / "pages.pack" if kept == "on disk" else None)
    site_once(root, tmp_path / "a", pages)
    base = root / "templates" / "site" / "base.html.j2"
    base.write_text(base.read_text(encoding="utf-8").replace(
        "<main", "<!-- edited -->\n<main", 1), encoding="utf-8")
    if kept == "on disk":
        pages = PageCache(tmp_path / "pages.pack")
    pages.rendered = 0
    warm = site_once(root, tmp_path / "a", pages)
    assert pages.rendered == 11
    assert warm == site_once(root, tmp_path / "b")
    assert "<!-- edited -->" in (tmp_path / "a" / "site" / "index.html").read_text("utf-8")


def test_a_catalog_or_config_edit_changes_every_page_key(scratch_project):
    root = project_with_pages(scratch_project, 1)
    (root / "locales" / "es" / "LC_MESSAGES").mkdir(parents=True)
    catalog = root / "locales" / "es" / "LC_MESSAGES" / "messages.po"
    catalog.write_text('msgid "Home"\nmsgstr "Inicio"\n', encoding="utf-8")
    project = load_project(root)
    env = Renderer(project.templates_dir, project).env(None)
    before = PageCache().shared(env, project)
    catalog.write_text('msgid "Home"\nmsgstr "Portada"\n', encoding="utf-8")
    after_catalog = PageCache().shared(env, project)
    toml = root / "guidegen.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "\n# a comment\n", encoding="utf-8")
    after_config = PageCache().shared(env, project)
    assert len({before, after_catalog, after_config}) == 3


def test_templates_from_a_loader_that_cannot_list_them_are_never_cached(scratch_project):
    import jinja2

    project = load_project(scratch_project())
    env = jinja2.Environment(loader=jinja2.FunctionLoader(lambda name: "{{ page }}"))
    assert PageCache().key(env, project, "any.html", {"page": "x"}) is None


def test_a_module_page_does_not_read_the_module_list_and_the_home_page_does():
    project = load_project(REPO_ROOT)
    env = Renderer(project.templates_dir, project).env(None)
    assert "modules" not in reads(env, "site/module.html.j2")
    assert {"modules", "page"} <= reads(env, "site/index.html.j2")


def test_a_template_named_at_render_time_or_a_context_reading_global_reads_everything():
    import jinja2

    env = jinja2.Environment(loader=jinja2.DictLoader({
        "a.html": "{% include which %}", "b.html": "{{ page }}"}))
    assert reads(env, "a.html") is None
    assert reads(env, "b.html") == {"page"}

    @jinja2.pass_context
    def peek(context):
        return context.get("secret")

    env.globals["peek"] = peek
    assert reads(env, "b.html") is None


def test_a_digest_is_the_same_in_every_process():
    code = ("import datetime, sys; from generator.render.pagecache import digest; "
            "sys.stdout.write(digest({'s': {'b', 'a', 'c'}, 'f': frozenset({1, 2}), "
            "'d': datetime.date(2027, 4, 18), 't': ('x', 1.5, None)}).hex())")
    found = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, env={**os.environ, "PYTHONHASHSEED": seed}).stdout
             for seed in ("1", "2", "3")}
    assert len(found) == 1


def test_leaves_inside_a_container_are_written_as_on_their_own():
    from generator.render.pagecache import _canonical

    for leaf in ("text", "", None):
        alone: list[bytes] = []
        _canonical(leaf, alone, 0, {})
        inside: list[bytes] = []
        _canonical([leaf], inside, 0, {})
        assert b"".join(inside).endswith(b"".join(alone))
        assert b"".join(inside) == b"".join(inside[:2]) + b"".join(alone)


def test_objects_inside_a_value_count_by_value_whether_shared_or_not():
    from dataclasses import dataclass

    @dataclass
    class Inner:
        text: str

    @dataclass
    class Outer:
        inner: Inner
        other: Inner

    shared = Inner("x")
    memo: dict = {}
    digest(shared, memo)  # already seen inside an earlier value
    assert digest(Outer(shared, shared), memo) == digest(Outer(Inner("x"), Inner("x")))
    assert digest(Outer(shared, Inner("y"))) != digest(Outer(shared, shared))


def test_a_digest_tells_values_and_types_apart_and_refuses_functions():
    from markupsafe import Markup

    values = ["1", 1, 1.0, True, None, Markup("1"), b"1", ("1",), ["1"], {"1": 1},
              ("a", "b"), ("ab",), ("a", "b", ""), {"a": "b"}]
    assert len({digest(v) for v in values}) == len(values)
    for value in (len, lambda: 1, [print]):
        with pytest.raises(Unhashable):
            digest(value)


# ---- the commands ----------------------------------------------------------------------

def test_guidegen_site_gives_the_same_bytes_cold_warm_and_after_an_edit_as_without_cache(
        tmp_path, site_env):
    root = copy_example(tmp_path / "project")
    project = load_project(root)

    def site() -> dict[str, str]:
        result = invoke_cli(["site", "--out", tmp_path / "cached"], cwd=root,
                            env={"SOURCE_DATE_EPOCH": EPOCH})
        assert result.exit_code == 0, result.stderr
        return tree(tmp_path / "cached" / "site")

    def plain() -> dict[str, str]:
        out = tmp_path / "plain"
        build(project, out, BuildOptions(site=True))  # no cache
        return tree(out / "site")

    cold = site()
    assert (tmp_path / "cached" / ".cache" / "content.pack").is_file()
    assert (tmp_path / "cached" / ".cache" / "pages.pack").is_file()
    assert site() == cold == plain()
    module = next((root / "content").glob("why-massage-helps.md"))
    module.write_text(module.read_text(encoding="utf-8") + "\nA new paragraph.\n", "utf-8")
    edited = site()
    assert edited != cold and edited == plain()
    assert not any(".cache" in rel for rel in edited)  # never published


@pytest.mark.parametrize("in_git", [False, True])
def test_a_cold_build_s_workers_work_out_the_same_keys_the_parent_would(
        scratch_project, tmp_path, site_env, monkeypatch, in_git):
    """With nothing stored, the workers that render the pages also work out their keys
    (render/pagecache.py): the same pages, page keys and module digests stored as when
    this process works each key out first, and the next build renders nothing. In a git
    checkout too, where the module dates are stored before any page renders."""
    import generator.render.site as site_module

    monkeypatch.setattr(site_module, "RENDER_MIN_PAGES", 2)  # workers, even for 11 pages
    root = project_with_pages(scratch_project)
    if in_git:
        from test_sitedates import git

        git(root, "init", "-q")
        git(root, "add", "-A")
        git(root, "commit", "-qm", "site", date="2027-01-02T03:04:05Z")
    here, real_key = [], PageCache.key
    monkeypatch.setattr(PageCache, "key", lambda self, *args: (
        here.append(os.getpid()), real_key(self, *args))[1])

    def cold(name: str, parent_keys: bool) -> tuple[dict[str, str], dict, PageCache]:
        packs = tmp_path / name / "cache"
        pages = PageCache(packs / "pages.pack")
        pages._cold = False if parent_keys else None  # as a store that held something
        here.clear()
        gitdates._KEPT.clear()  # each build walks the history and stores its dates
        found = site_once(root, tmp_path / name, pages, ContentCache(packs / "content.pack"))
        return found, dict(CacheStore(packs / "pages.pack")._load()), pages

    by_workers, stored, pages = cold("workers", parent_keys=False)
    assert pages.rendered == 11 and here == []  # all worked out by the workers
    by_parent, stored_by_parent, pages = cold("parent", parent_keys=True)
    assert pages.rendered == 11 and len(here) == 11  # ten pages and the 404 page
    assert by_workers == by_parent and stored == stored_by_parent
    assert sum(len(v) == 32 for v in stored.values()) >= 8  # the module digests too
    again = PageCache(tmp_path / "workers" / "cache" / "pages.pack")
    site_once(root, tmp_path / "workers", again,
              ContentCache(tmp_path / "workers" / "cache" / "content.pack"))
    assert again.rendered == 0
