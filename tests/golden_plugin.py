"""Golden files (Pelican-style snapshots): ``--update-golden`` and the ``golden`` fixture.

Snapshots live in ``tests/golden/`` and are compared byte for byte. After an
intended change to templates, content or the ICS writer, regenerate them with

    .venv/bin/python -m pytest --update-golden tests/test_determinism.py

and review the diff of ``tests/golden/`` like any other code change. The plugin
is loaded with ``-p tests.golden_plugin`` (pyproject addopts).
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("guidegen").addoption(
        "--update-golden", action="store_true", default=False,
        help="rewrite the snapshot files in tests/golden/ instead of comparing with them")


class Golden:
    """Compare bytes with ``tests/golden/<name>``, or rewrite it with --update-golden."""

    def __init__(self, update: bool, folder: Path = GOLDEN_DIR):
        self.update = update
        self.folder = folder

    def check(self, name: str, data: bytes) -> None:
        path = self.folder / name
        if self.update:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.is_file() or path.read_bytes() != data:
                path.write_bytes(data)
            return
        if not path.is_file():
            pytest.fail(f"no golden file {path.relative_to(self.folder.parent)}; "
                        "create it with: pytest --update-golden", pytrace=False)
        expected = path.read_bytes()
        if expected != data:
            pytest.fail(f"{name} differs from its golden file (if the change is intended, "
                        f"run pytest --update-golden and review the diff):\n"
                        + _diff(expected, data, name), pytrace=False)


def _diff(expected: bytes, got: bytes, name: str, limit: int = 60) -> str:
    old = expected.decode("utf-8", "replace").splitlines(keepends=True)
    new = got.decode("utf-8", "replace").splitlines(keepends=True)
    lines = list(difflib.unified_diff(old, new, f"golden/{name}", "rendered", n=2))
    if not lines:  # same text, different bytes: line ends or encoding
        return "  (same text, different bytes: check line endings)"
    shown = "".join(lines[:limit])
    if len(lines) > limit:
        shown += f"\n... {len(lines) - limit} more diff lines"
    return shown


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Golden:
    return Golden(bool(request.config.getoption("--update-golden")))
