"""The delivery loop: decide per athlete from the send log, then preview, write, or send.

For each athlete: compose the message, ask the send log what to do with it
(``sendlog.decide``), and then either describe it (preview), write it to the
outbox, or send it with bounded retries.  One recipient's failure is recorded
and the loop goes on; only an unreachable server or refused credentials stop
the run.

What it prints and reports names a runner by id (and, in problems, roster row): never
their name, notes or address, not even inside a mail server's reply (console output
ends up in logs and tickets; the send log and the outbox hold the addresses).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from generator.core.errors import GuidegenError, Problem
from generator.core.write import write_atomic
from generator.deliver.message import MessageError, Outgoing
from generator.deliver.sendlog import Action, SendLog, decide
from generator.deliver.smtp import Outcome, TransportError
from generator.pdf.coverage import missing_glyphs, notdef_problems


@dataclass
class Options:
    send: bool = False
    resend_changed: bool = False
    unconfirmed: str = "hold"  # hold | resend | mark-sent
    outbox: Path | None = None
    attempts: int = 4  # per message, first try included
    retry_delay: float = 2.0  # first backoff in seconds; doubles each time
    max_delay: float = 60.0
    rate: float | None = None  # messages per minute
    source: str = "roster"  # shown as the path of per-athlete problems
    lines: dict[str, int] = field(default_factory=dict)  # athlete id -> roster row line
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic


@dataclass
class Summary:
    sent: int = 0
    would_send: int = 0
    no_email: int = 0
    already_sent: int = 0
    changed: int = 0
    unconfirmed: int = 0
    marked_sent: int = 0
    failed: int = 0
    not_attempted: int = 0
    stopped: str | None = None
    failures: list[Problem] = field(default_factory=list)  # for --report and the exit code
    attached: int = 0  # guides attached as the build wrote them
    rendered: int = 0  # guides rendered for their message: missing or stale

    def line(self, send: bool) -> str:
        head = (f"email: {self.sent} sent" if send
                else f"email (preview, nothing sent): {self.would_send} to send")
        parts = [head, f"{self.no_email} skipped (no email)", f"{self.already_sent} already sent",
                 f"{self.changed} changed (held)", f"{self.unconfirmed} unconfirmed",
                 f"{self.failed} failed"]
        if self.marked_sent:
            parts.append(f"{self.marked_sent} marked sent")
        if self.not_attempted:
            parts.append(f"{self.not_attempted} not attempted")
        line = ", ".join(parts)
        if self.attached or self.rendered:
            line += (f"; guides: {self.attached} attached as built, {self.rendered} rendered "
                     "(missing or stale)")
        return line

    def counts(self) -> dict:
        """The counts for ``--report``."""
        return {k: v for k, v in vars(self).items() if k != "failures"}

    def fail(self, athlete_id: str, message: str, *, where: tuple[str, int | None],
             field_: str | None = "email", severity: str = "error") -> None:
        """A failed recipient as a Problem, located at ``where`` (the athlete's roster row,
        or the template line that failed)."""
        self.failures.append(Problem(where[0], where[1], f"{athlete_id}: {message}", field_,
                                     severity, athlete_id))


class Delivery:
    """Runs the loop for one command invocation."""

    def __init__(self, log: SendLog, transport, options: Options,
                 echo: Callable[[str], None] = print):
        if options.send and transport is None:
            raise ValueError("sending needs a transport")
        self.log = log
        self.transport = transport
        self.options = options
        self.echo = echo
        self.summary = Summary()
        self.blocked: Mapping[str, Sequence[Problem]] = {}
        self._last_start: float | None = None

    def run(self, plans: Iterable, compose: Callable[[object], Outgoing],
            blocked: Mapping[str, Sequence[Problem]] | None = None) -> Summary:
        """``compose`` makes a GuidePlan's message (``Mailer.compose``). ``blocked``: runners
        who get no email, with the located problems saying why (text no installed font can
        draw, ``pdf.coverage.check_plans``); each counts as failed."""
        plans = list(plans)
        self.blocked = blocked or {}
        for index, plan in enumerate(plans):
            try:
                self.one(plan, compose)
            except RunStopped as exc:
                self.summary.stopped = str(exc)
                self.summary.not_attempted = len(plans) - index - 1
                self.echo(f"stopped: {exc}")
                break
        return self.summary

    def _where(self, athlete_id: str) -> tuple[str, int | None]:
        return self.options.source, self.options.lines.get(athlete_id)

    def one(self, plan, compose: Callable[[object], Outgoing]) -> None:
        s, opts = self.summary, self.options
        athlete = plan.athlete
        if not athlete.email:
            s.no_email += 1
            self.echo(_row("skipped", athlete.id, "no email address"))
            return
        if athlete.id in self.blocked:  # its guide would show empty boxes: not made
            self._undrawable(athlete.id, self.blocked[athlete.id])
            return
        try:
            with missing_glyphs() as notdef:  # a guide rendered for this message
                out = compose(plan)
        except MessageError as exc:
            s.failed += 1
            s.fail(athlete.id, exc.message, where=self._where(athlete.id), field_=exc.field)
            self.echo(_row("failed", athlete.id, exc.message))
            return
        except GuidegenError as exc:  # a template error: this guide cannot be made
            s.failed += 1
            where = (exc.path, exc.line) if exc.path else self._where(athlete.id)
            s.fail(athlete.id, exc.message, where=where, field_=None)
            self.echo(_row("failed", athlete.id, str(exc)))
            return
        if notdef:
            self._undrawable(athlete.id, notdef_problems(plan, notdef,
                                                         *self._where(athlete.id)))
            return
        if out.rendered is None:
            s.attached += 1
        else:
            s.rendered += 1
            self.echo(_row("rendered", out.athlete_id, f"guide {out.rendered}: rendered for "
                           "this message (run guidegen build or batch first to attach it "
                           "as built)"))
        action = decide(self.log.rows(athlete.id), out.content_hash,
                        resend_changed=opts.resend_changed, unconfirmed=opts.unconfirmed)
        if action is Action.ALREADY_SENT:
            s.already_sent += 1
            self.echo(_row("already sent", out.athlete_id, "this guide was sent before"))
        elif action is Action.CHANGED:
            s.changed += 1
            self.echo(_row("changed", out.athlete_id, "the guide changed since it was sent; "
                           "held (use --resend-changed to send it again)"))
        elif action is Action.UNCONFIRMED:
            s.unconfirmed += 1
            msg = (f"delivery unconfirmed: the connection was lost after the message was "
                   f"handed to the server. Look for Message-ID {out.message_id} in the "
                   "server's log, then rerun with --unconfirmed mark-sent (it arrived) or "
                   "--unconfirmed resend (it did not)")
            s.fail(out.athlete_id, msg, where=self._where(out.athlete_id))
            self.echo(_row("unconfirmed", out.athlete_id, f"held; {msg}"))
        elif action is Action.MARK_SENT:
            if opts.send:
                self.log.mark(out.athlete_id, out.content_hash, "sent",
                              "marked sent by the operator (--unconfirmed mark-sent)")
            s.marked_sent += 1
            self.echo(_row("marked sent" if opts.send else "would mark sent", out.athlete_id,
                           "recorded as delivered"))
        else:
            if opts.outbox is not None:
                write_atomic(opts.outbox / f"{out.athlete_id}.eml", out.as_bytes())
            if not opts.send:
                s.would_send += 1
                self.echo(_row("would send", out.athlete_id, describe(out)))
            else:
                self.send(out)

    def _undrawable(self, athlete_id: str, problems: Sequence[Problem]) -> None:
        self.summary.failed += 1
        self.summary.failures.extend(problems)
        first = problems[0] if problems else None
        text = (f"{first.field}: {first.message}" if first and first.field
                else first.message if first else "text no installed font can draw")
        self.echo(_row("failed", athlete_id, text))

    # ---------------------------------------------------------------- sending

    def send(self, out: Outgoing) -> None:
        s, opts, log = self.summary, self.options, self.log
        sender = out.sender.addr_spec
        for attempt in range(1, opts.attempts + 1):
            self._throttle()
            out.stamp()  # Date: the moment it is handed over (the hash does not change)
            data = out.as_bytes()
            log.begin_attempt(out.athlete_id, out.content_hash, out.email, out.message_id)
            try:
                result = self.transport.deliver(
                    sender, out.email, data, smtputf8=out.smtputf8,
                    before_commit=lambda: log.mark(out.athlete_id, out.content_hash,
                                                   "unconfirmed"))
            except TransportError as exc:  # bad credentials, TLS refused: nothing was sent
                log.mark(out.athlete_id, out.content_hash, "failed", exc.message)
                s.failed += 1
                reason = _unnamed(exc.message, out)
                s.fail(out.athlete_id, reason, where=self._where(out.athlete_id))
                raise RunStopped(reason) from None
            if result.outcome is Outcome.SENT:
                log.mark(out.athlete_id, out.content_hash, "sent")
                s.sent += 1
                self.echo(_row("sent", out.athlete_id, describe(out)))
                return
            detail = _unnamed(result.detail, out)
            if result.outcome is Outcome.UNCONFIRMED:
                log.mark(out.athlete_id, out.content_hash, "unconfirmed", result.detail)
                s.unconfirmed += 1
                s.fail(out.athlete_id, f"{detail}; Message-ID {out.message_id} (not retried, "
                       "to avoid a duplicate)", where=self._where(out.athlete_id))
                self.echo(_row("unconfirmed", out.athlete_id, detail))
                return
            # FAILED or TRANSIENT: the server did not accept the message
            log.mark(out.athlete_id, out.content_hash, "failed", result.detail)
            if result.outcome is Outcome.TRANSIENT and attempt < opts.attempts:
                delay = min(opts.max_delay, opts.retry_delay * 2 ** (attempt - 1))
                self.echo(_row("retrying", out.athlete_id, f"{detail} (attempt "
                               f"{attempt} of {opts.attempts}; next in {delay:g}s)"))
                opts.sleep(delay)
                continue
            s.failed += 1
            if result.outcome is Outcome.TRANSIENT:
                detail = f"gave up after {attempt} attempts: {detail}"
            s.fail(out.athlete_id, detail, where=self._where(out.athlete_id))
            self.echo(_row("failed", out.athlete_id, detail))
            if result.unreachable:
                raise RunStopped(_unnamed(result.detail, out))
            return

    def _throttle(self) -> None:
        rate = self.options.rate
        if rate:
            now = self.options.clock()
            if self._last_start is not None:
                wait = self._last_start + 60.0 / rate - now
                if wait > 0:
                    self.options.sleep(wait)
                    now += wait
            self._last_start = now


class RunStopped(Exception):
    """The server cannot be used (unreachable after retries, login refused): stop."""


def describe(out: Outgoing) -> str:
    """What a preview or send prints of a message: its attachments, never the recipient
    or the subject (which names the race)."""
    sizes = ", ".join(f"{name} {_size(n)}" for name, n in out.sizes.items())
    return f"[{sizes}]"


def _unnamed(text: str, out: Outgoing) -> str:
    """A mail server's reply without the recipient's address or name (servers quote
    them: ``550 5.1.1 <zoe@example.com>: Recipient address rejected`` becomes
    ``550 5.1.1 <[address]>: Recipient address rejected``)."""
    for value, mask in ((out.email, "[address]"), (out.recipient.display_name, "[name]")):
        if value and len(value) > 2:
            text = re.sub(re.escape(value), mask, text, flags=re.IGNORECASE)
    return text


def _size(n: int) -> str:
    return f"{n} B" if n < 1024 else f"{n / 1024:.0f} KB" if n < 1024 * 1024 else \
        f"{n / 1024 / 1024:.1f} MB"


def _row(label: str, athlete_id: str, text: str) -> str:
    return f"{label:<13}{athlete_id}  {text}"
