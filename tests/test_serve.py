"""``guidegen serve`` as a user runs it: a subprocess on a free port in a scratch copy of
the example project; files are edited on disk and the served pages must follow."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import copy_example
from sitekit import ATHLETES

pytest_plugins = ["site_fixtures"]

TIMEOUT = 20.0  # seconds a change may take to show (debounce + rebuild on a busy CI box)
ATHLETE = "hb-zoe-01"


@dataclass
class Server:
    root: Path
    process: subprocess.Popen
    url: str = ""
    log: list[str] = field(default_factory=list)

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url + path.lstrip("/"), timeout=10) as response:
                return response.status, response.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8")

    def settle(self, quiet: float = 1.0) -> int:
        """Wait until the log has been quiet for ``quiet`` seconds (earlier rebuilds done)."""
        deadline = time.monotonic() + TIMEOUT
        count = len(self.log)
        while time.monotonic() < deadline:
            time.sleep(quiet)
            if len(self.log) == count:
                return count
            count = len(self.log)
        return count

    def edit(self, rel: str, change: Callable[[str], str]) -> str:
        """Apply ``change`` to a project file; returns the original text."""
        path = self.root / rel
        before = path.read_text(encoding="utf-8")
        after = change(before)
        assert after != before, "the edit changed nothing"
        path.write_text(after, encoding="utf-8")
        return before


def wait_until(check: Callable[[], object], what: str, timeout: float = TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")


def start_serve(root: Path, *args: str) -> Server:
    process = subprocess.Popen(
        [sys.executable, "-m", "generator", "serve", "--port", "0", *args], cwd=root,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    server = Server(root, process)

    def read() -> None:
        for line in process.stderr:
            server.log.append(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()

    def started() -> str:
        assert process.poll() is None, "\n".join(server.log)
        found = [m for line in server.log if (m := re.search(r"at (http://127\.0\.0\.1:\d+/)",
                                                             line))]
        return found[0].group(1) if found else ""

    server.url = wait_until(started, "the server to start", timeout=60)
    return server


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Server]:
    root = copy_example(tmp_path_factory.mktemp("serve"), athletes=ATHLETES)
    server = start_serve(root, "--athlete", ATHLETE)
    yield server
    server.process.terminate()
    assert server.process.wait(timeout=15) == 0, "\n".join(server.log)


def test_served_pages_have_the_live_reload_script_and_assets_do_not(served):
    status, page = served.get("/")
    assert status == 200 and "/__livereload" in page
    assert page.rstrip().endswith("</html>") and page.index("/__livereload") < page.rindex(
        "</body>")
    status, css = served.get("/assets/site.css")
    assert status == 200 and "__livereload" not in css
    status, missing = served.get("/no-such-page/")
    assert status == 404 and "Page not found" in missing


def test_editing_a_module_changes_the_served_page(served):
    rel = "content/how-often.md"
    original = served.edit(rel, lambda t: t.replace(
        "title: How often to book during your training block", "title: Booking rhythm v2", 1))
    try:
        wait_until(lambda: "Booking rhythm v2</h1>" in served.get("/how-often/")[1],
                   "the edited title on /how-often/")
        assert "Booking rhythm v2" in served.get("/")[1]  # the landing page lists it too
    finally:
        (served.root / rel).write_text(original, encoding="utf-8")
    wait_until(lambda: "Booking rhythm v2" not in served.get("/how-often/")[1], "the revert")


def test_broken_front_matter_shows_the_error_in_the_browser_then_recovers(served, browser):
    rel = "content/pre-race-massage.md"
    page = browser.new_page()
    page.goto(served.url + "pre-race-massage/")
    assert page.locator("h1").inner_text() == "The pre-race massage"
    original = served.edit(rel, lambda t: t.replace("title: The pre-race massage",
                                                    "titel: The pre-race massage", 1))
    try:
        # no manual reload: the injected script notices the new build by itself
        page.wait_for_selector("ul.errors", timeout=TIMEOUT * 1000)
        errors = page.locator("ul.errors li").all_inner_texts()
        assert ("content/pre-race-massage.md:2: titel: unknown key (did you mean 'title'?)"
                in errors)
        assert "content/pre-race-massage.md:2: title: required field is missing" in errors
        assert served.process.poll() is None, "the server must survive a broken file"
    finally:
        (served.root / rel).write_text(original, encoding="utf-8")
    page.wait_for_selector("h1:has-text('The pre-race massage')", timeout=TIMEOUT * 1000)
    assert page.locator("ul.errors").count() == 0
    page.close()


def test_error_messages_are_escaped(served):
    rel = "content/race-week.md"
    original = served.edit(rel, lambda t: t.replace("---\n", '---\n"<b>bold</b>": 1\n', 1))
    try:
        body = wait_until(lambda: (r := served.get("/race-week/"))[0] == 500 and r[1],
                          "the error page")
        assert "&lt;b&gt;bold&lt;/b&gt;: unknown key" in body
        assert "<b>bold</b>" not in body
    finally:
        (served.root / rel).write_text(original, encoding="utf-8")
    wait_until(lambda: served.get("/race-week/")[0] == 200, "recovery")


def test_athlete_preview_follows_roster_edits_without_rebuilding_the_site(served):
    status, page = served.get("/__athlete/")
    assert status == 200 and "Zoë Ó Briain" in page and "/__livereload" in page
    marker = served.settle()
    original = served.edit("data/athletes.csv", lambda t: t.replace("Zoë Ó Briain",
                                                                    "Zoë Preview", 1))
    try:
        wait_until(lambda: "Zoë Preview" in served.get("/__athlete/")[1], "the new name")
        # the page is served as soon as it is made; its console line follows it
        rebuilt = wait_until(lambda: [line for line in served.log[marker:]
                                      if line.startswith("rebuilt")], "the rebuild's line")
        assert all(line.startswith("rebuilt (roster)") for line in rebuilt)
    finally:
        (served.root / "data/athletes.csv").write_text(original, encoding="utf-8")
    wait_until(lambda: "Zoë Ó Briain" in served.get("/__athlete/")[1], "the revert")


def test_template_and_css_edits_are_served(served):
    rel = "templates/assets/site.css"
    original = served.edit(rel, lambda t: t + "\n/* serve-test-marker */\n")
    try:
        wait_until(lambda: "serve-test-marker" in served.get("/assets/site.css")[1],
                   "the edited stylesheet")
    finally:
        (served.root / rel).write_text(original, encoding="utf-8")


def test_serve_outside_a_project_exits_2(tmp_path):
    done = subprocess.run([sys.executable, "-m", "generator", "serve", "--port", "0"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "no guidegen.toml here" in done.stderr and "Traceback" not in done.stderr


def test_a_bad_row_of_the_previewed_runner_breaks_only_their_page(served):
    status, _ = served.get("/__athlete/")
    assert status == 200
    original = served.edit("data/athletes.csv", lambda t: t.replace(
        "Solent Coastal Marathon,2027-04-18", "Solent Coastal Marathon,2027-02-30", 1))
    try:
        body = wait_until(lambda: (r := served.get("/__athlete/"))[0] == 500 and r[1],
                          "the runner's error page")
        assert "data/athletes.csv:2: race_date: 2027-02-30 is not a real calendar date" in body
        assert "data/athletes.csv: no valid athlete with id &#x27;hb-zoe-01&#x27;" in body
        assert str(served.root) not in body, "paths are relative to the project"
        status, page = served.get("/")  # the public pages are not affected
        assert status == 200 and 'class="errors"' not in page
        assert served.get("/pre-race-massage/")[0] == 200
    finally:
        (served.root / "data/athletes.csv").write_text(original, encoding="utf-8")
    wait_until(lambda: served.get("/__athlete/")[0] == 200, "the runner's page to recover")


def test_preview_keeps_roster_and_guide_errors_off_the_public_pages(tmp_path, capsys):
    """The same, in-process: what each page would show after each kind of edit."""
    from generator.serve import PARTS, Preview

    root = copy_example(tmp_path / "p", athletes=ATHLETES)
    roster = root / "data" / "athletes.csv"
    good = roster.read_text(encoding="utf-8")
    preview = Preview(root, ATHLETE)
    try:
        preview.rebuild(set(PARTS))
        assert preview.errors() == [] and preview.athlete_errors() == []
        assert b"Zo\xc3\xab" in preview.athlete_html
        # another runner's bad row: nobody's page breaks (the row is reported by check)
        roster.write_text(good.replace("Front Range Marathon,2027-05-23",
                                       "Front Range Marathon,2027-13-01"), encoding="utf-8")
        preview.rebuild({"roster"})
        assert preview.errors() == [] and preview.athlete_errors() == []
        # the previewed runner's own bad row: only their page, with relative paths
        roster.write_text(good.replace("zoe.obriain@example.com,Solent Coastal Marathon,"
                                       "2027-04-18", "zoe.obriain@example.com,,2027-04-18"),
                          encoding="utf-8")
        preview.rebuild({"roster"})
        assert preview.errors() == []
        assert preview.athlete_errors() == [
            "data/athletes.csv:2: race_name: required field is missing",
            "data/athletes.csv: no valid athlete with id 'hb-zoe-01'"]
        assert preview.athlete_html is None
        # the roster file gone: the same, located at the file
        roster.unlink()
        preview.rebuild({"roster"})
        assert preview.errors() == []
        assert preview.athlete_errors() == [
            "data/athletes.csv: roster file not found",
            "data/athletes.csv: no valid athlete with id 'hb-zoe-01'"]
        # back: the page is there again
        roster.write_text(good, encoding="utf-8")
        preview.rebuild({"roster"})
        assert preview.athlete_errors() == [] and preview.athlete_html is not None
        # a content error breaks the public pages and the guide built from them
        module = root / "content" / "race-week.md"
        module.write_text("---\ntitel: x\n---\n", encoding="utf-8")
        preview.rebuild({"content"})
        assert preview.errors() and preview.athlete_errors()[:len(preview.errors())] == \
            preview.errors()
    finally:
        import shutil

        shutil.rmtree(preview.out, ignore_errors=True)
    log = capsys.readouterr().err
    assert "/__athlete/: data/athletes.csv:2: race_name: required field is missing" in log


def test_a_rebuild_writes_only_the_files_an_edit_changed(tmp_path, monkeypatch):
    """The preview folder is serve's own: a page whose bytes did not change is neither
    read back nor written again; one deleted or replaced behind its back is."""
    import generator.core.write as write
    from generator.serve import PARTS, Preview

    root = copy_example(tmp_path / "p")
    preview = Preview(root)
    written: list[str] = []
    real = write.atomic_writer

    def spy(path, *args, **kwargs):
        written.append(path.relative_to(preview.site).as_posix())
        return real(path, *args, **kwargs)

    monkeypatch.setattr(write, "atomic_writer", spy)
    try:
        preview.rebuild(set(PARTS))
        first = {p.relative_to(preview.site).as_posix(): p.stat().st_ino
                 for p in preview.site.rglob("*") if p.is_file()}
        assert len(written) == len(first) > 30
        module = root / "content" / "race-week.md"
        module.write_text(module.read_text(encoding="utf-8").replace(
            "\n\n", "\n\nA sentence added in the preview.\n\n", 1), encoding="utf-8")
        read_back: list[Path] = []
        read_bytes = Path.read_bytes

        def reading(self):
            if preview.site in self.parents:
                read_back.append(self)
            return read_bytes(self)

        monkeypatch.setattr(Path, "read_bytes", reading)
        written.clear()
        preview.rebuild({"content"})
        assert read_back == []  # no page read back to compare
        assert "race-week/index.html" in written and "feed.xml" in written
        assert len(written) < 8, written  # the page, the feed; no other language's pages
        assert b"A sentence added in the preview." in (
            preview.site / "race-week" / "index.html").read_bytes()
        unchanged = [name for name in first if name not in written]
        assert all((preview.site / name).stat().st_ino == first[name] for name in unchanged)
        # behind the preview's back: one page deleted, one overwritten
        (preview.site / "index.html").unlink()
        home_es = preview.site / "es" / "index.html"
        good = home_es.read_bytes()
        home_es.write_bytes(b"stale")
        written.clear()
        preview.rebuild({"content"})
        assert sorted(written) == ["es/index.html", "index.html"]
        assert home_es.read_bytes() == good
    finally:
        import shutil

        shutil.rmtree(preview.out, ignore_errors=True)


def test_after_a_first_build_in_workers_an_edit_compiles_no_template(tmp_path, monkeypatch):
    """When workers render the preview's first build, the site's templates (the pages'
    and those they extend or import) are still compiled in serve's own process, once: a
    rebuild after an edit compiles none (it would, for every template only a worker had
    compiled)."""
    import shutil

    import jinja2

    import generator.render.site as site_module
    from generator.serve import PARTS, Preview

    monkeypatch.setattr(site_module, "RENDER_MIN_PAGES", 2)  # workers for the example
    root = copy_example(tmp_path / "p")
    preview = Preview(root)
    compiled: list[str | None] = []
    real = jinja2.Environment.compile

    def spy(self, source, name=None, *args, **kwargs):
        compiled.append(name)
        return real(self, source, name, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", spy)
    try:
        preview.rebuild(set(PARTS))
        assert {"site/base.html.j2", "site/module.html.j2"} <= set(compiled)
        module = root / "content" / "race-week.md"
        module.write_text(module.read_text(encoding="utf-8") + "\nOne more line.\n",
                          encoding="utf-8")
        compiled.clear()
        preview.rebuild({"content"})
        assert b"One more line." in (preview.site / "race-week" / "index.html").read_bytes()
        assert compiled == []
    finally:
        shutil.rmtree(preview.out, ignore_errors=True)
