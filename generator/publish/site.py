"""The public site on disk: render every page (``generator.render.site``), write the files
atomically, then prune what this build no longer makes (``OutputLayout.prune``)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from generator.core.errors import GuidegenError, Problem, display_path
from generator.core.write import write_atomic
from generator.publish.layout import OutputLayout
from generator.render.site import SiteNotBuilt, render_site

WRITE_THREADS = 4  # site files written at once


def build_site(inputs, renderer, layout: OutputLayout) -> list[Problem]:
    """Render the site and write it to ``OUT/site/``; files the site no longer makes are
    removed (``plans/`` excepted: it belongs to the guide build). A template error becomes
    a located problem rather than an exception."""
    try:
        files, problems = render_site(inputs, renderer)
    except GuidegenError as exc:
        path = display_path(Path(exc.path), inputs.project.root) if exc.path else "templates"
        return [SiteNotBuilt(path, exc.line, exc.message)]
    if not files:
        return problems
    site = layout.site

    def write(item) -> bool:
        # hundreds of small pages: no fsync each (one sync below for all of them)
        return write_atomic(site / item[0], item[1], durable=False)

    # creating folders and files is mostly the kernel's work, done outside the GIL:
    # a few threads keep both cores busy with it
    with ThreadPoolExecutor(WRITE_THREADS) as pool:
        written = any(list(pool.map(write, sorted(files.items()))))
    if written:
        os.sync()
    layout.prune(site_keep=set(files))
    return problems
