"""Session fixtures for the site tests (a pytest plugin: ``pytest_plugins = ["site_fixtures"]``).

``example_build`` copies the shipped example project with a two-runner roster (one per
brand, so PDFs stay few) and runs ``guidegen build`` once per session; tests only read
its output. ``browser`` is one headless Chromium for the whole session.
"""

from __future__ import annotations

import pytest
from browser_util import chromium
from conftest import copy_example
from sitekit import ATHLETES, ExampleBuild, run_build


@pytest.fixture(scope="session")
def example_build(tmp_path_factory: pytest.TempPathFactory) -> ExampleBuild:
    root = copy_example(tmp_path_factory.mktemp("example"), athletes=ATHLETES)
    return run_build(root, root / "output")


@pytest.fixture(scope="session")
def browser():
    with chromium() as b:
        yield b
