"""``guidegen forget``: remove every trace of runners who left; only a salted hash stays.

Registered like the other command modules: ``COMMANDS`` is added to the group by
``generator.cli``. Thin: parse options, call ``generator.forget``, print one line per
removed item, exit 0/1/2.
"""

from __future__ import annotations

from pathlib import Path

import click

from generator.cli.app import _project, lock_options, locking, report_option, report_problems
from generator.cli.report import write_report
from generator.core.errors import EXIT_OK, Problem, UsageError, display_path


@click.command("forget")
@click.argument("ids", nargs=-1, metavar="[ID]...")
@click.option("--roster", "keep_roster", type=click.Path(path_type=Path, dir_okay=False),
              help="Forget every runner recorded in OUT (manifests, send log, guide files, "
                   "--outbox messages) who is not in FILE.", metavar="FILE")
@click.option("--outbox", "outboxes", multiple=True,
              type=click.Path(path_type=Path, file_okay=False),
              help="An outbox of `guidegen email --outbox`: remove DIR/<id>.eml too "
                   "(repeatable).", metavar="DIR")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              help="Output folder (default: the project's output folder).")
@click.option("--dry-run", is_flag=True, help="Print what would be removed; remove nothing.")
@click.option("--readmit", multiple=True, metavar="ID",
              help="Take ID off the send log's forgotten list (they came back and want "
                   "their guide again); nothing else is done. Repeatable.")
@report_option
@lock_options
@click.pass_context
def forget(ctx: click.Context, ids: tuple[str, ...], keep_roster: Path | None,
           outboxes: tuple[Path, ...], out: Path | None, dry_run: bool,
           readmit: tuple[str, ...], report: Path | None) -> None:
    """Forget runners ID... (or, with --roster FILE, every runner no longer in FILE):
    remove their guides in every format and brand (OUT/guides/*/ID.*), their private
    plan page (OUT/site/plans/<token>/), their entries in the manifests, their
    --outbox messages and their send-log rows. The send log keeps only a salted hash of
    the id and the date, so `guidegen email` reports a runner who comes back in a later
    roster instead of sending to them silently.

    A runner still in the project roster is refused: remove them from it first (the
    next build would make their guide again). Each runner is forgotten atomically: if
    a forget is killed, run `guidegen forget` again (with or without ids) to finish.

    The plan page is found with $GUIDEGEN_PLAN_SECRET; without it, from the manifest.
    """
    from generator.deliver.sendlog import SendLog
    from generator.forget import ForgetOptions
    from generator.forget import forget as run_forget
    from generator.publish.layout import OutputLayout

    project = _project(ctx)
    layout = OutputLayout(out or project.output_dir)
    if readmit:
        if ids or keep_roster is not None or dry_run:
            raise UsageError("--readmit takes its ids alone (no other ids, --roster or "
                             "--dry-run)")
        ctx.exit(_readmit(layout, readmit, report))
    if not ids and keep_roster is None:
        with SendLog(layout.sendlog, readonly=True) as view:
            if not view.intents():
                raise UsageError("give the ids of the runners to forget, or --roster FILE "
                                 "(no interrupted forget to finish)")
    if not dry_run:  # never while a build, batch or email writes to the same folder
        from generator.core.lock import output_lock

        ctx.with_resource(output_lock(layout.out, **locking(ctx, "forget")))
    result = run_forget(project, layout.out, ForgetOptions(
        ids=ids, keep_roster=keep_roster, outboxes=outboxes, dry_run=dry_run))
    label = "would remove" if dry_run else "removed"
    for outcome in result.forgotten:
        if outcome.resumed:
            click.echo(f"{'finishing':<13}{outcome.athlete_id}  an interrupted forget")
        for _, what in outcome.items:
            click.echo(f"{label:<13}{outcome.athlete_id}  {what}")
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    shown = display_path(layout.out)
    unknown = [Problem(shown, None, f"{i}: nothing stored for this runner " + (
        f"(forgotten on {date} already)" if date else "(no guide, plan page, manifest entry, "
        "outbox message or send-log row)") + "; nothing removed", "id", "warning", i)
        for i, date in result.unknown.items()]
    problems = result.problems + unknown
    if not result.scrubbed:  # exit 1: the job is not quite done
        problems.append(Problem(display_path(layout.sendlog), None, "another program has the "
                                "send log open, so its deleted rows could not be scrubbed from "
                                "the file yet; run guidegen forget again when it is closed"))
    report_problems(problems)
    click.echo(result.line(), err=True)
    write_report(report, "forget", problems, dict(result.counts(), dry_run=dry_run,
                                                  forgotten=len(result.forgotten),
                                                  refused=len(result.refused),
                                                  unknown=len(result.unknown)))
    ctx.exit(result.exit_code())


def _readmit(layout, ids: tuple[str, ...], report: Path | None) -> int:
    from generator.deliver.sendlog import RunLock, SendLog

    found = {}
    if layout.sendlog.is_file():
        with RunLock(layout.sendlog_lock), SendLog(layout.sendlog) as log:
            found = {i: log.readmit(i) for i in ids}
    problems = []
    for athlete_id in ids:
        if found.get(athlete_id):
            click.echo(f"{'readmitted':<13}{athlete_id}  off the forgotten list: their next "
                       "guide is sent as new")
        else:
            problems.append(Problem(display_path(layout.sendlog), None, f"{athlete_id}: not "
                                    "on the forgotten list", "id", "warning", athlete_id))
    report_problems(problems)
    write_report(report, "forget", problems, {"readmitted": sum(found.values())})
    return EXIT_OK


COMMANDS = [forget]
