"""``guidegen site`` with its cache (OUT/.cache/): the index of the site's files
(``publish/site.py`` ``FileIndex``) and the compiled templates kept for the next run
(``render/codecache.py``) never change what is written; a damaged, stale or foreign
cache file is ignored."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import copy_example, invoke_cli, tree
from sitekit import EPOCH

from generator.core import write as write_module
from generator.core.cachestore import CacheStore
from generator.publish import site as publish_site
from generator.publish.site import INDEX_NAME, FileIndex
from generator.render import codecache


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))  # the signing key
    monkeypatch.setattr(publish_site, "RACY_NS", 0)  # trust files written a moment ago
    return copy_example(tmp_path / "project")


def site(root: Path, out: Path) -> dict[str, str]:
    result = invoke_cli(["site", "--out", out], cwd=root, env={"SOURCE_DATE_EPOCH": EPOCH})
    assert result.exit_code == 0, result.stderr
    return tree(out / "site")


@pytest.fixture
def writes(monkeypatch) -> list[str]:
    """The site files ``write_atomic`` is asked to write (or compare), by name."""
    asked: list[str] = []
    real = write_module.write_atomic

    def counting(path, data, durable=True):
        asked.append(Path(path).name)
        return real(path, data, durable)

    monkeypatch.setattr(publish_site, "write_atomic", counting)
    return asked


def test_an_unchanged_file_is_not_read_back_and_a_changed_one_is_rewritten(
        project, tmp_path, writes):
    out = tmp_path / "out"
    first = site(project, out)
    site(project, out)  # the files written by the first run are read back, and indexed
    writes.clear()
    assert site(project, out) == first and writes == []  # trusted from the index
    # a hand edit of the same size, its modification time put back: its ctime changed
    page = out / "site" / "index.html"
    data, info = page.read_bytes(), page.stat()
    page.write_bytes(data.replace(b"<html", b"<HTML", 1))
    os.utime(page, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert site(project, out) == first and page.read_bytes() == data


@pytest.mark.parametrize("damage", [b"", b"{not json", b'{"format": 1, "files": []}',
                                    b'{"format": 1, "files": {"index.html": [1, 2]}}',
                                    b'{"format": 2, "files": {}}'])
def test_a_damaged_index_is_ignored_and_written_again(project, tmp_path, damage):
    out = tmp_path / "out"
    first = site(project, out)
    site(project, out)
    index = out / ".cache" / INDEX_NAME
    assert FileIndex(index).known  # the files are indexed
    index.write_bytes(damage)
    (out / "site" / "index.html").write_text("changed by hand", encoding="utf-8")
    assert site(project, out) == first
    assert FileIndex(index).known


def test_an_index_naming_other_bytes_is_not_trusted(project, tmp_path):
    out = tmp_path / "out"
    first = site(project, out)
    site(project, out)
    index = FileIndex(out / ".cache" / INDEX_NAME)
    page = out / "site" / "index.html"
    page.write_text("changed by hand", encoding="utf-8")
    # an index saying that the edited file is the site's page (its new identity)
    entry = index.known["index.html"]
    info = page.stat()
    entry[:5] = [info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns]
    index.found = {"index.html": entry}
    index.save()
    assert site(project, out) == first


@pytest.fixture
def compiled(monkeypatch) -> list[str]:
    """Templates Jinja compiles (rather than loads), by bucket key."""
    found: list[str] = []
    real = codecache.TemplateCode.dump_bytecode

    def counting(self, bucket):
        found.append(bucket.key)
        return real(self, bucket)

    monkeypatch.setattr(codecache.TemplateCode, "dump_bytecode", counting)
    return found


def fresh(out: Path) -> None:
    """As a new process would start: no compiled template in memory, no page kept."""
    codecache.COMPILED._code.clear()
    (out / ".cache" / "pages.pack").unlink()


def test_compiled_templates_are_kept_for_the_next_run(project, tmp_path, compiled):
    out = tmp_path / "out"
    codecache.COMPILED._code.clear()
    first = site(project, out)
    assert compiled  # a first build compiles
    assert first == site(project, tmp_path / "plain")
    compiled.clear()
    fresh(out)
    assert site(project, out) == first and compiled == []  # code read back from the pack


def test_a_hand_edited_entry_is_never_run(project, tmp_path, compiled):
    """Entries whose store checksum holds but whose signature does not (edited, or made
    with another user's key) are compiled again, the code in them never loaded."""
    out = tmp_path / "out"
    first = site(project, out)
    pack = out / ".cache" / "templates.pack"
    store = CacheStore(pack)
    entries = {key.hex(): payload for key, payload in store._load().items()}
    assert entries
    for key, payload in entries.items():  # the code changed, the store's check made anew
        store.put(key, payload[:-1] + bytes([payload[-1] ^ 1]))
    store.save()
    compiled.clear()
    fresh(out)
    assert site(project, out) == first and len(compiled) >= len(entries)


def test_another_users_entries_are_not_used(project, tmp_path, compiled, monkeypatch):
    out = tmp_path / "out"
    first = site(project, out)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "someone-else"))
    compiled.clear()
    fresh(out)
    assert site(project, out) == first and compiled


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_a_damaged_template_pack_is_ignored(project, tmp_path, compiled, damage):
    out = tmp_path / "out"
    first = site(project, out)
    pack = out / ".cache" / "templates.pack"
    data = pack.read_bytes()
    pack.write_bytes(data[:len(data) // 3] if damage == "truncated" else os.urandom(len(data)))
    compiled.clear()
    fresh(out)
    assert site(project, out) == first and compiled


def test_stale_code_is_compiled_again(project, tmp_path):
    """A template edited since its code was kept: Jinja checks the source's checksum in
    the entry, and the page shows the edit."""
    out = tmp_path / "out"
    site(project, out)
    codecache.COMPILED._code.clear()
    base = project / "templates" / "site" / "base.html.j2"
    base.write_text(base.read_text(encoding="utf-8").replace(
        "<main", "<!-- edited -->\n<main", 1), encoding="utf-8")
    site(project, out)
    assert "<!-- edited -->" in (out / "site" / "index.html").read_text(encoding="utf-8")


def test_without_a_home_for_the_key_nothing_is_kept(project, tmp_path, monkeypatch):
    monkeypatch.setattr(codecache, "key_path", lambda: None)
    out = tmp_path / "out"
    first = site(project, out)
    assert not (out / ".cache" / "templates.pack").exists()
    assert site(project, out) == first


def test_a_first_build_that_fails_leaves_no_folder_behind(project, tmp_path):
    (project / "templates" / "site" / "module.html.j2").write_text(
        "{{ page.title | no_such_filter }}", encoding="utf-8")
    out = tmp_path / "out"
    result = invoke_cli(["site", "--out", out], cwd=project, env={"SOURCE_DATE_EPOCH": EPOCH})
    assert result.exit_code == 2
    assert not (out / "site").exists()


def test_a_first_build_makes_every_folder_it_writes_into(project, tmp_path):
    out = tmp_path / "deeper" / "out"
    first = site(project, out)
    assert first == site(project, tmp_path / "again")
    assert all((out / "site" / name).is_file() for name in first)


def test_pages_rendered_by_workers_are_the_pages_rendered_in_process(
        project, tmp_path, monkeypatch):
    import gc

    from generator.render import site as render_site

    monkeypatch.setattr(render_site, "RENDER_MIN_PAGES", 10**9)
    serial = site(project, tmp_path / "serial")
    monkeypatch.setattr(render_site, "RENDER_MIN_PAGES", 2)  # every page by forked workers
    frozen = gc.get_freeze_count()
    assert site(project, tmp_path / "parallel") == serial
    assert gc.get_freeze_count() == frozen  # what was frozen for the workers is not kept


@pytest.fixture
def streamed(monkeypatch) -> list[str]:
    """The pages a first build hands to its writer threads as they render, by name."""
    names: list[str] = []
    real = publish_site.Stream.page

    def page(self, name, data):
        names.append(name)
        return real(self, name, data)

    monkeypatch.setattr(publish_site.Stream, "page", page)
    return names


def test_a_first_build_writes_each_page_as_it_renders_and_a_rebuild_does_not(
        project, tmp_path, monkeypatch, streamed):
    """A first build writes the pages as the workers hand them back; a rebuild (the
    site's folder is there) writes once all are rendered, so that a failed rebuild
    leaves the site as it was. The files are the same either way."""
    from generator.render import site as render_site

    monkeypatch.setattr(render_site, "RENDER_MIN_PAGES", 2)  # workers, as on big sites
    first = site(project, tmp_path / "first")
    pages = {name for name in first if name.endswith(".html")} - {"plans/index.html"}
    assert len(pages) > 20 and set(streamed) == pages and len(streamed) == len(pages)
    streamed.clear()
    (tmp_path / "second" / "site").mkdir(parents=True)  # there, empty: a rebuild
    assert site(project, tmp_path / "second") == first
    assert streamed == []


def test_a_first_build_that_fails_after_writing_pages_leaves_nothing_behind(
        project, tmp_path, monkeypatch, streamed):
    """The 404 page renders last: every other page of the default language has been
    written by then. Its template failing removes them, and their folders."""
    from generator.render import site as render_site

    monkeypatch.setattr(render_site, "RENDER_MIN_PAGES", 2)
    (project / "templates" / "site" / "404.html.j2").write_text(
        "{{ page.title | no_such_filter }}", encoding="utf-8")
    out = tmp_path / "out"
    result = invoke_cli(["site", "--out", out], cwd=project, env={"SOURCE_DATE_EPOCH": EPOCH})
    assert result.exit_code == 2 and "no_such_filter" in result.stderr
    assert len(streamed) > 10  # written before the failure...
    assert not (out / "site").exists()  # ...and removed
    assert [p for p in out.rglob("*") if ".cache" not in p.parts] == []


def test_the_site_s_templates_compile_while_workers_parse_the_modules(
        project, tmp_path, monkeypatch):
    """With workers parsing the modules, this process compiles the site's templates (and
    loads each language's dates) meanwhile: none is compiled once the modules are
    parsed, the files are the same as without it, and the code is kept for the next
    build, which compiles nothing."""
    from generator.core import parallel
    from generator.load import content as content_module
    from generator.render import sitefiles
    from generator.render.traced import TracedEnvironment

    monkeypatch.setattr(parallel, "cores", lambda: 2)
    monkeypatch.setattr(parallel.pmap, "__defaults__", (2, *parallel.pmap.__defaults__[1:]))
    events: list[str] = []
    real_generate, real_parse_all = TracedEnvironment._generate, content_module._parse_all
    monkeypatch.setattr(TracedEnvironment, "_generate", lambda self, *args, **kwargs: (
        events.append("compiled"), real_generate(self, *args, **kwargs))[1])
    monkeypatch.setattr(content_module, "_parse_all", lambda jobs, meanwhile=None: (
        real_parse_all(jobs, meanwhile), events.append("parsed"))[0])
    first = site(project, tmp_path / "first")
    assert events.count("parsed") == 1
    assert events.index("parsed") == len(list((project / "templates" / "site").iterdir()))
    assert "compiled" not in events[events.index("parsed"):]
    events.clear()
    assert site(project, tmp_path / "first") == first and "compiled" not in events
    monkeypatch.setattr(sitefiles, "warm_site", lambda *args: None)
    codecache.COMPILED._code.clear()
    events.clear()
    assert site(project, tmp_path / "without") == first
    assert "compiled" in events[events.index("parsed"):]  # compiled as the site renders


def test_a_site_folder_deleted_under_its_cache_is_written_whole_again(
        project, tmp_path, monkeypatch, streamed):
    """``OUT/site/`` removed, ``OUT/.cache/`` kept: a first build again, whose pages come
    from the page cache (not rendered, so not streamed) and are written all the same."""
    import shutil

    from generator.render import site as render_site

    monkeypatch.setattr(render_site, "RENDER_MIN_PAGES", 2)
    out = tmp_path / "out"
    first = site(project, out)
    shutil.rmtree(out / "site")
    streamed.clear()
    assert site(project, out) == first
    assert streamed == []  # every page from the cache


def test_a_first_build_interrupted_while_it_writes_leaves_nothing_behind(
        project, tmp_path, monkeypatch):
    """Ctrl-C (KeyboardInterrupt) after some pages were written: the interrupt goes on to
    the caller, and the pages written so far are removed, with their folders."""
    from generator.build import BuildOptions, build
    from generator.load.project import load_project
    from generator.render import site as render_site

    monkeypatch.setattr(render_site, "RENDER_MIN_PAGES", 2)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    real, handed = publish_site.Stream.page, []

    def page(self, name, data):
        if len(handed) == 12:
            raise KeyboardInterrupt
        handed.append(name)
        return real(self, name, data)

    monkeypatch.setattr(publish_site.Stream, "page", page)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        build(load_project(project), out, BuildOptions(site=True, cache=True))
    assert len(handed) == 12  # written before the interrupt...
    assert not (out / "site").exists()  # ...and removed
