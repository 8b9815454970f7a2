"""Commands for the site, the whole build, the live preview and new projects.

Registered by ``generator.cli`` (see its ``__init__``). Thin: parse options, call the
library, print problems one per line, exit 0/1/2. ``site`` and ``serve`` never import
WeasyPrint (only ``build`` makes PDFs).
"""

from __future__ import annotations

from pathlib import Path

import click

from generator.cli.app import (
    _project,
    lock_options,
    locking,
    missing_roster,
    planning,
    planning_options,
    report_option,
    report_problems,
    stop,
)
from generator.cli.report import write_report
from generator.core.errors import EXIT_USAGE, Problem
from generator.core.vocab import counted

out_option = click.option("--out", "out", type=click.Path(path_type=Path, file_okay=False),
                          default=None,
                          help="Output folder (default: the project's output folder).")
strict_option = click.option("--strict", is_flag=True, help="Treat warnings as errors.")


@click.command()
@out_option
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Worker processes for PDFs (default: one per core).")
@strict_option
@click.option("--force", is_flag=True, help="Rebuild every guide, even unchanged ones.")
@report_option
@planning_options
@lock_options
@click.pass_context
def build(ctx: click.Context, out: Path | None, jobs: int | None, strict: bool,
          force: bool, report: Path | None) -> None:
    """Build everything: the public site, every guide of the project roster and, when
    [plans] is enabled, each runner's private plan page under site/plans/<token>/.

    Plan pages need the secret in $GUIDEGEN_PLAN_SECRET (or the variable named by
    [plans] secret_env); without it the build stops with exit code 2.

    A runner's plan page is removed once their race is more than [plans]
    keep_days_after_race days old (default 60; 0 keeps it); their guides too when
    [guides] keep_days_after_race is set.
    """
    from generator.build import BuildOptions
    from generator.build import build as run_build

    project = _project(ctx)
    out = out or project.output_dir
    roster = project.roster_path
    missing = missing_roster(project, roster) if roster is not None else None
    if missing is not None:  # stop before the prune: no guide or plan page is lost to a typo
        ctx.exit(stop(Problem(missing.path, None, "roster file not found (the 'roster' of "
                              "guidegen.toml)"), "build", report))
    result = run_build(project, out, BuildOptions(
        site=True, roster=roster, plan_pages=True, jobs=jobs, force=force,
        **planning(ctx), **locking(ctx, "build")))
    report_problems(result.problems, strict)
    if result.nothing:
        click.echo(result.nothing, err=True)
    else:
        guides = result.guides.line() if result.guides is not None else "no roster"
        site = f"written to {out / 'site'}" if result.site_built else "not built"
        pages = (f"; {result.plan_pages} plan pages, {result.plans_expired} plan pages "
                 "expired" if result.plan_pages is not None else "")
        click.echo(f"site: {site}; {guides}{pages}", err=True)
    write_report(report, "build", result.problems, result.summary())
    code = result.exit_code(strict)
    ctx.exit(EXIT_USAGE if roster is not None and not result.inputs.athletes else code)


@click.command()
@out_option
@strict_option
@lock_options
@click.pass_context
def site(ctx: click.Context, out: Path | None, strict: bool) -> None:
    """Build only the public site into OUT/site/ (no guides, no PDFs)."""
    from generator.build import BuildOptions
    from generator.build import build as run_build

    project = _project(ctx)
    out = out or project.output_dir
    result = run_build(project, out, BuildOptions(site=True, cache=True, **locking(ctx, "site")))
    report_problems(result.problems, strict)
    click.echo(f"site: written to {out / 'site'}" if result.site_built else "site: not built",
               err=True)
    ctx.exit(result.exit_code(strict))


@click.command()
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port on 127.0.0.1 (0 picks a free one).")
@click.option("--athlete", "athlete_id", default=None,
              help="Also preview this roster athlete's guide at /__athlete/.")
@click.pass_context
def serve(ctx: click.Context, port: int, athlete_id: str | None) -> None:
    """Preview the site on http://127.0.0.1:PORT/ and reload the browser on every change
    to content, templates, brands, guidegen.toml or the roster. A broken file shows its
    error in the browser until it is fixed; the server keeps running. Ctrl-C stops."""
    from generator.load.project import CONFIG_NAME
    from generator.serve import Preview

    root = ctx.obj["project_dir"]
    if not (root / CONFIG_NAME).is_file():
        _project(ctx)  # the usual "no guidegen.toml here" error, exit 2
    # a guidegen.toml that is present but broken is shown in the browser, not fatal
    Preview(root, athlete_id).serve(port)


@click.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@click.option("--brand", "brand_id", default="harbour", show_default=True,
              help="Example brand to start from (renamed to 'clinic').")
def init(directory: Path, brand_id: str) -> None:
    """Create a new clinic project in DIRECTORY (which must be empty or absent): the
    config, one brand to edit (brands/clinic/), the default content and a sample roster
    (data/athletes.csv) of fictional runners. Templates come from guidegen itself; copy one
    into templates/ (see templates/README.md there) to change it.

    Plan pages are enabled in the new project, so set a secret before building:

    \b
      export GUIDEGEN_PLAN_SECRET=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')
      cd DIRECTORY && guidegen check data/athletes.csv && guidegen build
    """
    from generator.scaffold import scaffold

    written = scaffold(directory, brand_id)
    click.echo(f"created {directory} ({counted(len(written), 'file')})", err=True)
    click.echo("next steps:\n"
               f"  cd {directory}\n"
               "  export GUIDEGEN_PLAN_SECRET=$(python3 -c 'import secrets; "
               "print(secrets.token_urlsafe(32))')\n"
               "  guidegen check data/athletes.csv\n"
               "  guidegen build\n"
               "  guidegen serve", err=True)


COMMANDS = [build, site, serve, init]
