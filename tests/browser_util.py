"""Helpers for the browser tests: a static file server in a thread, headless Chromium via
playwright, and axe-core. A missing piece skips the test with the command that installs it,
except when CI=true: then it fails (CI must run every test, never skip one silently)."""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

TESTS = Path(__file__).resolve().parent
CHROMIUM = Path("/usr/bin/chromium")
AXE = TESTS / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SETUP_HINT = "or, as root, `bash scripts/setup-test-env.sh` (what `make test` runs)"
CHROMIUM_INSTALL = "apt-get install -y --no-install-recommends chromium"
AXE_INSTALL = "(cd tests && npm install --no-save axe-core@4)"
PLAYWRIGHT_INSTALL = ".venv/bin/python -m pip install -e '.[test]'"


def in_ci() -> bool:
    """CI=true (as CI services set it; 1 also counts)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1")


def missing_tool(what: str, install: str, also: str = SETUP_HINT) -> NoReturn:
    """Skip the test because ``what`` is missing, naming the command that installs it;
    under CI=true fail instead."""
    reason = f"{what}: install it with `{install}` {also}"
    if in_ci():
        pytest.fail(f"{reason} (CI=true: a missing tool fails the tests)", pytrace=False)
    pytest.skip(reason)


def require_chromium() -> None:
    if not CHROMIUM.exists():
        missing_tool(f"{CHROMIUM} not found", CHROMIUM_INSTALL)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing_tool("the python package 'playwright' is missing", PLAYWRIGHT_INSTALL,
                     "(or run `make test`, which installs the test extras)")


def axe_source() -> str:
    if not AXE.is_file():
        missing_tool(f"{AXE} not found", AXE_INSTALL)
    return AXE.read_text(encoding="utf-8")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - keep test output clean
        pass


@contextlib.contextmanager
def static_server(root: Path) -> Iterator[str]:
    """Serve ``root`` on 127.0.0.1 (free port) in a thread; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    """A headless Debian Chromium driven by playwright."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def console_errors(page) -> list[str]:
    """Collect console errors and uncaught exceptions of ``page`` into a list."""
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def axe_violations(page, source: str, impacts=("serious", "critical")) -> list[dict]:
    """Run axe-core on the loaded page; violations of the given impacts."""
    page.add_script_tag(content=source)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"] if v["impact"] in impacts
    ]
