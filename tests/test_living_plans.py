"""Issue 14: calendars that follow changes, "What changed", and the runner's link.

A race moved by a week: every moved event keeps its UID and gets SEQUENCE + 1 and a new
DTSTAMP; the guide, the plan page and the email open with "What changed" (old -> new);
a rebuild without changes is byte-identical; a session that leaves the plan is published
as cancelled. The runner's private URL is in the email, in ``guidegen plans`` and, with a
webcal:// subscription, on the plan page."""

from __future__ import annotations

import email
import email.policy
import json

import icalendar
import pytest

from tests.conftest import copy_example

SECRET = "living-plans-secret-0123456789"
FIRST, SECOND = "1790000000", "1791000000"  # 2026-09-21, 2026-10-03 (UTC)
ZOE = "hb-zoe-01"


def events(path) -> dict[str, icalendar.Event]:
    cal = icalendar.Calendar.from_ical(path.read_bytes())
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def move_race(root, old: str, new: str) -> None:
    roster = root / "data/athletes.csv"
    text = roster.read_text(encoding="utf-8")
    assert old in text
    roster.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture(scope="module")
def moved(tmp_path_factory):
    """One runner built, then her race moved a week later and built again."""
    from tests.conftest import invoke_cli

    root = copy_example(tmp_path_factory.mktemp("living"), athletes=[ZOE])
    env = {"GUIDEGEN_PLAN_SECRET": SECRET, "SOURCE_DATE_EPOCH": FIRST}
    first = invoke_cli(["build", "--out", "out", "-j", "1"], root, env)
    assert first.exit_code == 0, first.stderr
    ics = root / "out/guides/harbour" / f"{ZOE}.ics"
    before = ics.read_bytes()
    outbox1 = invoke_cli(["email", "data/athletes.csv", "--outbox", "outbox1", "--out", "out"],
                         root, env)
    assert outbox1.exit_code == 0, outbox1.stderr
    move_race(root, "2027-04-18", "2027-04-25")
    env["SOURCE_DATE_EPOCH"] = SECOND
    second = invoke_cli(["build", "--out", "out", "-j", "1"], root, env)
    assert second.exit_code == 0, second.stderr
    after = ics.read_bytes()
    again = invoke_cli(["build", "--out", "out", "-j", "1"], root, env)
    assert again.exit_code == 0, again.stderr
    outbox2 = invoke_cli(["email", "data/athletes.csv", "--outbox", "outbox2", "--out", "out"],
                         root, env)
    assert outbox2.exit_code == 0, outbox2.stderr
    return root, before, after, again


def test_moved_events_keep_their_uid_and_bump_sequence(moved, tmp_path):
    root, before, after, _ = moved
    (tmp_path / "a.ics").write_bytes(before)
    (tmp_path / "b.ics").write_bytes(after)
    old, new = events(tmp_path / "a.ics"), events(tmp_path / "b.ics")
    assert set(old) <= set(new), "no UID is lost"
    assert all(int(e["SEQUENCE"]) == 0 for e in old.values())
    moved_uids = [uid for uid in old
                  if old[uid].decoded("DTSTART") != new[uid].decoded("DTSTART")]
    # the race, the pre- and post-race sessions and every maintenance session moved
    assert f"{ZOE}.race.0@harbour.guidegen" in moved_uids
    assert f"{ZOE}.pre-race.0@harbour.guidegen" in moved_uids
    assert len(moved_uids) >= 10
    for uid, event in new.items():
        if uid in moved_uids:
            assert int(event["SEQUENCE"]) == 1, uid
            assert event.decoded("DTSTAMP") > old[uid].decoded("DTSTAMP"), uid
            assert str(event["STATUS"]) == "CONFIRMED"
        elif uid in old:
            assert int(event["SEQUENCE"]) == 0, uid
            assert event.decoded("DTSTAMP") == old[uid].decoded("DTSTAMP"), uid


def test_a_rebuild_without_changes_is_byte_identical(moved):
    root, _, after, again = moved
    assert "0 built" in again.stderr or "unchanged" in again.stderr, again.stderr
    assert (root / "out/guides/harbour" / f"{ZOE}.ics").read_bytes() == after
    state = json.loads((root / "out/manifest.json").read_text(encoding="utf-8"))["state"]
    assert state[ZOE]["issued"] == "2026-09-21"  # GUIDEGEN_AS_OF of the first build
    assert {c["what"] for c in state[ZOE]["changes"]} >= {"moved"}


def test_guide_plan_page_and_email_say_what_changed(moved):
    root = moved[0]
    html = (root / "out/guides/harbour" / f"{ZOE}.html").read_text(encoding="utf-8")
    assert "What changed" in html
    assert "Sunday, 18 April 2027</del> → <ins>Sunday, 25 April 2027" in html
    pages = list((root / "out/site/plans").glob("*/index.html"))
    assert len(pages) == 1 and "What changed" in pages[0].read_text(encoding="utf-8")
    first = (root / "outbox1" / f"{ZOE}.eml").read_bytes()
    assert b"What changed" not in first  # the first issue: nothing changed yet
    msg = email.message_from_bytes((root / "outbox2" / f"{ZOE}.eml").read_bytes(),
                                   policy=email.policy.default)
    text = msg.get_body(("plain",)).get_content()
    assert "What changed in your plan:" in text
    assert "Race day: Sunday, 18 April 2027 → Sunday, 25 April 2027" in text
    html_body = msg.get_body(("html",)).get_content()
    assert "/plans/" in html_body


def test_the_runner_link_in_email_plans_command_and_plan_page(moved, run_cli):
    root = moved[0]
    result = run_cli(["plans", "--json"], cwd=root, env={"GUIDEGEN_PLAN_SECRET": SECRET})
    assert result.exit_code == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert row["id"] == ZOE and row["name"] == "Zoë Ó Briain"
    token = row["url"].rstrip("/").rsplit("/", 1)[1]
    assert row["url"] == f"https://guides.harbour-sports-therapy.example/plans/{token}/"
    assert row["webcal"] == f"webcal://guides.harbour-sports-therapy.example/plans/{token}/plan.ics"
    page = (root / "out/site/plans" / token / "index.html").read_text(encoding="utf-8")
    assert f'href="{row["webcal"]}"' in page
    text = run_cli(["plans"], cwd=root, env={"GUIDEGEN_PLAN_SECRET": SECRET}).stdout
    assert text == f"{ZOE}\tZoë Ó Briain\t{row['url']}\n"
    msg = email.message_from_bytes((root / "outbox1" / f"{ZOE}.eml").read_bytes(),
                                   policy=email.policy.default)
    body = msg.get_body(("plain",)).get_content()
    assert row["url"] in body and row["webcal"] in body


def test_a_session_that_leaves_the_plan_is_published_as_cancelled(tmp_path, run_cli):
    root = copy_example(tmp_path, athletes=[ZOE])
    env = {"SOURCE_DATE_EPOCH": FIRST}
    args = ["batch", "data/athletes.csv", "--formats", "ics", "-j", "1", "--out", "out"]
    assert run_cli(args, cwd=root, env=env).exit_code == 0
    ics = root / "out/guides/harbour" / f"{ZOE}.ics"
    first = events(ics)
    post = next(e for uid, e in first.items() if ".post-race." in uid)
    when = post.decoded("DTSTART").date().isoformat()
    (root / "appointments.csv").write_text(f"id,date,time,kind,status\n"
                                           f"{ZOE},{when},,post-race,cancelled\n",
                                           encoding="utf-8")
    result = run_cli([*args, "--appointments", "appointments.csv"], cwd=root,
                     env={"SOURCE_DATE_EPOCH": SECOND})
    assert result.exit_code == 0, result.stderr
    gone = events(ics)[str(post["UID"])]
    assert str(gone["STATUS"]) == "CANCELLED" and int(gone["SEQUENCE"]) == 1
    assert gone.decoded("DTSTART") == post.decoded("DTSTART")
