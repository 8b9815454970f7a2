"""The public site on disk: render every page (``generator.render.site``), write the files
atomically, then prune what this build no longer makes (``OutputLayout.prune``)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from generator.core.errors import GuidegenError, Problem, display_path
from generator.core.write import os_error_text, write_atomic
from generator.publish.layout import OutputLayout
from generator.render.pagecache import PageCache
from generator.render.site import SiteNotBuilt, render_site

WRITE_THREADS = 4  # site files written at once
LISTED_FAILURES = 10  # files that could not be written, listed one by one (then counted)


def build_site(inputs, renderer, layout: OutputLayout,
               cache: PageCache | None = None) -> list[Problem]:
    """Render the site and write it to ``OUT/site/``; files the site no longer makes are
    removed (``plans/`` excepted: it belongs to the guide build). A template error becomes
    a located problem rather than an exception. ``cache``: pages rendered before
    (render/pagecache.py), saved once the site is written."""
    try:
        files, problems = render_site(inputs, renderer, cache)
    except GuidegenError as exc:
        path = display_path(Path(exc.path), inputs.project.root) if exc.path else "templates"
        return [SiteNotBuilt(path, exc.line, exc.message)]
    if not files:
        return problems
    site = layout.site

    def write(item) -> bool | OSError:
        # hundreds of small pages: no fsync each (one sync below for all of them)
        try:
            return write_atomic(site / item[0], item[1], durable=False)
        except OSError as exc:  # a full disk, a read-only folder: said at the file
            return exc

    # creating folders and files is mostly the kernel's work, done outside the GIL:
    # a few threads keep both cores busy with it
    with ThreadPoolExecutor(WRITE_THREADS) as pool:
        results = list(pool.map(write, sorted(files.items())))
    failed = [exc for exc in results if isinstance(exc, OSError)]
    if any(r is True for r in results):
        os.sync()
    root = inputs.project.root
    problems += [Problem(display_path(Path(exc.filename), root), None, os_error_text(exc))
                 for exc in failed[:LISTED_FAILURES]]
    if len(failed) > LISTED_FAILURES:
        more = len(failed) - LISTED_FAILURES
        problems.append(Problem(display_path(site, root), None,
                                f"{more} more files could not be written"))
    if failed and len(failed) == len(results):
        problems.append(SiteNotBuilt(display_path(site, root), None,
                                     "no file of the site could be written"))
    layout.prune(site_keep=set(files))
    if cache is not None:
        cache.save()  # after the sync above: the next build's, not worth waiting for
    return problems
