"""``guidegen email`` attaches the guides a build wrote, after checking them against the
manifest; it renders only guides that are missing or stale, and says so. After a fresh
build it never imports WeasyPrint (the first test makes WeasyPrint unimportable)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_ROSTER, copy_example
from tests.guidekit import EPOCH

SECRET = "test-secret-0123456789abcdef"
ROWS = 4  # the first runners of the example roster: both brands, enough to compare


def first_runners(n: int) -> list[str]:
    return [line.split(",", 1)[0] for line in
            EXAMPLE_ROSTER.read_text(encoding="utf-8").splitlines()[1:n + 1]]


def run(args, cwd: Path, *, block_weasyprint: Path | None = None):
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "GUIDEGEN_PLAN_SECRET": SECRET}
    if block_weasyprint is not None:  # first on the path: `import weasyprint` fails
        env["PYTHONPATH"] = os.pathsep.join([str(block_weasyprint),
                                             env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-m", "generator", *map(str, args)], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return copy_example(tmp_path_factory.mktemp("clinic"), athletes=first_runners(ROWS))


@pytest.fixture(scope="module")
def blocker(tmp_path_factory) -> Path:
    """A folder whose weasyprint.py records that it was imported, then refuses."""
    folder = tmp_path_factory.mktemp("no-weasyprint")
    (folder / "weasyprint.py").write_text(
        "import pathlib\n"
        f"pathlib.Path({str(folder / 'imported')!r}).write_text('yes')\n"
        "raise ImportError('weasyprint is unimportable in this test')\n")
    return folder


@pytest.fixture(scope="module")
def built(project) -> Path:
    done = run(["build", "--out", "out", "--jobs", "2"], project)
    assert done.returncode == 0, done.stderr
    return project / "out"


def messages(outbox: Path) -> dict[str, dict]:
    """Each .eml as what a recipient sees: headers, bodies and attachments (the MIME
    boundaries are random per message and left out, and so is the Date: it is the time
    the message was composed, not something the guide's inputs decide)."""
    found = {}
    for path in sorted(outbox.glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert msg["Date"].datetime is not None, path
        parts = {}
        for part in msg.walk():
            if part.is_multipart():
                continue
            key = part.get_filename() or part.get_content_type()
            parts[key] = part.get_payload(decode=True)
        headers = {k: str(msg[k]) for k in ("From", "To", "Subject", "Message-ID")}
        found[path.stem] = {"headers": headers, "parts": parts}
    return found


def test_email_after_build_attaches_the_built_guides_without_weasyprint(
        project, built, blocker, tmp_path):
    done = run(["email", "data/athletes.csv", "--outbox", tmp_path / "attached", "--out",
                built], project, block_weasyprint=blocker)
    assert done.returncode == 0, done.stderr
    assert not (blocker / "imported").exists(), "email imported WeasyPrint after a build"
    assert f"guides: {ROWS} attached as built, 0 rendered" in done.stderr

    # the same messages as when email renders every guide itself (no guide built; the plan
    # pages are there, so the messages link to them as after the build)
    shutil.copytree(built / "site" / "plans", tmp_path / "nothing-built" / "site" / "plans")
    fresh = run(["email", "data/athletes.csv", "--outbox", tmp_path / "rendered", "--out",
                 tmp_path / "nothing-built"], project)
    assert fresh.returncode == 0, fresh.stderr
    assert f"guides: 0 attached as built, {ROWS} rendered" in fresh.stderr
    assert "guide not built: rendered for this message" in fresh.stdout
    attached, rendered = messages(tmp_path / "attached"), messages(tmp_path / "rendered")
    assert len(attached) == ROWS
    assert attached == rendered
    # dated when composed, although SOURCE_DATE_EPOCH (2026-09-21) was set for the run
    for path in (tmp_path / "attached").glob("*.eml"):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert abs(msg["Date"].datetime - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=10)
    for message in attached.values():
        text = message["parts"]["text/plain"].decode()
        assert "/plans/" in text and "webcal://" in text, "the runner's plan link"
        pdf = next(v for k, v in message["parts"].items() if k.endswith(".pdf"))
        ics = next(v for k, v in message["parts"].items() if k.endswith(".ics"))
        athlete_id = next(k for k in message["parts"] if k.endswith(".pdf"))[:-4]
        brand = "harbour" if athlete_id.startswith("hb-") else "summit"
        assert pdf == (built / "guides" / brand / f"{athlete_id}.pdf").read_bytes()
        assert ics == (built / "guides" / brand / f"{athlete_id}.ics").read_bytes()


def test_a_stale_or_altered_guide_is_rendered_again_and_said_so(project, built, tmp_path):
    roster = (project / "data" / "athletes.csv").read_text(encoding="utf-8").splitlines()
    header, first, second = roster[0], roster[1], roster[2]
    first_id, second_id = first.split(",")[0], second.split(",")[0]
    # first runner: another race name (stale inputs); second: a PDF changed on disk
    stale = first.replace("Solent Coastal Marathon", "Solent Coastal Marathon II")
    assert stale != first
    changed = tmp_path / "changed.csv"
    changed.write_text("\n".join([header, stale, second]) + "\n", encoding="utf-8")
    pdf = built / "guides" / "harbour" / f"{second_id}.pdf"
    original = pdf.read_bytes()
    pdf.write_bytes(original + b"\n% edited\n")
    try:
        done = run(["email", changed, "--outbox", tmp_path / "box", "--out", built], project)
    finally:
        pdf.write_bytes(original)
    assert done.returncode == 0, done.stderr
    assert "guides: 0 attached as built, 2 rendered" in done.stderr
    assert (f"{first_id}  guide stale (its inputs changed since it was built): rendered"
            in done.stdout)
    assert f"guides/harbour/{second_id}.pdf changed since it was built: rendered" in (
        done.stdout)
    # the message carries the freshly rendered guide, not the edited file
    attached = messages(tmp_path / "box")[second_id]["parts"][f"{second_id}.pdf"]
    assert attached == original
