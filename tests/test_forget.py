"""``guidegen forget``: a runner who left leaves no trace in OUT, the outbox or the send log
(only a salted hash of the id and the date), nobody else's files change, a runner still in
the roster is refused, a killed forget is finished by the next one, and ``guidegen email``
holds a forgotten runner who comes back instead of sending to them as if they were new.

One small project is built (``python -m generator build``), previewed into an outbox and
sent to an aiosmtpd server on 127.0.0.1 once per module; each test works on a copy.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from generator.deliver.sendlog import SendLog
from generator.publish.plans import plan_token
from tests.conftest import copy_example, invoke_cli, tree
from tests.guidekit import EPOCH

SECRET = "test-secret-0123456789abcdef"
GONE = "fg-quill-01"
HEADER = "id,name,email,race_name,race_date,brand,notes\n"
GONE_ROW = (f"{GONE},Quillon Zyxwvut,quillon.zyxwvut@example.com,Solent Coastal Marathon,"
            "2027-04-18,harbour,Zyxwvut knee note: prefers Thursday appointments\n")
STAYING = ("hb-ada-02,Ada Lovelace,ada@example.com,Solent Coastal Marathon,2027-04-18,"
           "harbour,\n"
           "sm-kai-03,Kai Müller,kai@example.org,Front Range Marathon,2027-05-23,summit,\n")
# the runner's id, name, email and notes, as any file might hold them
NEEDLES = (GONE, "Quillon", "Zyxwvut", "quillon.zyxwvut@example.com", "Thursday appointments")
ENV = {"SOURCE_DATE_EPOCH": EPOCH, "GUIDEGEN_PLAN_SECRET": SECRET}


class Recorder:
    def __init__(self):
        self.rcpts: list[str] = []

    async def handle_DATA(self, server, session, envelope):
        self.rcpts += envelope.rcpt_tos
        return "250 2.0.0 Ok: queued"


@pytest.fixture(scope="module")
def smtp():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = Recorder()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    handler.url = f"smtp://127.0.0.1:{port}"
    yield handler
    controller.stop()


def run(args, cwd: Path, env: dict | None = None):
    return invoke_cli(args, cwd, {**ENV, **(env or {})})


@pytest.fixture(scope="module")
def built(tmp_path_factory, smtp) -> Path:
    """A project with three runners: built (guides of two brands, plan pages), previewed
    into outbox/ and sent (send log); then ``GONE`` is taken out of the roster."""
    root = copy_example(tmp_path_factory.mktemp("forget") / "clinic",
                        files={"data/athletes.csv": HEADER + GONE_ROW + STAYING})
    done = subprocess.run([sys.executable, "-m", "generator", "build", "--jobs", "1"],
                          cwd=root, env={**os.environ, **ENV}, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    preview = run(["email", "data/athletes.csv", "--outbox", "outbox"], root)
    assert preview.exit_code == 0, preview.stderr
    sent = run(["email", "data/athletes.csv", "--smtp", smtp.url, "--send"], root)
    assert sent.exit_code == 0, sent.stderr
    assert sorted(smtp.rcpts) == ["ada@example.com", "kai@example.org",
                                  "quillon.zyxwvut@example.com"]
    (root / "data/athletes.csv").write_text(HEADER + STAYING, encoding="utf-8")
    return root


@pytest.fixture
def project(built, tmp_path) -> Path:
    root = tmp_path / "clinic"
    shutil.copytree(built, root)
    return root


def traces(*folders: Path) -> list[str]:
    """Each file (by name or bytes, in UTF-8 or UTF-16) under ``folders`` that holds one
    of the NEEDLES, as 'path: needle'."""
    found = []
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if not path.is_file():
                continue
            data = path.read_bytes().lower()
            for needle in NEEDLES:
                forms = [needle.lower().encode(c) for c in ("utf-8", "utf-16-le", "utf-16-be")]
                if needle.lower() in str(path.relative_to(folder)).lower() or any(
                        form in data for form in forms):
                    found.append(f"{path.relative_to(folder)}: {needle}")
    return found


def others(out: Path) -> dict[str, str]:
    """Every file of OUT that is not bookkeeping, and not the forgotten runner's."""
    token = plan_token(SECRET.encode(), GONE)
    return {k: v for k, v in tree(out, skip=("manifest*", "sendlog*")).items()
            if GONE not in k and token not in k}


def test_forget_removes_every_trace_of_the_runner_and_nothing_else(project):
    out, outbox = project / "output", project / "outbox"
    token = plan_token(SECRET.encode(), GONE)
    # as if they had changed brand once, and a write of their guide had been killed
    shutil.copy(out / f"guides/harbour/{GONE}.pdf", out / f"guides/summit/{GONE}.pdf")
    (out / f"guides/harbour/.{GONE}.pdf.abcd1234.tmp").write_bytes(b"%PDF- half")
    # the search finds every needle before: it would find one left behind
    before = traces(out, outbox)
    assert {line.rsplit(": ", 1)[1] for line in before} == set(NEEDLES), before
    kept = others(out)
    outbox_kept = tree(outbox, skip=(f"{GONE}.eml",))

    r = run(["forget", GONE, "--outbox", "outbox"], project)
    assert r.exit_code == 0, r.stderr
    removed = [line.split(None, 2)[2] for line in r.stdout.splitlines()]
    assert removed == [
        f"guides/harbour/{GONE}.pdf", f"guides/harbour/{GONE}.html",
        f"guides/harbour/{GONE}.ics", f"guides/harbour/.{GONE}.pdf.abcd1234.tmp",
        f"guides/summit/{GONE}.pdf", f"site/plans/{token}/ (3 files)",
        f"outbox/{GONE}.eml", f"manifest.json: entry {GONE}",
        removed[-1]]
    assert re.fullmatch(r"sendlog\.sqlite: 1 row \(kept: a salted hash of the id and the "
                        r"date \d{4}-\d\d-\d\d\)", removed[-1])
    assert all(line.startswith(f"removed      {GONE}  ") for line in r.stdout.splitlines())
    assert ("forget: 1 runner (5 files, 1 plan page, 1 outbox message, 1 manifest entry, "
            "1 send-log row); 0 refused, 0 unknown") in r.stderr

    assert traces(out, outbox) == []  # sendlog.sqlite (and any -wal, -shm) included
    assert others(out) == kept and tree(outbox) == outbox_kept
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(manifest["outputs"]) == ["hb-ada-02", "sm-kai-03"]
    db = sqlite3.connect(out / "sendlog.sqlite")
    assert sorted(r[0] for r in db.execute("SELECT athlete_id FROM deliveries")) == [
        "hb-ada-02", "sm-kai-03"]
    (digest, date), = db.execute("SELECT hash, forgotten_on FROM forgotten").fetchall()
    assert re.fullmatch(r"[0-9a-f]{64}", digest) and re.fullmatch(r"\d{4}-\d\d-\d\d", date)
    assert db.execute("SELECT count(*) FROM forgetting").fetchone() == (0,)
    db.close()

    again = run(["forget", GONE, "--outbox", "outbox"], project)
    assert again.exit_code == 0 and again.stdout == ""
    assert (f"output: warning: id: {GONE}: nothing stored for this runner (forgotten on "
            f"{date} already); nothing removed") in again.stderr


def test_dry_run_prints_the_same_and_removes_nothing(project):
    before = tree(project)
    r = run(["forget", GONE, "--outbox", "outbox", "--dry-run"], project)
    assert r.exit_code == 0, r.stderr
    assert r.stdout.count(f"would remove {GONE}  ") == 7
    assert "sendlog.sqlite: 1 row (kept" in r.stdout
    assert "forget (dry run, nothing removed): would forget 1 runner (3 files" in r.stderr
    assert tree(project) == before


def test_a_runner_still_in_the_roster_is_refused(project):
    before = tree(project)
    r = run(["forget", "hb-ada-02", "sm-kai-03"], project)
    assert r.exit_code == 1
    assert r.stdout == ""
    assert ("data/athletes.csv:2: id: hb-ada-02 is still in the roster; remove them from "
            "data/athletes.csv first") in r.stderr
    assert "data/athletes.csv:3: id: sm-kai-03 is still in the roster" in r.stderr
    assert "0 runners (0 files" in r.stderr and "2 refused" in r.stderr
    assert tree(project) == before
    # a row that cannot be read still keeps its runner: the id may be theirs
    (project / "data/athletes.csv").write_text(
        HEADER + GONE_ROW.replace("2027-04-18", "18/04/2027") + STAYING, encoding="utf-8")
    r = run(["forget", GONE], project)
    assert r.exit_code == 1
    assert f"data/athletes.csv:2: id: {GONE} appears in a row that could not be read" in r.stderr
    assert tree(project) == before | {"data/athletes.csv": tree(project)["data/athletes.csv"]}


def test_unknown_ids_are_a_warning_and_bad_ids_a_usage_error(project):
    r = run(["forget", "nobody-99"], project)
    assert r.exit_code == 0, r.stderr
    assert "warning: id: nobody-99: nothing stored for this runner" in r.stderr
    assert run(["forget", "../etc"], project).exit_code == 2
    r = run(["forget"], project)
    assert r.exit_code == 2 and "give the ids of the runners to forget" in r.stderr


# runs `guidegen forget ...` and SIGKILLs itself when it reaches the named step
KILLER = """
import os, signal, sys
import generator.forget as forget
from generator.cli import cli
from generator.deliver.sendlog import SendLog

def killed(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

owner, name = {"first file": (forget, "_remove_empty_parents"),
               "manifest": (forget.Manifest, "drop"),
               "scrub": (SendLog, "scrub")}[sys.argv[1]]
setattr(owner, name, killed)
cli(sys.argv[2:], prog_name="guidegen")
"""


@pytest.mark.parametrize("step", ["first file", "manifest", "scrub"])
def test_a_killed_forget_is_finished_by_the_next_one(project, step):
    """SIGKILLed after its first file, at the manifests (every file gone), or after the
    send log's last transaction but before the scrub: rerunning the same command
    finishes the job (the intent in the send log says what was left), and no trace
    remains; email refuses to run while a forget is unfinished."""
    out, outbox = project / "output", project / "outbox"
    kept = others(out)
    args = ["forget", GONE, "--outbox", "outbox"]
    killed = subprocess.run([sys.executable, "-c", KILLER, step, *args], cwd=project,
                            env={**os.environ, **ENV}, capture_output=True, text=True,
                            timeout=120)
    assert killed.returncode == -9, killed.stderr
    assert not (out / f"guides/harbour/{GONE}.pdf").exists()
    assert (outbox / f"{GONE}.eml").exists() == (step == "first file")
    db = sqlite3.connect(out / "sendlog.sqlite")
    pending = db.execute("SELECT athlete_id FROM forgetting").fetchall()
    db.close()
    assert pending == ([] if step == "scrub" else [(GONE,)])
    if pending:
        held = run(["email", "data/athletes.csv", "--outbox", "outbox2"], project)
        assert held.exit_code == 2
        assert f"a guidegen forget was interrupted ({GONE}); run guidegen forget" in held.stderr

    r = run(args, project)
    assert r.exit_code == 0, r.stderr
    if pending:
        assert f"finishing    {GONE}  an interrupted forget" in r.stdout
        assert f"removed      {GONE}  manifest.json: entry {GONE}" in r.stdout
        assert "forget: 1 runner" in r.stderr and "0 unknown" in r.stderr
    else:
        assert r.stdout == "" and "forgotten on" in r.stderr and "already" in r.stderr
    assert traces(out, outbox) == []
    assert others(out) == kept
    assert "0 forgotten (held)" in run(["email", "data/athletes.csv", "--outbox", "ob"],
                                       project).stderr


def test_a_forgotten_runner_back_in_a_roster_is_held_by_email_until_confirmed(project,
                                                                               smtp):
    assert run(["forget", GONE, "--outbox", "outbox"], project).exit_code == 0
    (project / "data/back.csv").write_text(HEADER + STAYING + GONE_ROW, encoding="utf-8")
    report = project / "report.json"
    sent_before = len(smtp.rcpts)
    args = ["email", "data/back.csv", "--smtp", smtp.url, "--send"]

    r = run([*args, "--report", report], project)
    assert r.exit_code == 0, r.stderr
    assert len(smtp.rcpts) == sent_before  # nobody: the others were sent already
    assert re.search(rf"data/back\.csv:4: warning: id: {GONE} was forgotten on "
                     r"\d{4}-\d\d-\d\d \(guidegen forget\); not sent: remove them from the "
                     rf"roster, or confirm with --resend-forgotten {GONE}", r.stderr)
    assert f"forgotten    {GONE}  forgotten on" in r.stdout
    assert "2 already sent" in r.stderr and "; 1 forgotten (held)" in r.stderr
    data = json.loads(report.read_text())
    assert data["summary"]["forgotten"] == 1
    assert [p["athlete_id"] for p in data["problems"]] == [GONE]
    preview = run(["email", "data/back.csv", "--outbox", "outbox"], project)
    assert preview.exit_code == 0 and not (project / "outbox" / f"{GONE}.eml").exists()

    confirmed = run([*args, "--resend-forgotten", GONE], project)
    assert confirmed.exit_code == 0, confirmed.stderr
    assert smtp.rcpts[sent_before:] == ["quillon.zyxwvut@example.com"]
    with SendLog(project / "output/sendlog.sqlite", readonly=True) as log:
        assert log.forgotten_on([GONE]) == {}  # an ordinary recipient again
    again = run(args, project)
    assert again.exit_code == 0 and "3 already sent" in again.stderr
    assert len(smtp.rcpts) == sent_before + 1


def test_readmit_takes_a_runner_off_the_forgotten_list(project):
    assert run(["forget", GONE], project).exit_code == 0
    (project / "data/back.csv").write_text(HEADER + GONE_ROW, encoding="utf-8")
    assert "1 forgotten (held)" in run(["email", "data/back.csv", "--outbox", "ob"],
                                       project).stderr
    r = run(["forget", "--readmit", GONE], project)
    assert r.exit_code == 0 and f"readmitted   {GONE}" in r.stdout
    r = run(["email", "data/back.csv", "--outbox", "ob"], project)
    assert "1 to send" in r.stderr and (project / "ob" / f"{GONE}.eml").exists()
    r = run(["forget", "--readmit", GONE], project)
    assert f"warning: id: {GONE}: not on the forgotten list" in r.stderr


def test_roster_option_forgets_every_recorded_runner_not_in_the_file(project):
    out = project / "output"
    (project / "data/empty.csv").write_text(HEADER, encoding="utf-8")
    r = run(["forget", "--roster", "data/empty.csv"], project)
    assert r.exit_code == 2 and "has no valid runners" in r.stderr
    # a row of FILE that cannot be read keeps the runner it names
    (project / "data/new.csv").write_text(
        HEADER + STAYING + GONE_ROW.replace("2027-04-18", "someday"), encoding="utf-8")
    r = run(["forget", "--roster", "data/new.csv", "--dry-run"], project)
    assert r.exit_code == 0 and r.stdout == ""
    assert f"data/new.csv:4: warning: id: {GONE}: kept: this row could not be read" in r.stderr

    (project / "data/new.csv").write_text(HEADER + STAYING, encoding="utf-8")
    kept = others(out)
    r = run(["forget", "--roster", "data/new.csv", "--outbox", "outbox"], project)
    assert r.exit_code == 0, r.stderr
    assert {line.split()[1] for line in r.stdout.splitlines()} == {GONE}
    assert traces(out, project / "outbox") == [] and others(out) == kept


def test_without_the_plan_secret_the_plan_page_is_found_from_the_manifest(project):
    token = plan_token(SECRET.encode(), GONE)
    r = run(["forget", GONE], project, {"GUIDEGEN_PLAN_SECRET": None})
    assert r.exit_code == 0, r.stderr
    assert f"site/plans/{token}/ (3 files)" in r.stdout
    assert f"note: {GONE}: plan page found from the manifest" in r.stderr
    assert not (project / "output/site/plans" / token).exists()


def test_the_send_log_keeps_only_a_salted_hash(tmp_path):
    path = tmp_path / "sendlog.sqlite"
    with SendLog(path) as log:
        log.begin_attempt("a-1", "h", "a@example.com", "<m@x>")
        assert log.forget("a-1", "2027-01-02") == 1
        assert log.forget("a-1", "2027-01-03") == 0  # again: one entry, the later date
        assert log.forgotten_on(["a-1", "b-2"]) == {"a-1": "2027-01-03"}
        assert log.scrub(vacuum=True)
    db = sqlite3.connect(path)
    salt = db.execute("SELECT value FROM settings").fetchone()[0]
    (digest,), = db.execute("SELECT hash FROM forgotten").fetchall()
    db.close()
    assert len(bytes.fromhex(salt)) == 32 and digest != "a-1"
    assert b"a-1" not in path.read_bytes() and b"a@example.com" not in path.read_bytes()
    with SendLog(tmp_path / "other.sqlite") as other:  # another log, another salt
        other.forget("a-1", "2027-01-02")
        assert other.forgotten_on(["a-1"]) == {"a-1": "2027-01-02"}
        assert other._salt().hex() != salt
    with SendLog(tmp_path / "missing.sqlite", readonly=True) as empty:
        assert empty.forgotten_on(["a-1"]) == {} and empty.intents() == {}
    assert not (tmp_path / "missing.sqlite").exists()
