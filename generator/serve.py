"""``guidegen serve``: a live preview of the site (and optionally one athlete's guide).

The site is built into a temporary folder with the same code as ``guidegen site`` and
served on 127.0.0.1. Watchers (watchfiles) classify each change as config, content,
brands, templates or roster and rebuild only what depends on it: the roster only
affects the ``--athlete`` preview, templates need no reload of the inputs, and the
site is never rebuilt for a roster edit.

Live reload is a tiny script injected into HTML responses by the server (never into
files): it long-polls ``/__livereload`` and reloads when the build version changes.
While content, a brand, a template or guidegen.toml is broken every page is replaced by an
error page listing the located one-line errors (escaped); the next good save brings the site
back. The roster and the ``--athlete`` guide only ever replace the ``/__athlete/`` page: a
bad roster row never takes the public pages down. WeasyPrint is never
imported here. Folders to watch are read at start-up: changing ``content_dir`` (etc.)
in guidegen.toml needs a restart.
"""

from __future__ import annotations

import functools
import html
import http.server
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from generator.core.errors import GuidegenError, Problem, UsageError
from generator.core.vocab import counted
from generator.load.project import CONFIG_NAME, load_project

PARTS = ("config", "content", "brands", "templates", "roster")
RELOAD_PATH = "/__livereload"
ATHLETE_PATH = "/__athlete/"
POLL_SECONDS = 20
RELOAD_SCRIPT = """<script>/* guidegen serve: live reload (preview only) */
(function(){var v=%s;function poll(){fetch("%s?v="+encodeURIComponent(v),{cache:"no-store"})
.then(function(r){return r.text()}).then(function(t){if(t!==v){location.reload()}else{poll()}},
function(){setTimeout(poll,2000)})}poll()})();</script>
"""


def inject(page: bytes, version: str) -> bytes:
    """Add the live-reload script before ``</body>`` (served responses only)."""
    script = (RELOAD_SCRIPT % (f'"{version}"', RELOAD_PATH)).encode()
    at = page.lower().rfind(b"</body>")
    return page + script if at < 0 else page[:at] + script + page[at:]


def error_page(lines: list[str]) -> bytes:
    items = "\n".join(f"<li><code>{html.escape(line)}</code></li>" for line in lines)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Build error · guidegen serve</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;margin:0;background:#fff5f5;color:#1d1d1d}}
main{{max-width:60rem;margin:0 auto;padding:2rem 1.25rem}}h1{{color:#9b1c1c;margin-top:0}}
ul{{padding:0;list-style:none}}li{{margin:.5rem 0;padding:.75rem 1rem;background:#fff;
border-left:4px solid #c53030;border-radius:0 .4rem .4rem 0;overflow-wrap:anywhere}}
code{{font:14px/1.5 ui-monospace,monospace;white-space:pre-wrap}}</style></head>
<body><main><h1>The preview could not be built</h1>
<p>Fix the file below and save: this page reloads by itself.</p>
<ul class="errors">
{items}
</ul></main></body></html>
""".encode()


class Preview:
    """State of one ``serve`` session: the last build, its errors and a version counter."""

    def __init__(self, root: Path, athlete_id: str | None = None):
        self.root = root.resolve()
        self.athlete_id = athlete_id
        self.out = Path(tempfile.mkdtemp(prefix="guidegen-serve-"))
        self.site = self.out / "site"
        self.site.mkdir()
        self.problems: dict[str, list[Problem]] = {}
        self.fatal: list[str] = []  # config or template errors: nothing could be built
        self.athlete_html: bytes | None = None
        self.athlete_fatal: list[str] = []  # why the --athlete page could not be made
        self.project = self.inputs = self.renderer = None
        # parsed modules, rendered pages and what the preview folder's files hold, kept in
        # memory for the session (contentcache.py, pagecache.py, publish/site.py)
        self.cache = self.pages = self.written = None
        self.version = 0
        self.changed = threading.Condition()
        self.lock = threading.Lock()

    # ---- building -------------------------------------------------------------------
    def rebuild(self, parts: set[str]) -> None:
        """Reload what ``parts`` names and re-render what depends on it."""
        from generator.load.contentcache import ContentCache
        from generator.load.inputs import load_inputs
        from generator.publish.site import PreviewIndex
        from generator.render.pagecache import PageCache
        from generator.render.renderer import Renderer

        started = time.perf_counter()
        with self.lock:
            self.fatal = []
            if self.cache is None:
                self.cache, self.pages, self.written = ContentCache(), PageCache(), PreviewIndex()
            try:
                if "config" in parts or self.project is None:
                    self.project = None  # stays None while guidegen.toml is broken
                    self.project = load_project(self.root)
                    parts = set(PARTS)
                if parts & {"config", "content", "brands"}:
                    old = self.inputs
                    self.inputs = load_inputs(self.project, cache=self.cache)
                    if old is not None:  # the roster is reloaded only when it changes
                        self.inputs.athletes = old.athletes
                        self.inputs.roster_source = old.roster_source
                        self.inputs.roster_lines = old.roster_lines
                    self.problems["inputs"] = list(self.inputs.problems)
                self.renderer = Renderer(self.project.templates_dir, self.project,
                                         self.inputs.context)
                if parts - {"roster"}:
                    self._build_site()
            except GuidegenError as exc:
                self.fatal = exc.lines()
            self.athlete_fatal = []
            if self.athlete_id and not self.fatal:
                # its own failures (a bad roster row, a guide template) break only its page
                try:
                    self._build_athlete(bool(parts & {"config", "brands", "roster"}))
                except GuidegenError as exc:
                    self.athlete_html = None
                    self.problems.pop("athlete", None)
                    self.athlete_fatal = exc.lines()
            self._report(parts, time.perf_counter() - started)
        with self.changed:
            self.version += 1
            self.changed.notify_all()

    def _build_site(self) -> None:
        from generator.publish.layout import OutputLayout
        from generator.publish.site import build_site

        self.problems["site"] = build_site(self.inputs, self.renderer, OutputLayout(self.out),
                                           self.pages, self.written)

    def _build_athlete(self, reload_roster: bool) -> None:
        from generator.core.errors import display_path
        from generator.load.roster import load_roster
        from generator.plan.guideplan import plan_guide
        from generator.publish.guides import GuideMaker

        roster = self.project.roster_path
        if roster is None:
            raise UsageError("--athlete needs a roster: set 'roster' in guidegen.toml")
        if reload_roster:
            lines: dict[str, int] = {}
            athletes, problems = load_roster(roster, set(self.inputs.brands), self.root,
                                             lines=lines)
            self.inputs.roster_source = display_path(roster, self.root)
            self.inputs.roster_lines = lines
            default = self.project.settings.default_brand
            self.inputs.athletes = [a for a in athletes
                                    if (a.brand or default) in self.inputs.brands]
            self.problems["roster"] = problems
        chosen = [a for a in self.inputs.athletes if a.id == self.athlete_id]
        if not chosen:
            row_errors = [p for p in self.problems.get("roster", []) if p.severity == "error"]
            missing = Problem(display_path(roster, self.root), None,
                              f"no valid athlete with id {self.athlete_id!r}")
            raise GuidegenError(missing.message, problems=[*row_errors, missing])
        plan = plan_guide(self.inputs, chosen[0])
        result = GuideMaker(self.inputs, self.renderer).make(plan, ("html",))
        self.problems["athlete"] = [*plan.problems, *result.problems]
        self.athlete_html = result.files["html"]

    def errors(self) -> list[str]:
        """Lines shown in the browser instead of the public pages (warnings only go to
        the console). The roster and the --athlete guide never break the public pages."""
        found = [str(p) for key in ("inputs", "site") for p in
                 self.problems.get(key, []) if p.severity == "error"]
        return self.fatal + found

    def athlete_errors(self) -> list[str]:
        """Lines shown instead of the /__athlete/ page: what breaks the site breaks the
        guide too, plus the guide's own errors (its roster row, its templates)."""
        if not self.athlete_id:
            return []
        own = [str(p) for p in self.problems.get("athlete", []) if p.severity == "error"]
        return self.errors() + self.athlete_fatal + own

    def _report(self, parts: set[str], seconds: float) -> None:
        what = ", ".join(p for p in PARTS if p in parts)
        lines = self.errors()
        mine = self.athlete_errors()[len(lines):]
        count = len(lines) + len(mine)
        print(f"rebuilt ({what}) in {seconds:.2f}s"
              + (f": {counted(count, 'error')}, shown in the browser" if count else ""),
              file=sys.stderr, flush=True)
        for line in lines:
            print(f"  {line}", file=sys.stderr, flush=True)
        for line in mine:
            print(f"  {ATHLETE_PATH}: {line}", file=sys.stderr, flush=True)

    # ---- watching ---------------------------------------------------------------------
    def classify(self, project, path: Path) -> str | None:
        """Which input a changed file belongs to (None: not an input)."""
        path = path.resolve()
        if path == self.root / CONFIG_NAME:
            return "config"
        if project.roster_path is not None and path == project.roster_path:
            return "roster"
        if path.is_relative_to(project.path(project.settings.locales_dir)):
            return "config"  # a catalog: the project's languages are read again
        for part, folder in (("content", project.content_dir), ("brands", project.brands_dir),
                             ("templates", project.templates_dir)):
            if path.is_relative_to(folder):
                return part
        return None

    def watch(self, stop: threading.Event) -> list[threading.Thread]:
        import watchfiles

        project = self.project or load_project(self.root)  # folders as at start-up
        deep = {project.content_dir, project.brands_dir, project.templates_dir,
                project.path(project.settings.locales_dir)}
        roster = project.roster_path
        if roster is not None and roster.parent != self.root:
            deep.add(roster.parent)
        deep = sorted(d for d in deep if d.is_dir())

        def loop(paths, recursive: bool) -> None:
            for changes in watchfiles.watch(*paths, recursive=recursive, stop_event=stop,
                                            debounce=400, raise_interrupt=False):
                parts = {self.classify(project, Path(p)) for _change, p in changes} - {None}
                if parts:
                    self.rebuild(parts)

        threads = [threading.Thread(target=loop, args=(deep, True), daemon=True),
                   threading.Thread(target=loop, args=([self.root], False), daemon=True)]
        for t in threads:
            t.start()
        return threads

    # ---- serving ----------------------------------------------------------------------
    def wait_for_change(self, seen: str) -> str:
        with self.changed:
            self.changed.wait_for(lambda: str(self.version) != seen, timeout=POLL_SECONDS)
            return str(self.version)

    def serve(self, port: int) -> None:
        self.rebuild(set(PARTS))
        handler = functools.partial(PreviewHandler, preview=self, directory=str(self.site))
        try:
            server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
        except OSError as exc:
            shutil.rmtree(self.out, ignore_errors=True)
            raise UsageError(f"cannot listen on 127.0.0.1:{port} ({exc.strerror}); "
                             "choose another with --port") from None
        stop = threading.Event()
        self.watch(stop)
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        print(f"serving {self.root} at {url}"
              + (f" (athlete preview: {url}{ATHLETE_PATH[1:]})" if self.athlete_id else "")
              + "; Ctrl-C to stop", file=sys.stderr, flush=True)
        signal.signal(signal.SIGTERM, _interrupt)  # clean up the temp folder on kill too
        try:
            server.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            pass
        finally:
            stop.set()
            server.server_close()
            shutil.rmtree(self.out, ignore_errors=True)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


class PreviewHandler(http.server.SimpleHTTPRequestHandler):
    """Static files from the preview build, plus live reload, errors and /__athlete/."""

    def __init__(self, *args, preview: Preview, **kwargs):
        self.preview = preview
        super().__init__(*args, **kwargs)

    def log_message(self, format, *args):  # noqa: A002 - quiet; errors go to the console
        pass

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        url = urlsplit(self.path)
        if url.path == RELOAD_PATH:
            seen = parse_qs(url.query).get("v", [""])[0]
            return self._send(200, self.preview.wait_for_change(seen).encode(), "text/plain")
        version = str(self.preview.version)
        if url.path.startswith(ATHLETE_PATH):
            if not self.preview.athlete_id:
                return self._send(404, inject(error_page(["start with --athlete ID to "
                                                          "preview a guide"]), version))
            errors, page = self.preview.athlete_errors(), self.preview.athlete_html
            if errors or page is None:
                return self._send(500, inject(error_page(errors or ["not built yet"]),
                                              version))
            return self._send(200, inject(page, version))
        errors = self.preview.errors()
        target = Path(self.translate_path(url.path))
        if errors and url.path.endswith((".html", "/")):
            return self._send(500, inject(error_page(errors), version))
        if target.is_dir() and url.path.endswith("/"):
            target = target / "index.html"
        if target.suffix == ".html" and target.is_file():
            return self._send(200, inject(target.read_bytes(), version))
        if not target.exists():
            missing = self.preview.site / "404.html"
            page = missing.read_bytes() if missing.is_file() else b"<h1>Not found</h1>"
            return self._send(404, inject(page, version))
        return super().do_GET()

    def _send(self, status: int, body: bytes, ctype: str = "text/html; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
