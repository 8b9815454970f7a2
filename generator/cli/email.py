"""``guidegen email``: preview, write an outbox, or send each athlete's guide once."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

import click

from generator.cli.app import _project, report_problems
from generator.cli.report import write_report
from generator.core.errors import EXIT_INVALID_INPUT, EXIT_USAGE, UsageError

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
@click.pass_context
def email(ctx: click.Context, roster: Path, outbox: Path | None, smtp_url: str | None,
          send: bool, dry_run: bool, rate: str | None, resend_changed: bool, unconfirmed: str,
          report_path: Path | None, out: Path | None, retries: int,
          retry_delay: float) -> None:
    """Email each athlete of ROSTER their guide (PDF + .ics), exactly once.

    Without --send nothing is sent: it lists what would be sent (and writes
    .eml files with --outbox).  With --smtp URL --send it sends, recording
    every message in OUT/sendlog.sqlite, so a rerun sends only what was not
    sent yet.

    The attachments are the guides `guidegen build` or `batch` wrote to OUT,
    checked against OUT/manifest.json (same inputs, same bytes); a guide that
    is missing or stale is rendered for its message, and the output says so.
    """
    from generator.deliver.delivery import Delivery, Options
    from generator.deliver.message import Mailer
    from generator.deliver.sendlog import RunLock, SendLog
    from generator.deliver.smtp import PASSWORD_ENV, SmtpTransport, parse_smtp_url
    from generator.load.inputs import load_inputs
    from generator.pdf.coverage import check_plans
    from generator.plan.guideplan import plan_guide
    from generator.publish.layout import OutputLayout

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
    transport = SmtpTransport(url, os.environ.get(PASSWORD_ENV)) if send else None
    inputs = load_inputs(project, roster)
    plans = [plan_guide(inputs, a) for a in inputs.athletes]
    # a runner whose text (or brand's) no installed font can draw gets no email
    undrawable = check_plans(inputs, plans)
    options.source = inputs.roster_source or str(roster)
    options.lines = inputs.roster_lines
    layout = OutputLayout(out or project.output_dir)
    mailer = Mailer(inputs, layout.out)

    lock = RunLock(layout.sendlog_lock) if send else contextlib.nullcontext()
    with lock, SendLog(layout.sendlog, readonly=not send) as log:
        delivery = Delivery(log, transport, options, echo=click.echo)
        try:
            summary = delivery.run(plans, mailer.compose, blocked=undrawable.runners)
        finally:
            if transport is not None:
                transport.close()

    problems = (inputs.problems + undrawable.problems
                + [p for plan in plans for p in plan.problems] + mailer.problems)
    code = report_problems(problems + summary.failures)
    if summary.stopped:
        click.echo(f"error: stopped early: {summary.stopped}", err=True)
    click.echo(summary.line(send), err=True)
    write_report(report_path, "email", problems + summary.failures,
                 dict(summary.counts(), sent=send))
    if summary.failures or summary.stopped:
        code = EXIT_INVALID_INPUT
    if not inputs.athletes and inputs.errors:
        code = EXIT_USAGE
    ctx.exit(code)


COMMANDS = [email]
