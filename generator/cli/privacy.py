"""``guidegen privacy``: what personal data each store holds, for the clinic's records.

Registered by ``generator.cli`` from ``COMMANDS``. Reads only: nothing is created or
changed, and no runner is named (counts and field names only).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from generator.cli.app import _project
from generator.core.vocab import counted

LEAVES = ("Personal data leaves this machine only by 'guidegen email' and in the files the "
          "clinic publishes ({site}, whose plans/ folder holds each runner's private page).")


@click.command()
@click.option("--out", "out", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Output folder (default: the project's output folder).")
@click.option("--outbox", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Also count the messages 'guidegen email --outbox DIR' wrote there.")
@click.option("--json", "as_json", is_flag=True, help="Print the stores as JSON.")
@click.pass_context
def privacy(ctx: click.Context, out: Path | None, outbox: Path | None, as_json: bool) -> None:
    """List, per kind of store (guides, plan pages, state, send log, outbox), the
    personal fields it holds, how many runners are in it, who can read it and how long
    it is kept: what a clinic needs for its records of processing. Reads only."""
    from generator.core.errors import display_path
    from generator.privacy import inventory

    project = _project(ctx)
    out = out or project.output_dir
    stores = inventory(project, out, outbox)
    if as_json:
        click.echo(json.dumps([s.to_dict() for s in stores], ensure_ascii=False, indent=2))
        return
    width = max(len(s.kind) for s in stores)
    for s in stores:
        held = ("not counted" if s.runners is None
                else f"{counted(s.runners, 'runner')}, {counted(s.files, 'file')}")
        click.echo(f"{s.kind:<{width}}  {held}  {s.where}")
        click.echo(f"{'':<{width}}  holds:   {', '.join(s.fields)}")
        click.echo(f"{'':<{width}}  read by: {s.readers}")
        click.echo(f"{'':<{width}}  kept:    {s.kept}")
    click.echo(LEAVES.format(site=display_path(out / "site", project.root)))


COMMANDS = [privacy]
