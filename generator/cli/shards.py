"""``guidegen merge-shards``: the manifests of a sharded batch into one ``manifest.json``.

Registered by ``generator.cli`` (see its ``__init__``). Thin: the merge itself is
``generator.publish.shardmerge.merge_shards``.
"""

from __future__ import annotations

from pathlib import Path

import click

from generator.cli.app import _project, lock_options, locking, report_problems
from generator.core.errors import EXIT_USAGE, display_path


@click.command("merge-shards")
@click.option("--out", "out", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Output folder the shards wrote to (default: the project's output folder).")
@click.option("--strict", is_flag=True,
              help="Exit 1 when a shard left no manifest (it did not finish).")
@lock_options
@click.pass_context
def merge_shards(ctx: click.Context, out: Path | None, strict: bool) -> None:
    """Merge OUT/manifest.shard-I-of-N.json, written by `guidegen batch --shard`, into
    OUT/manifest.json and delete them, so that `guidegen email` and the next build or
    batch see one state (what was built, each runner's published plan).

    Run it once every shard has finished: it waits while shards still write to OUT. A
    whole build or batch (no --shard) merges them by itself before it starts.

    Exit 2, merging nothing, when the manifests conflict (a runner in two of them, two
    shard counts) or OUT holds no manifest at all. A shard with no manifest is a
    warning: its runners keep what manifest.json said of them.
    """
    from generator.core.lock import output_lock
    from generator.publish.layout import OutputLayout
    from generator.publish.shardmerge import merge_shards as merge

    out = out or _project(ctx).output_dir
    layout = OutputLayout(out)
    with output_lock(out, **locking(ctx, "merge-shards")):
        merged = merge(layout)
        there = layout.manifest().is_file()
    code = report_problems(merged.problems, strict)
    if merged.count is None:
        click.echo(f"{display_path(out)}: no shard manifests to merge"
                   + ("; manifest.json is the whole state" if there else
                      " and no manifest.json (is this the output folder?)"), err=True)
        ctx.exit(0 if there else EXIT_USAGE)
    click.echo(merged.line(), err=True)
    ctx.exit(code)


COMMANDS = [merge_shards]
