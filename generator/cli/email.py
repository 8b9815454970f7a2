"""``guidegen email``: preview, write an outbox, or send each athlete's guide once."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

import click

from generator.cli.app import (
    _project,
    lock_options,
    locking,
    planning,
    planning_options,
    report_problems,
)
from generator.cli.report import write_report
from generator.core.errors import EXIT_INVALID_INPUT, EXIT_USAGE, Problem, UsageError

UNCONFIRMED_CHOICES = ("hold", "resend", "mark-sent")


def parse_rate(text: str | None) -> float | None:
    """``N`` or ``N/min`` messages per minute."""
    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(?:/\s*min)?\s*", text)
    if not match or float(match.group(1)) <= 0:
        raise UsageError(f"--rate: expected messages per minute such as 30 or 30/min "
                         f"(got {text!r})")
    return float(match.group(1))


@click.command("email")
@click.argument("roster", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--outbox", type=click.Path(path_type=Path, file_okay=False),
              help="Write each message that would be sent as OUTBOX/<id>.eml for review.")
@click.option("--smtp", "smtp_url", metavar="URL",
              help="smtp://host:port (STARTTLS when offered) or smtps://user@host:port "
                   "(implicit TLS); the password comes only from GUIDEGEN_SMTP_PASSWORD.")
@click.option("--send", is_flag=True, help="Really send (without it nothing is sent).")
@click.option("--dry-run", is_flag=True, help="Preview only (the default; refuses --send).")
@click.option("--rate", metavar="N[/min]", help="Send at most N messages a minute.")
@click.option("--resend-changed", is_flag=True,
              help="Send again to athletes whose guide changed since it was sent.")
@click.option("--resend-forgotten", "resend_forgotten", multiple=True, metavar="ID",
              help="Send to ID although `guidegen forget` forgot them (they came back); "
                   "without it a forgotten runner is held and reported. Repeatable.")
@click.option("--unconfirmed", type=click.Choice(UNCONFIRMED_CHOICES), default="hold",
              show_default=True, help="Messages whose delivery is unknown after a crash: "
              "hold them, resend them, or record them as sent (after checking the server).")
@click.option("--report", "report_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Write every problem and failed recipient as JSON.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              help="Folder of the send log (default: the project's output folder).")
@click.option("--retries", type=click.IntRange(0, 10), default=3, show_default=True,
              help="Retries per message after a temporary failure (4xx, dropped connection).")
@click.option("--retry-delay", type=click.FloatRange(0, 300), default=2.0, show_default=True,
              help="Seconds before the first retry; doubles after each one.")
@planning_options
@lock_options
@click.pass_context
def email(ctx: click.Context, roster: Path, outbox: Path | None, smtp_url: str | None,
          send: bool, dry_run: bool, rate: str | None, resend_changed: bool,
          resend_forgotten: tuple[str, ...], unconfirmed: str, report_path: Path | None,
          out: Path | None, retries: int, retry_delay: float) -> None:
    """Email each athlete of ROSTER their guide (PDF + .ics), exactly once.

    Without --send nothing is sent: it lists what would be sent (and writes
    .eml files with --outbox).  With --smtp URL --send it sends, recording
    every message in OUT/sendlog.sqlite, so a rerun sends only what was not
    sent yet.

    The attachments are the guides `guidegen build` or `batch` wrote to OUT,
    checked against OUT/manifest.json (same inputs, same bytes); a guide that
    is missing or stale is rendered for its message, and the output says so.

    A runner `guidegen forget` forgot who is in ROSTER again is held and reported at
    their row, never sent silently: confirm with --resend-forgotten ID.
    """

    from generator.deliver.delivery import Delivery, Options
    from generator.deliver.message import Mailer
    from generator.deliver.sendlog import RunLock, SendLog
    from generator.deliver.smtp import PASSWORD_ENV, SmtpTransport, parse_smtp_url
    from generator.load.inputs import load_inputs
    from generator.pdf.coverage import check_plans
    from generator.plan.guideplan import plan_guide
    from generator.privacy import expired
    from generator.publish.layout import OutputLayout
    from generator.publish.manifest import Manifest

    if outbox is None and smtp_url is None:
        raise UsageError("give --outbox DIR (write messages for review) or --smtp URL "
                         "(deliver them)")
    if send and smtp_url is None:
        raise UsageError("--send needs --smtp URL (--outbox only writes files for review)")
    if send and dry_run:
        raise UsageError("--dry-run and --send contradict each other")
    url = parse_smtp_url(smtp_url) if smtp_url else None
    options = Options(send=send, resend_changed=resend_changed, unconfirmed=unconfirmed,
                      outbox=outbox, attempts=retries + 1, retry_delay=retry_delay,
                      rate=parse_rate(rate))
    project = _project(ctx)
    if send or (out or project.output_dir).is_dir():  # no build or batch writes it meanwhile
        from generator.core.lock import output_lock

        ctx.with_resource(output_lock(out or project.output_dir, **locking(ctx, "email")))
    transport = SmtpTransport(url, os.environ.get(PASSWORD_ENV)) if send else None
    # the plans as the build published them: each runner's issue date and calendar state
    state: dict[str, dict] = {}
    for path in OutputLayout(out or project.output_dir).manifests():
        state.update(Manifest.load(path).state)
    inputs = load_inputs(project, roster, **planning(ctx), state=state)
    # a runner whose guides expired ([guides] keep_days_after_race) gets no message
    gone = expired(inputs.athletes, project.config.guides.keep_days_after_race,
                   inputs.context.today)
    inputs.problems += [Problem(inputs.roster_source or str(roster), inputs.roster_lines.get(i),
                                f"{i}: not sent: the race is more than [guides] "
                                "keep_days_after_race days past", None, "warning", i)
                        for i in sorted(gone)]
    plans = [plan_guide(inputs, a) for a in inputs.athletes if a.id not in gone]
    # a runner whose text (or brand's) no installed font can draw gets no email
    undrawable = check_plans(inputs, plans)
    options.source = inputs.roster_source or str(roster)
    options.lines = inputs.roster_lines
    layout = OutputLayout(out or project.output_dir)
    mailer = Mailer(inputs, layout.out)

    lock = RunLock(layout.sendlog_lock) if send else contextlib.nullcontext()
    with lock, SendLog(layout.sendlog, readonly=not send) as log:
        interrupted = log.intents()
        if interrupted:  # their send-log rows may be half gone: nothing is decided on them
            raise UsageError(f"a guidegen forget was interrupted ({', '.join(interrupted)}); "
                             "run guidegen forget to finish it first", path=str(layout.sendlog))
        held = _forgotten(log, plans, resend_forgotten, options)
        delivery = Delivery(log, transport, options, echo=click.echo)
        try:
            summary = delivery.run([p for p in plans if p.id not in held], mailer.compose,
                                   blocked=undrawable.runners)
        finally:
            if transport is not None:
                transport.close()
        if send:  # a forgotten runner sent again is an ordinary recipient from now on
            for athlete_id in resend_forgotten:
                if any(r.state == "sent" for r in log.rows(athlete_id)):
                    log.readmit(athlete_id)

    problems = (inputs.problems + undrawable.problems + list(held.values())
                + [p for plan in plans for p in plan.problems] + mailer.problems)
    code = report_problems(problems + summary.failures)
    if summary.stopped:
        click.echo(f"error: stopped early: {summary.stopped}", err=True)
    click.echo(summary.line(send) + f"; {len(held)} forgotten (held)", err=True)
    write_report(report_path, "email", problems + summary.failures,
                 dict(summary.counts(), sent=send, forgotten=len(held)))
    if summary.failures or summary.stopped:
        code = EXIT_INVALID_INPUT
    if not inputs.athletes and inputs.errors:
        code = EXIT_USAGE
    ctx.exit(code)


def _forgotten(log, plans, confirmed: tuple[str, ...], options) -> dict[str, Problem]:
    """Runners of the roster whom `guidegen forget` forgot and the operator did not confirm
    with --resend-forgotten: held, each with a warning at their row."""
    held = {}
    for athlete_id, date in log.forgotten_on(p.id for p in plans).items():
        if athlete_id in confirmed:
            continue
        held[athlete_id] = Problem(
            options.source, options.lines.get(athlete_id),
            f"{athlete_id} was forgotten on {date} (guidegen forget); not sent: remove "
            f"them from the roster, or confirm with --resend-forgotten {athlete_id} (or take "
            f"them off the send log's forgotten list with guidegen forget --readmit "
            f"{athlete_id})", "id", "warning", athlete_id)
        click.echo(f"{'forgotten':<13}{athlete_id}  forgotten on {date}: held (use "
                   f"--resend-forgotten {athlete_id} to send)")
    return held


COMMANDS = [email]
