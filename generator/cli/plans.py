"""``guidegen plans``: each runner's private plan URL, for the clinic to pass on."""

from __future__ import annotations

import json
from pathlib import Path

import click

from generator.cli.app import _project, missing_roster, report_problems, stop
from generator.core.errors import EXIT_USAGE


@click.command("plans")
@click.argument("roster", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON (id, name, url, webcal).")
@click.pass_context
def plans(ctx: click.Context, roster: Path | None, as_json: bool) -> None:
    """Print each runner's private plan page URL (id, name, URL), and its calendar
    subscription (webcal://) with --json. ROSTER defaults to the project's roster.

    The URLs come from [project] base_url and the secret in $GUIDEGEN_PLAN_SECRET (the
    same as the build's): without the secret, or with [plans] disabled, exit 2."""
    from generator.load.roster import load_roster
    from generator.publish.plans import plan_links, plan_tokens

    project = _project(ctx)
    roster = roster or project.roster_path
    if roster is None:
        raise click.UsageError("no ROSTER given and no 'roster' in guidegen.toml")
    missing = missing_roster(project, roster)
    if missing is not None:
        ctx.exit(stop(missing, "plans", None))
    if not project.config.plans.enabled:
        click.echo("plan pages are disabled ([plans] enabled = false)", err=True)
        ctx.exit(EXIT_USAGE)
    athletes, problems = load_roster(roster, None, project.root)
    tokens = plan_tokens(project.config.plans, [a.id for a in athletes])
    rows = []
    for a in athletes:
        links = plan_links(project.settings.base_url, tokens[a.id])
        rows.append({"id": a.id, "name": a.name, "url": links["plan_url"],
                     "webcal": links["webcal_url"]})
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for row in rows:
            click.echo(f"{row['id']}\t{row['name']}\t{row['url']}")
    code = report_problems(problems)
    ctx.exit(EXIT_USAGE if not athletes else code)


COMMANDS = (plans,)
