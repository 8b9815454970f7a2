"""Thin Click commands: parse options, call the library, map errors to exit codes."""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import click

from generator import __version__
from generator.cli.group import Group
from generator.cli.report import write_report
from generator.core.errors import (
    EXIT_INVALID_INPUT,
    EXIT_OK,
    EXIT_USAGE,
    GuidegenError,
    Problem,
    UsageError,
    display_path,
)
from generator.core.vocab import counted
from generator.load.project import Project, load_project


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="guidegen")
@click.option("--project", "project_dir", type=click.Path(file_okay=False, path_type=Path),
              default=".", show_default=True, help="Project folder (holds guidegen.toml).")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, project_dir: Path, debug: bool) -> None:
    """guidegen: personalised race-recovery guides (HTML, branded PDF, .ics) and a site,
    from Markdown content modules and a roster of athletes.

    Exit codes: 0 all good; 1 some inputs were invalid (the rest was built);
    2 usage error or nothing could be built.
    """
    ctx.ensure_object(dict)
    ctx.obj.update(project_dir=project_dir, debug=debug)


def _project(ctx: click.Context) -> Project:
    if "project" not in ctx.obj:
        ctx.obj["project"] = load_project(ctx.obj["project_dir"])
    return ctx.obj["project"]


def report_problems(problems: list[Problem], strict: bool = False) -> int:
    """Print problems one per line; return the exit code they imply."""
    for p in problems:
        click.echo(str(p), err=True)
    errors = [p for p in problems if p.severity == "error" or (strict and p.severity == "warning")]
    return EXIT_INVALID_INPUT if errors else EXIT_OK


def missing_roster(project: Project, roster: Path) -> Problem | None:
    """The one located line for a roster path with no file behind it, else None.

    Commands that publish check this before any work: nothing can be built, and a typo in
    a roster path must never prune the guides an earlier build wrote."""
    if roster.exists():
        return None
    return Problem(display_path(roster, project.root), None, "roster file not found")


def stop(problem: Problem, command: str, report: Path | None) -> int:
    """Nothing could be built because of ``problem``: print it, write the report, exit 2."""
    click.echo(str(problem), err=True)
    write_report(report, command, [problem], {})
    return EXIT_USAGE


def _remember(ctx: click.Context, param: click.Parameter, value):
    if value is not None:
        ctx.ensure_object(dict)[param.name] = value
    return value


def planning_options(command):
    """``--as-of`` and ``--appointments``, on every command that plans."""
    command = click.option(
        "--appointments", type=click.Path(path_type=Path, dir_okay=False), default=None,
        expose_value=False, callback=_remember,
        help="The clinic's bookings (CSV id,date,time,kind,status): booked sessions are "
             "pinned, cancelled ones removed (default: 'appointments' in guidegen.toml)."
    )(command)
    return click.option(
        "--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
        envvar="GUIDEGEN_AS_OF", metavar="YYYY-MM-DD", expose_value=False, callback=_remember,
        help="Plan as of this day instead of today: the first day of a new runner's plan, "
             "whether a race is past, expiry [env: GUIDEGEN_AS_OF]."
    )(command)


def planning(ctx: click.Context) -> dict:
    """``load_inputs`` keyword arguments from the planning options: the build context
    (SOURCE_DATE_EPOCH and --as-of) and the appointments file."""
    from generator.core.context import BuildContext

    as_of = ctx.obj.get("as_of")
    return {"context": BuildContext.from_env(as_of=as_of.date() if as_of else None),
            "appointments": ctx.obj.get("appointments")}


def lock_options(command):
    """``--no-wait``, on every command that writes to the output folder (build, batch,
    email, forget): one run per folder at a time (generator/core/lock.py)."""
    return click.option(
        "--no-wait", "no_wait", is_flag=True, expose_value=False, callback=_remember,
        help="If another guidegen run is writing to the output folder, stop (exit 2) "
             "instead of waiting for it to finish."
    )(command)


def locking(ctx: click.Context, command: str) -> dict:
    """``BuildOptions`` keyword arguments for the output folder's lock: who holds it,
    whether to wait, and where to say that we wait."""
    return {"command": command, "wait": not ctx.obj.get("no_wait"),
            "notify": lambda text: click.echo(text, err=True)}


def require_athletes(inputs) -> None:
    """No valid athlete in the roster (missing, empty, header only, every row bad):
    nothing can be made. Every problem found is printed, one per line; exit 2."""
    if not inputs.athletes:
        raise GuidegenError("no valid athlete in the roster", path=inputs.roster_source,
                            problems=list(inputs.problems))


roster_arg = click.argument("roster", type=click.Path(path_type=Path, dir_okay=False))
report_option = click.option(
    "--report", "report", type=click.Path(path_type=Path, dir_okay=False), default=None,
    help="Also write every problem (file, line/row, field, message, severity) as JSON here.")


def untranslated(project: Project, modules) -> list[Problem]:
    """One note per shipped language that lacks translated modules, naming them."""
    from generator.load.translations import missing

    content = project.settings.content_dir
    default = project.languages.default_lang
    return [Problem(content, None, f"{lang}: {counted(len(slugs), 'module')} not translated, "
                    f"left out of the {lang} site and shown in {default} in its guides: "
                    f"{', '.join(slugs)}", "translations", "note")
            for lang, slugs in missing(modules, project.languages).items() if slugs]


@cli.command()
@click.argument("roster", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@report_option
@planning_options
@click.pass_context
def check(ctx: click.Context, roster: Path | None, strict: bool, report: Path | None) -> None:
    """Validate content, brands and (optionally) a ROSTER; one line per problem."""
    from generator.build import check_runners
    from generator.load.inputs import load_inputs

    project = _project(ctx)
    inputs = load_inputs(project, roster, **planning(ctx))
    # every runner planned (on every core, a chunk at a time: memory stays flat), their
    # text checked against the installed fonts (a character none can draw: no guide)
    checked = check_runners(inputs)
    problems = list(inputs.problems)
    if inputs.brands:
        from generator.render.renderer import Renderer, check_templates

        renderer = Renderer(project.templates_dir, project, inputs.context)
        problems += check_templates(renderer, inputs, checked.samples)
    problems += checked.planned + checked.undrawable
    problems += untranslated(project, inputs.modules)
    code = report_problems(problems, strict)
    if not inputs.modules or not inputs.brands or (roster is not None and not inputs.athletes):
        code = EXIT_USAGE  # nothing could be built
    errors = sum(p.severity == "error" for p in problems)
    warnings = sum(p.severity == "warning" for p in problems)
    summary = (f"{counted(len(inputs.modules), 'module')}, "
               f"{counted(len(inputs.brands), 'brand')}"
               + (f", {counted(len(inputs.athletes), 'athlete')}" if roster is not None else "")
               + f": {counted(errors, 'error')}, {counted(warnings, 'warning')}")
    click.echo(summary, err=True)
    write_report(report, "check", problems, {"modules": len(inputs.modules),
                                             "brands": len(inputs.brands),
                                             "athletes": len(inputs.athletes)})
    ctx.exit(code)


@cli.command()
@roster_arg
@click.option("--id", "athlete_id", help="Only this athlete.")
@click.option("--json", "as_json", is_flag=True, help="Print plans as JSON for other tools.")
@click.option("--jsonl", "as_jsonl", is_flag=True,
              help="Print plans as JSON Lines: one plan a line, for pipelines.")
@planning_options
@click.pass_context
def timeline(ctx: click.Context, roster: Path, athlete_id: str | None, as_json: bool,
             as_jsonl: bool) -> None:
    """Print each athlete's dated plan (a table, JSON with --json, or one JSON plan a
    line with --jsonl). JSON is written plan by plan, as each is planned."""
    from generator.load.inputs import load_inputs
    from generator.plan.guideplan import plan_guide

    if as_json and as_jsonl:
        raise UsageError("--json and --jsonl: choose one")
    inputs = load_inputs(_project(ctx), roster, **planning(ctx))
    require_athletes(inputs)
    athletes = _select(inputs, athlete_id)
    if as_json or as_jsonl:  # written plan by plan, as each is planned (on every core)
        from generator.build import timeline_texts
        from generator.core.jsonstream import json_array

        texts = timeline_texts(inputs, athletes, lines=as_jsonl)
        for piece in (texts if as_jsonl else json_array(texts)):
            click.echo(piece, nl=False)
        if as_json:
            click.echo()
    else:
        plans = [plan_guide(inputs, a) for a in athletes]
        from generator.cli.tables import print_timelines

        print_timelines(plans)
    ctx.exit(report_problems(inputs.problems))


@cli.command()
@roster_arg
@click.option("--id", "athlete_id", help="Athlete id (required when the roster has several).")
@click.option("--format", "fmt", type=click.Choice(["pdf", "html", "ics"]), default="pdf",
              show_default=True, help="Output format.")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Output file (default: <id>.<format> in the current folder; '-' = stdout).")
@planning_options
@click.pass_context
def guide(ctx: click.Context, roster: Path, athlete_id: str | None, fmt: str,
          output: Path | None) -> None:
    """Make one athlete's guide as PDF, HTML or ICS."""
    from generator.core.write import write_atomic
    from generator.load.inputs import load_inputs
    from generator.plan.guideplan import plan_guide
    from generator.publish.guides import GuideMaker

    inputs = load_inputs(_project(ctx), roster, **planning(ctx))
    require_athletes(inputs)
    if athlete_id is None and len(inputs.athletes) != 1:
        raise UsageError(f"the roster has {len(inputs.athletes)} valid athletes; pick one "
                         "with --id ID")
    athlete = _select(inputs, athlete_id)[0]
    plan = plan_guide(inputs, athlete)
    if fmt == "pdf":  # never a PDF of empty boxes
        from generator.pdf.coverage import check_plans

        undrawable = check_plans(inputs, [plan])
        if undrawable.runners:
            raise GuidegenError("no guide: its text has characters no installed font can "
                                "draw", problems=undrawable.all_problems())
    maker = GuideMaker(inputs)
    # one guide has nothing to reuse: one full render is quicker than the fast path's
    # separate parts (same bytes; benchmarks/results.md, issue 16)
    maker.fast = False
    result = maker.make(plan, (fmt,))
    data = result.files[fmt]
    if str(output) == "-":
        sys.stdout.buffer.write(data)
    else:
        target = output or Path(f"{athlete.id}.{fmt}")
        write_atomic(target, data)
        click.echo(f"wrote {target} ({len(data):,} bytes)", err=True)
    ctx.exit(report_problems(inputs.problems + list(plan.problems) + result.problems))


jobs_option = click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
                           help="Worker processes (default: number of cores).")


@cli.command()
@roster_arg
@click.option("--out", "out", type=click.Path(path_type=Path, file_okay=False),
              default=None, help="Output folder (default: the project's output folder).")
@jobs_option
@click.option("--shard", metavar="I/N|auto[/N]", default=None,
              help="Build only shard I of N (1-based; the N shards make the whole build). "
                   "auto[/N]: this job's shard in a Kubernetes Indexed Job or AWS Batch array "
                   "(README: Running on a cluster). Afterwards: guidegen merge-shards.")
@click.option("--formats", default="pdf,html,ics", show_default=True,
              help="Comma-separated formats to make: pdf, html, ics.")
@click.option("--force", is_flag=True, help="Rebuild every guide, even unchanged ones.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@report_option
@planning_options
@lock_options
@click.pass_context
def batch(ctx: click.Context, roster: Path, out: Path | None, jobs: int | None,
          shard: str | None, formats: str, force: bool, strict: bool,
          report: Path | None) -> None:
    """Make every athlete's guide into OUT/guides/<brand>/<id>.{pdf,html,ics}.

    Runs one worker per core, skips guides whose inputs are unchanged since the
    last build (OUT/manifest.json) and removes guides of athletes no longer in
    the roster.
    """
    from generator.build import BuildOptions, build
    from generator.cli.progress import BatchProgress
    from generator.publish.guides import parse_formats
    from generator.publish.shards import read_shard

    project = _project(ctx)
    if (chosen := read_shard(shard)) is not None and chosen.origin:  # for the job's log
        click.echo(f"shard {chosen.index} of {chosen.count} ({chosen.origin})", err=True)
    options = BuildOptions(site=False, roster=roster, formats=parse_formats(formats),
                           jobs=jobs, force=force, shard=chosen.pair if chosen else None,
                           progress=BatchProgress(), **planning(ctx),
                           **locking(ctx, "batch"))
    missing = missing_roster(project, roster)
    if missing is not None:
        ctx.exit(stop(missing, "batch", report))
    result = build(project, out or project.output_dir, options)
    report_problems(result.problems, strict)
    click.echo(result.guides.line() if result.guides is not None
               else f"guides: {result.nothing or 'none built'}", err=True)
    write_report(report, "batch", result.problems, result.summary())
    code = result.exit_code(strict)
    ctx.exit(EXIT_USAGE if not result.inputs.athletes else code)  # no valid athlete: 2


@cli.command()
@click.pass_context
def doctor(ctx: click.Context) -> None:
    """Report Pango, HarfBuzz subsetting and fonts, with the command to install what is
    missing. Exit 0 when PDFs can be made, 2 when a required library is missing."""
    from generator.doctor import run_checks

    wanted: list[str] = []
    project = None
    try:
        from generator.load.brands import load_brands

        project = _project(ctx)
        brands, _ = load_brands(project.brands_dir, project.root)
        wanted = sorted({b.font_family for b in brands.values()})
    except GuidegenError:
        pass  # doctor also runs outside a project
    code = EXIT_OK
    for c in run_checks(wanted, project):
        mark = "ok  " if c.ok else ("FAIL" if c.required else "warn")
        click.echo(f"{mark} {c.name}: {c.detail}")
        if not c.ok and c.fix:
            click.echo(f"     fix: {c.fix}")
        if not c.ok and c.required:
            code = EXIT_USAGE
    ctx.exit(code)


def _select(inputs, athlete_id: str | None):
    """The athletes to show: all, or the one with ``athlete_id``. When that one is not
    among the valid athletes, the roster's problems say why (its row may be the bad one)."""
    if athlete_id is None:
        return inputs.athletes
    chosen = [a for a in inputs.athletes if a.id == athlete_id]
    if not chosen:
        missing = Problem(inputs.roster_source or "roster", None,
                          f"no valid athlete with id {athlete_id!r}")
        raise GuidegenError(missing.message, path=missing.path,
                            problems=[*inputs.problems, missing])
    return chosen


def main() -> None:
    # What was imported lives until the process ends: moved out of the collector's way,
    # so the collections a build triggers do not walk it again and again (a site
    # rebuild spends about a tenth less time).
    gc.freeze()
    try:
        cli(prog_name="guidegen")
    finally:
        # The process ends here: spare the interpreter's last garbage collection a walk
        # over every object the command made (tens of ms for a big site). Files are
        # closed and flushed explicitly, nothing relies on finalizers of cycles.
        gc.freeze()


if __name__ == "__main__":
    sys.exit(main())
