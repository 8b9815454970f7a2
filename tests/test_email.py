"""Email delivery against a real aiosmtpd server on 127.0.0.1.

A module-scoped copy of the example project (guidegen.toml, content,
templates, brands) with a small roster; one module-scoped SMTP server whose
handler is reset and re-scripted per test (451 once, 550 for one recipient,
stall before/after the end of DATA so a sender subprocess can be killed).
PDF rendering dominates the run time, so only the end-to-end (CLI) tests make
real guides; the tests of the delivery loop itself send messages composed with
small stand-in attachments.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import email
import email.utils
import io
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from email import policy
from email.header import decode_header, make_header
from email.parser import BytesParser
from pathlib import Path
from types import SimpleNamespace

import icalendar
import pypdf
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from generator.core.errors import UsageError
from generator.deliver.delivery import Delivery, Options
from generator.deliver.message import Mailer, MessageError, compose, mailbox
from generator.deliver.sendlog import Action, Row, RunLock, SendLog, decide
from generator.deliver.smtp import Attempt, Outcome, SmtpTransport, dot_stuffed, parse_smtp_url
from generator.load.inputs import load_inputs
from generator.load.project import load_project
from generator.plan.guideplan import plan_guide
from tests.conftest import copy_example

ROSTER = """\
id,name,email,race_name,race_date,brand
ada-01,Ada Lovelace,ada@example.com,Solent Coastal Marathon,2027-04-18,harbour
zoe-02,Zoë Ó Briain,zoe.obriain@example.com,Solent Coastal Marathon,2027-04-18,harbour
kai-03,Kai Müller,kai@example.org,Front Range Marathon,2027-05-23,summit
nomail-04,Nomail Runner,,Front Range Marathon,2027-05-23,summit
"""
NAMES = {"ada-01": "Ada Lovelace", "zoe-02": "Zoë Ó Briain", "kai-03": "Kai Müller"}
EMAILS = {"ada-01": "ada@example.com", "zoe-02": "zoe.obriain@example.com",
          "kai-03": "kai@example.org"}
SENDERS = {"ada-01": "hello@harbour-sports-therapy.example",
           "zoe-02": "hello@harbour-sports-therapy.example",
           "kai-03": "frontdesk@summit-running-recovery.example"}
FAST = ["--retry-delay", "0.01"]


# ------------------------------------------------------------------ the SMTP server

@dataclasses.dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self):
        return BytesParser(policy=policy.default).parsebytes(self.data)


class Recorder:
    """aiosmtpd handler that records accepted messages and follows a script."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.messages: list[Received] = []
        self.mail_calls = 0
        self.mail_replies: list[str] = []  # replies to MAIL before accepting it
        self.rcpt_replies: dict[str, str] = {}  # address -> permanent reply
        self.data_replies: list[str] = []  # replies to the end of DATA before accepting
        self.stall_mail_from: int | None = None  # stall on the N-th MAIL (and later)
        self.stall_after_accept = False  # record the message, then never answer
        self.logins: list[str] = []

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.mail_calls += 1
        if self.stall_mail_from is not None and self.mail_calls >= self.stall_mail_from:
            await asyncio.sleep(120)
        if self.mail_replies:
            return self.mail_replies.pop(0)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_replies:
            return self.data_replies.pop(0)
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                      envelope.original_content))
        if self.stall_after_accept:
            await asyncio.sleep(120)  # the client is killed while waiting for the 250
        return "250 2.0.0 Ok: queued"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"clinic" and auth_data.password == b"s3cret"
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok)

    def by_rcpt(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for m in self.messages:
            for r in m.rcpt_tos:
                counts[r] = counts.get(r, 0) + 1
        return counts


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    handler = Recorder()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port(),
                            enable_SMTPUTF8=True, authenticator=handler.authenticate,
                            auth_require_tls=False)
    controller.start()
    handler.url = f"smtp://127.0.0.1:{controller.port}"
    yield handler
    controller.stop()


@pytest.fixture
def smtp(server):
    server.reset()
    yield server
    server.reset()


# ------------------------------------------------------------------ the project

@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    lines = ROSTER.splitlines()
    return copy_example(tmp_path_factory.mktemp("mailproject"), files={
        "data/roster.csv": ROSTER,
        "data/two.csv": "\n".join([*lines[:3], lines[4]]) + "\n",  # ada + zoe + nomail
        "data/ada.csv": "\n".join(lines[:2]) + "\n",
    })


FAKE_FILES = {"pdf": b"%PDF-1.7 stand-in", "ics": b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"}


@pytest.fixture(scope="module")
def composed(project):
    """Messages for the three athletes with an email, with stand-in attachments."""
    inputs = load_inputs(load_project(project), project / "data" / "roster.csv")
    mailer = Mailer(inputs, project / "output")
    athletes = {a.id: a for a in inputs.athletes}

    def make(athlete_id: str, files: dict | None = None, brand=None, digest: str = "inputs-1",
             **update):
        plan = plan_guide(inputs, athletes[athlete_id].model_copy(update=update))
        if brand is not None:
            plan = dataclasses.replace(plan, brand=brand)
        return compose(plan, files or FAKE_FILES, digest, mailer.renderer, mailer.date)

    messages = {i: make(i) for i in EMAILS}
    return SimpleNamespace(inputs=inputs, make=make, messages=messages,
                           brand=inputs.brand_for(athletes["ada-01"]))


def deliver(messages, smtp, log: SendLog, echo=None, **options):
    """Run the delivery loop in-process over already composed messages."""
    transport = SmtpTransport(parse_smtp_url(smtp.url))
    opts = Options(**{"send": True, "retry_delay": 0.01, **options})
    by_id = {m.athlete_id: m for m in messages}
    plans = [SimpleNamespace(athlete=SimpleNamespace(id=m.athlete_id, email=m.email))
             for m in messages]
    lines: list[str] = []
    try:
        summary = Delivery(log, transport, opts, echo=echo or lines.append).run(
            plans, lambda p: by_id[p.athlete.id])
    finally:
        transport.close()
    summary.lines = lines
    return summary


def log_rows(out: Path) -> dict[str, list[tuple]]:
    db = sqlite3.connect(out / "sendlog.sqlite")
    rows: dict[str, list[tuple]] = {}
    for athlete_id, state, attempts, message_id in db.execute(
            "SELECT athlete_id, state, attempts, message_id FROM deliveries"):
        rows.setdefault(athlete_id, []).append((state, attempts, message_id))
    db.close()
    return rows


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


def assert_valid_guide_message(received: Received, athlete_id: str) -> None:
    msg = received.message
    assert received.rcpt_tos == [EMAILS[athlete_id]]
    assert msg.get_content_type() == "multipart/mixed"
    assert msg["To"].addresses[0].addr_spec == EMAILS[athlete_id]
    assert msg["To"].addresses[0].display_name == NAMES[athlete_id]
    assert received.mail_from == SENDERS[athlete_id]
    assert msg["From"].addresses[0].addr_spec == SENDERS[athlete_id]
    assert msg["Reply-To"].addresses[0].addr_spec == SENDERS[athlete_id]
    assert "Marathon" in str(msg["Subject"])
    assert msg["Date"].datetime is not None
    message_id = str(msg["Message-ID"]).strip()
    assert message_id.startswith(f"<guide.{athlete_id}.") and message_id.endswith(".example>")
    assert str(msg["List-Unsubscribe"]).strip().startswith("<mailto:unsubscribe@")
    alternative = msg.get_payload()[0]
    assert alternative.get_content_type() == "multipart/alternative"
    plain = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert NAMES[athlete_id] in plain and "not medical advice" in plain
    assert "not medical advice" in html and "cid:logo." in html
    parts = {p.get_filename(): p for p in msg.iter_attachments()}
    assert set(parts) == {f"{athlete_id}.pdf", f"{athlete_id}.ics"}
    pdf = parts[f"{athlete_id}.pdf"]
    assert pdf.get_content_type() == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(pdf.get_content()))
    assert NAMES[athlete_id] in reader.pages[0].extract_text()
    ics = parts[f"{athlete_id}.ics"]
    assert ics.get_content_type() == "text/calendar"
    assert ics.get_param("method") == "PUBLISH"
    cal = icalendar.Calendar.from_ical(ics.get_content())
    assert any(ev.get("summary", "").startswith("Race day") for ev in cal.walk("VEVENT"))
    related = alternative.get_payload()[1]
    assert related.get_content_type() == "multipart/related"
    logo = related.get_payload()[1]
    assert logo["Content-ID"].startswith("<logo.")
    # shown in the body (cid:), not offered as a file to save
    assert logo.get_content_disposition() == "inline"


# ------------------------------------------------------------------ end to end (CLI)

def test_preview_sends_nothing_and_outbox_holds_parseable_messages(run_cli, project, smtp,
                                                                  tmp_path):
    out, outbox = tmp_path / "out", tmp_path / "outbox"
    r = run_cli(["email", "data/two.csv", "--smtp", smtp.url, "--outbox", outbox,
                 "--out", out], cwd=project)
    assert r.exit_code == 0, r.stderr
    assert smtp.messages == [] and smtp.mail_calls == 0
    assert not (out / "sendlog.sqlite").exists()
    assert r.stdout.count("would send") == 2
    assert "skipped      nomail-04  no email address" in r.stdout
    assert "ada-01.pdf" in r.stdout and "KB" in r.stdout
    assert "2 to send, 1 skipped (no email)" in r.stderr
    assert sorted(p.name for p in outbox.iterdir()) == ["ada-01.eml", "zoe-02.eml"]
    for athlete_id in ("ada-01", "zoe-02"):
        data = (outbox / f"{athlete_id}.eml").read_bytes()
        assert_valid_guide_message(Received(SENDERS[athlete_id], [EMAILS[athlete_id]], data),
                                   athlete_id)


def test_send_delivers_every_message_once_and_a_rerun_sends_nothing(run_cli, project, smtp,
                                                                   tmp_path):
    out, report = tmp_path / "out", tmp_path / "report.json"
    args = ["email", "data/roster.csv", "--smtp", smtp.url, "--send", "--out", out,
            "--report", report, *FAST]
    r = run_cli(args, cwd=project)
    assert r.exit_code == 0, r.stderr
    assert "email: 3 sent, 1 skipped (no email), 0 already sent" in r.stderr
    assert smtp.by_rcpt() == {e: 1 for e in EMAILS.values()}
    for received in smtp.messages:
        athlete_id = next(k for k, v in EMAILS.items() if v == received.rcpt_tos[0])
        assert_valid_guide_message(received, athlete_id)
    rows = log_rows(out)
    assert {k: [s for s, _, _ in v] for k, v in rows.items()} == {k: ["sent"] for k in EMAILS}
    assert json.loads(report.read_text())["problems"] == []
    # WAL mode, as promised
    db = sqlite3.connect(out / "sendlog.sqlite")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()

    again = run_cli(args, cwd=project)
    assert again.exit_code == 0, again.stderr
    assert "email: 0 sent, 1 skipped (no email), 3 already sent" in again.stderr
    assert smtp.by_rcpt() == {e: 1 for e in EMAILS.values()}


def test_550_for_one_recipient_leaves_the_others_delivered_and_is_reported(run_cli,
        project, smtp, tmp_path):
    smtp.rcpt_replies["zoe.obriain@example.com"] = "550 5.1.1 <Zoe.OBriain@example.com>: unknown"
    out, report = tmp_path / "out", tmp_path / "report.json"
    r = run_cli(["email", "data/two.csv", "--smtp", smtp.url, "--send", "--out", out,
                 "--report", report, *FAST], cwd=project)
    assert r.exit_code == 1
    assert smtp.by_rcpt() == {"ada@example.com": 1}
    assert "email: 1 sent, 1 skipped (no email)" in r.stderr and "1 failed" in r.stderr
    # named by id and row; the server's reply without the address (in the send log only)
    line = "data/two.csv:3: email: zoe-02: 550 5.1.1 <[address]>: unknown"
    assert line in r.stderr and "obriain" not in (r.stdout + r.stderr).lower()
    data = json.loads(report.read_text())
    assert data["command"] == "email" and data["errors"] == 1
    assert data["problems"] == [dict(
        path="data/two.csv", line=3, field="email", severity="error", athlete_id="zoe-02",
        message="zoe-02: 550 5.1.1 <[address]>: unknown")]
    assert log_rows(out)["zoe-02"][0][:2] == ("failed", 1)  # permanent: not retried


def _sender(project: Path, roster: str, out: Path, url: str, tmp_path: Path):
    log = open(tmp_path / "sender.log", "wb")  # noqa: SIM115 - closed by the caller
    env = {k: v for k, v in os.environ.items() if k != "GUIDEGEN_SMTP_PASSWORD"}
    proc = subprocess.Popen([sys.executable, "-m", "generator", "email", roster,
                             "--smtp", url, "--send", "--out", str(out), *FAST],
                            cwd=project, stdout=log, stderr=subprocess.STDOUT, env=env)
    return proc, log


def test_killed_before_the_end_of_data_a_rerun_delivers_each_exactly_once(run_cli,
        project, smtp, tmp_path):
    out = tmp_path / "out"
    smtp.stall_mail_from = 2  # the second transaction hangs at MAIL FROM
    proc, log = _sender(project, "data/two.csv", out, smtp.url, tmp_path)
    try:
        wait_for(lambda: smtp.mail_calls >= 2 or proc.poll() is not None)
        assert len(smtp.messages) == 1, (tmp_path / "sender.log").read_text()
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        log.close()
        if proc.poll() is None:
            proc.kill()
    states = {k: v[0][0] for k, v in log_rows(out).items()}
    assert states == {"ada-01": "sent", "zoe-02": "pending"}  # crashed mid-transaction

    smtp.stall_mail_from = None
    r = run_cli(["email", "data/two.csv", "--smtp", smtp.url, "--send", "--out", out,
                    *FAST], cwd=project)
    assert r.exit_code == 0, r.stderr
    assert "email: 1 sent, 1 skipped (no email), 1 already sent" in r.stderr
    assert smtp.by_rcpt() == {"ada@example.com": 1, "zoe.obriain@example.com": 1}
    assert {k: v[0][0] for k, v in log_rows(out).items()} == {"ada-01": "sent",
                                                              "zoe-02": "sent"}


def test_killed_after_the_end_of_data_the_message_is_held_not_sent_twice(run_cli,
        project, smtp, tmp_path):
    out, report = tmp_path / "out", tmp_path / "report.json"
    smtp.stall_after_accept = True  # accepted, but the 250 never reaches the sender
    proc, log = _sender(project, "data/two.csv", out, smtp.url, tmp_path)
    try:
        wait_for(lambda: smtp.messages or proc.poll() is not None)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        log.close()
        if proc.poll() is None:
            proc.kill()
    assert {k: v[0][0] for k, v in log_rows(out).items()} == {"ada-01": "unconfirmed"}

    smtp.stall_after_accept = False
    args = ["email", "data/two.csv", "--smtp", smtp.url, "--send", "--out", out, *FAST]
    r = run_cli([*args, "--report", report], cwd=project)
    assert r.exit_code == 1  # needs the operator's attention
    assert smtp.by_rcpt() == {"ada@example.com": 1, "zoe.obriain@example.com": 1}
    assert "1 sent" in r.stderr and "1 unconfirmed" in r.stderr
    (problem,) = json.loads(report.read_text())["problems"]
    message_id = log_rows(out)["ada-01"][0][2]
    assert problem["athlete_id"] == "ada-01" and message_id in problem["message"]

    # the operator finds the Message-ID in the server log and records it as sent
    # (a roster holding just that athlete, to keep the test short)
    r = run_cli(["email", "data/ada.csv", "--smtp", smtp.url, "--send", "--out", out,
                 "--unconfirmed", "mark-sent"], cwd=project)
    assert r.exit_code == 0, r.stderr
    assert "email: 0 sent" in r.stderr and "1 marked sent" in r.stderr
    assert {k: v[0][0] for k, v in log_rows(out).items()} == {"ada-01": "sent",
                                                              "zoe-02": "sent"}
    assert smtp.by_rcpt() == {"ada@example.com": 1, "zoe.obriain@example.com": 1}


def test_changed_guide_is_sent_again_only_with_resend_changed(run_cli, project, smtp, tmp_path):
    roster = tmp_path / "one.csv"
    roster.write_text("id,name,email,race_name,race_date\n"
                      "ada-01,Ada Lovelace,ada@example.com,Solent Coastal Marathon,2027-04-18\n")
    out = tmp_path / "out"
    args = ["email", roster, "--smtp", smtp.url, "--send", "--out", out, *FAST]
    assert run_cli(args, cwd=project).exit_code == 0
    first_id = log_rows(out)["ada-01"][0][2]
    roster.write_text(roster.read_text().replace("Solent Coastal", "Solent Harbour"))

    held = run_cli(args, cwd=project)
    assert held.exit_code == 0, held.stderr
    assert "1 changed (held)" in held.stderr and "use --resend-changed" in held.stdout
    assert len(smtp.messages) == 1

    resent = run_cli([*args, "--resend-changed"], cwd=project)
    assert resent.exit_code == 0, resent.stderr
    assert "email: 1 sent" in resent.stderr
    assert len(smtp.messages) == 2
    assert "Solent Harbour" in str(smtp.messages[1].message["Subject"])
    assert str(smtp.messages[1].message["Message-ID"]).strip() != first_id


def test_roster_rows_with_crlf_injection_are_rejected_and_the_rest_is_built(run_cli,
        project, tmp_path):
    roster = tmp_path / "evil.csv"
    roster.write_text(
        "id,name,email,race_name,race_date\n"
        'eve-01,"Eve\r\nBcc: victim@evil.example",eve@example.com,Solent Marathon,2027-04-18\n'
        'mal-02,Mal,"mal@example.com\r\nBcc: victim@evil.example",Solent Marathon,2027-04-18\n'
        "ada-01,Ada Lovelace,ada@example.com,Solent Coastal Marathon,2027-04-18\n",
        newline="")
    outbox = tmp_path / "outbox"
    r = run_cli(["email", roster, "--outbox", outbox], cwd=project)
    assert r.exit_code == 1
    # refused by the roster loader, or else by the message builder: never sent
    assert "eve-01: name: " in r.stderr or ":2: name: " in r.stderr
    assert ":4: warning: email: 'mal@example.com\\r\\nBcc: " in r.stderr
    assert re.search(r"^skipped +mal-02 +no email address$", r.stdout, re.M)
    assert [p.name for p in outbox.iterdir()] == ["ada-01.eml"]
    assert b"evil.example" not in (outbox / "ada-01.eml").read_bytes()


def test_send_requires_smtp_and_refuses_a_password_in_the_url(run_cli, project):
    r = run_cli(["email", "data/roster.csv", "--outbox", "x", "--send"], cwd=project)
    assert r.exit_code == 2 and "--send needs --smtp" in r.stderr
    r = run_cli(["email", "data/roster.csv", "--smtp", "smtps://u:pw@mail.example",
                    "--send"], cwd=project)
    assert r.exit_code == 2 and "GUIDEGEN_SMTP_PASSWORD" in r.stderr
    r = run_cli(["email", "data/roster.csv"], cwd=project)
    assert r.exit_code == 2 and "--outbox DIR" in r.stderr


# ------------------------------------------------------------------ the delivery loop

def test_451_then_accept_delivers_exactly_once(composed, smtp):
    smtp.data_replies = ["451 4.3.0 Try again later"]
    ada = composed.messages["ada-01"]
    with SendLog(None) as log:
        summary = deliver([ada], smtp, log)
        (row,) = log.rows("ada-01")
    assert summary.sent == 1 and summary.failed == 0
    assert smtp.by_rcpt() == {"ada@example.com": 1}
    assert (row.state, row.attempts) == ("sent", 2)
    assert any(line.startswith("retrying") and "451" in line for line in summary.lines)


def test_dropped_connection_is_retried_and_delivers_once(composed, smtp):
    smtp.mail_replies = ["421 4.3.2 Service shutting down, closing connection"]
    with SendLog(None) as log:
        summary = deliver(list(composed.messages.values()), smtp, log)
    assert summary.sent == 3
    assert smtp.by_rcpt() == {e: 1 for e in EMAILS.values()}


def test_retries_are_bounded_and_end_in_a_recorded_failure(composed, smtp):
    smtp.data_replies = ["452 4.3.1 Insufficient storage"] * 10
    slept: list[float] = []
    with SendLog(None) as log:
        summary = deliver([composed.messages["kai-03"]], smtp, log, attempts=3,
                          retry_delay=0.5, sleep=slept.append)
        (row,) = log.rows("kai-03")
    assert slept == [0.5, 1.0]  # exponential backoff, bounded attempts
    assert summary.failed == 1 and smtp.messages == []
    assert (row.state, row.attempts) == ("failed", 3)
    assert ": gave up after 3 attempts: 452" in summary.failures[0].message


def test_unreachable_server_stops_the_run_after_retries(composed, tmp_path):
    dead = SimpleNamespace(url=f"smtp://127.0.0.1:{_free_port()}")
    with SendLog(None) as log:
        summary = deliver(list(composed.messages.values()), dead, log, attempts=2,
                          sleep=lambda s: None)
    assert summary.stopped and summary.failed == 1 and summary.not_attempted == 2


def test_login_uses_the_user_from_the_url_and_the_password_from_the_environment(
        composed, smtp):
    url = parse_smtp_url(smtp.url.replace("//", "//clinic@"))
    transport = SmtpTransport(url, "s3cret")
    with SendLog(None) as log:
        Delivery(log, transport, Options(send=True), echo=lambda s: None).run(
            [SimpleNamespace(athlete=SimpleNamespace(id="ada-01", email="ada@example.com"))],
            lambda a: composed.messages["ada-01"])
    transport.close()
    assert smtp.logins == ["clinic"] and len(smtp.messages) == 1
    with pytest.raises(UsageError, match="GUIDEGEN_SMTP_PASSWORD"):
        SmtpTransport(url, None)


def test_rate_spaces_out_transactions():
    class Accepting:
        def deliver(self, sender, recipient, data, *, smtputf8, before_commit):
            before_commit()
            return Attempt(Outcome.SENT, "250 ok")

    clock = SimpleNamespace(t=0.0)
    waits: list[float] = []

    def sleep(seconds):
        waits.append(seconds)
        clock.t += seconds

    def compose_fake(plan):
        athlete = plan.athlete
        return SimpleNamespace(athlete_id=athlete.id, email=athlete.email, content_hash="h",
                               rendered=None, stamp=lambda: None,
                               message_id="<m@x>", smtputf8=False, subject="s", sizes={},
                               recipient=athlete.email,
                               sender=SimpleNamespace(addr_spec="clinic@x.example"),
                               as_bytes=lambda: b"Subject: s\r\n\r\nbody\r\n")

    opts = Options(send=True, rate=30, sleep=sleep, clock=lambda: clock.t)
    plans = [SimpleNamespace(athlete=SimpleNamespace(id=f"a{i}", email=f"a{i}@x.example"))
             for i in range(3)]
    with SendLog(None) as log:
        summary = Delivery(log, Accepting(), opts, echo=lambda s: None).run(plans,
                                                                            compose_fake)
    assert summary.sent == 3 and waits == [2.0, 2.0]


# ------------------------------------------------------------------ messages

def test_crlf_in_names_or_addresses_never_reaches_a_header():
    for name, addr in [("Eve\r\nBcc: victim@evil.example", "eve@example.com"),
                       ("Eve\n", "eve@example.com"),
                       ("Eve", "eve@example.com\r\nBcc: victim@evil.example"),
                       ("Eve", "eve@exa\rmple.com"), ("Eve", "not-an-address"),
                       ("Eve", 'a"b@example.com')]:
        with pytest.raises(MessageError):
            mailbox(name, addr, "athlete")


def test_athlete_fields_that_bypassed_validation_cannot_inject_headers(composed):
    with pytest.raises(MessageError, match="line break"):
        composed.make("ada-01", name="Eve\r\nBcc: victim@evil.example")
    with pytest.raises(MessageError, match="line break"):
        composed.make("ada-01", email="ada@example.com\nBcc: victim@evil.example")
    out = composed.make("ada-01", race_name="Marathon\r\nBcc: victim@evil.example")
    parsed = BytesParser(policy=policy.default).parsebytes(out.as_bytes())
    assert parsed["Bcc"] is None and "\n" not in str(parsed["Subject"]).strip()


def test_display_name_tricks_are_encoded_and_reach_only_the_athlete(composed, smtp):
    name = 'Mallory" <mallory@evil.example>, bcc@evil.example; ليلى'
    out = composed.make("ada-01", name=name)
    with SendLog(None) as log:
        deliver([out], smtp, log)
    (received,) = smtp.messages
    assert received.rcpt_tos == ["ada@example.com"]
    # decode the raw header as a mail client does (RFC 2047 section 6.2: the folding
    # space between encoded words is not part of the name; Python's new parser keeps it)
    raw_to = email.message_from_bytes(received.data)["To"]
    ((display, addr),) = email.utils.getaddresses([raw_to])
    assert addr == "ada@example.com"
    assert str(make_header(decode_header(display))) == name
    assert received.message["To"].addresses[0].addr_spec == "ada@example.com"
    assert received.message["Bcc"] is None and received.message["Cc"] is None


def test_message_id_and_hash_are_stable_and_https_unsubscribe_is_one_click(composed):
    one, two = composed.make("ada-01"), composed.make("ada-01")
    assert (one.message_id, one.content_hash) == (two.message_id, two.content_hash)
    assert one.message_id.endswith("@harbour-sports-therapy.example>")
    assert one.message["List-Unsubscribe-Post"] is None
    # the attachments count through their guide's input digest (same inputs, same files)
    changed = composed.make("ada-01", digest="inputs-2")
    assert changed.content_hash != one.content_hash
    assert changed.message_id != one.message_id
    brand = composed.brand
    https = dataclasses.replace(brand, config=brand.config.model_copy(
        update={"unsubscribe": "https://clinic.example/unsub?u=1"}))
    msg = composed.make("ada-01", brand=https).message
    assert msg["List-Unsubscribe"] == "<https://clinic.example/unsub?u=1>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    no_sender = dataclasses.replace(brand, config=brand.config.model_copy(
        update={"contact": brand.config.contact.model_copy(update={"email": None})}))
    with pytest.raises(MessageError, match="contact.email"):
        composed.make("ada-01", brand=no_sender)


def test_date_is_the_send_time_and_never_part_of_the_identity(project):
    """SOURCE_DATE_EPOCH fixes what a build prints, not when a message is sent: the Date
    is the clock's, and the content hash and Message-ID do not depend on it."""
    from tests.guidekit import EPOCH, context

    inputs = load_inputs(load_project(project), project / "data" / "ada.csv", context(EPOCH))
    plan = plan_guide(inputs, inputs.athletes[0])
    mailer = Mailer(inputs, project / "output")
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    now = compose(plan, FAKE_FILES, "inputs-1", mailer.renderer, mailer.date)
    after = dt.datetime.now(dt.UTC)
    assert before <= now.message["Date"].datetime <= after
    epoch = dt.datetime.fromtimestamp(int(EPOCH), dt.UTC)
    later = compose(plan, FAKE_FILES, "inputs-1", mailer.renderer, epoch)
    assert later.message["Date"].datetime == epoch
    assert (later.content_hash, later.message_id) == (now.content_hash, now.message_id)
    # dated again at sending: only the Date header changes
    headers = [k for k, _ in now.message.items()]
    now.stamp(epoch + dt.timedelta(days=1))
    assert now.message["Date"].datetime == epoch + dt.timedelta(days=1)
    assert [k for k, _ in now.message.items()] == headers
    fixed = Mailer(inputs, project / "output", now=epoch)
    assert fixed.date == epoch


def test_non_ascii_mailbox_uses_smtputf8(composed, smtp):
    out = composed.make("ada-01", email="zoë@example.com")
    assert out.smtputf8
    with SendLog(None) as log:
        summary = deliver([out], smtp, log)
    assert summary.sent == 1 and smtp.messages[0].rcpt_tos == ["zoë@example.com"]

# ------------------------------------------------------------------ the rules

def _row(state: str, content_hash: str = "h1") -> Row:
    return Row("a", content_hash, "a@x.example", "<m>", state, 1, None)


@pytest.mark.parametrize(("rows", "kwargs", "expected"), [
    ([], {}, Action.SEND),
    ([_row("pending")], {}, Action.SEND),  # crashed before the end of DATA
    ([_row("failed")], {}, Action.SEND),  # never accepted
    ([_row("sent")], {}, Action.ALREADY_SENT),
    ([_row("sent")], {"resend_changed": True}, Action.ALREADY_SENT),
    ([_row("unconfirmed")], {}, Action.UNCONFIRMED),
    ([_row("unconfirmed")], {"unconfirmed": "resend"}, Action.SEND),
    ([_row("unconfirmed")], {"unconfirmed": "mark-sent"}, Action.MARK_SENT),
    ([_row("sent", "h0")], {}, Action.CHANGED),
    ([_row("unconfirmed", "h0")], {}, Action.CHANGED),
    ([_row("sent", "h0")], {"resend_changed": True}, Action.SEND),
    ([_row("sent", "h0"), _row("failed")], {}, Action.CHANGED),
    ([_row("failed", "h0")], {}, Action.SEND),
])
def test_decide(rows, kwargs, expected):
    assert decide(rows, "h1", **kwargs) is expected


def test_only_one_sender_per_send_log(tmp_path):
    with RunLock(tmp_path / "sendlog.lock"):
        with pytest.raises(UsageError, match="another"):
            with RunLock(tmp_path / "sendlog.lock"):
                pass


def test_smtp_urls():
    assert str(parse_smtp_url("smtp://mail.example")) == "smtp://mail.example:25"
    url = parse_smtp_url("smtps://clinic%40x.example@mail.example:2465")
    assert (url.scheme, url.user, url.port) == ("smtps", "clinic@x.example", 2465)
    for bad in ("http://mail.example", "smtp://", "smtp://h:99999", "smtp://h/path"):
        with pytest.raises(UsageError):
            parse_smtp_url(bad)


def test_dot_stuffing_keeps_the_terminator_out_of_the_body():
    assert dot_stuffed(b"a\n.\n..b\r\nc") == b"a\r\n..\r\n...b\r\nc\r\n"
