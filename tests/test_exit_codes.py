"""Exit codes as documented, for every command that reads a roster.

2 when nothing could be built (the roster file is missing, has only a header, or no valid
row), 1 when some rows failed (the rest was built), 0 otherwise. A missing roster file is
one located line (``path: roster file not found``), never a traceback, and never prunes
what an earlier build wrote.
"""

from __future__ import annotations

import json

import pytest

ROSTER = "data/athletes.csv"
HEADER = "id,name,email,race_name,race_date,training_start,massage_frequency,long_run_day"
GOOD = "ada-01,Ada Lovelace,,Scratch Marathon,2027-04-18,2027-01-03,weekly,sun"  # no email:
BAD = "x-09,Xavier,,Scratch Marathon,2027-02-30,,,"  # `email` skips her, renders nothing
ENV = {"GUIDEGEN_PLAN_SECRET": "exit-codes-secret-0123456789"}

ROSTERS: dict[str, str | None] = {
    "missing": None,
    "header-only": HEADER + "\n",
    "no-valid-row": f"{HEADER}\n{BAD}\n",
    "some-rows-failed": f"{HEADER}\n{GOOD}\n{BAD}\n",
    "all-good": f"{HEADER}\n{GOOD}\n",
}
EXPECTED = {"missing": 2, "header-only": 2, "no-valid-row": 2, "some-rows-failed": 1,
            "all-good": 0}
COMMANDS = {
    "check": ["check", ROSTER],
    "timeline": ["timeline", ROSTER, "--json"],
    "guide": ["guide", ROSTER, "--id", "ada-01", "--format", "ics", "-o", "ada.ics"],
    "batch": ["batch", ROSTER, "--formats", "ics", "-j", "1", "--out", "out"],
    "build": ["build", "-j", "1", "--out", "out"],  # the roster of guidegen.toml
    "email": ["email", ROSTER, "--outbox", "outbox", "--out", "out"],
}
# what each command prints besides problems: its closing summary line
SUMMARY = ("guides: ", "email ", "site: ", "nothing to build")


def problem_lines(result) -> list[str]:
    return [line for line in result.stderr_lines
            if not line.startswith(SUMMARY) and " modules, " not in line
            and not line.startswith("wrote ")]


def no_traceback(result) -> None:
    assert result.exception is None, repr(result.exception)
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize("case", ROSTERS)
@pytest.mark.parametrize("command", COMMANDS)
def test_exit_code(run_cli, scratch_project, command, case):
    root = scratch_project({ROSTER: ROSTERS[case]}, copy=("templates",))
    result = run_cli(COMMANDS[command], cwd=root, env=ENV)
    no_traceback(result)
    assert result.exit_code == EXPECTED[case], result.stderr
    lines = problem_lines(result)
    if case == "missing":
        assert lines == [f"{ROSTER}: roster file not found"
                         + (" (the 'roster' of guidegen.toml)" if command == "build" else "")]
    elif case == "header-only":
        assert lines == [f"{ROSTER}: roster has no athletes (header only)"], result.stderr
    elif case in ("no-valid-row", "some-rows-failed"):
        assert lines == [f"{ROSTER}:3: race_date: 2027-02-30 is not a real calendar date"
                         if case == "some-rows-failed" else
                         f"{ROSTER}:2: race_date: 2027-02-30 is not a real calendar date"]
    else:
        assert lines == [], result.stderr


def test_check_without_a_roster_is_0_and_with_a_missing_one_2(run_cli, scratch_project):
    root = scratch_project({ROSTER: None})
    assert run_cli(["check"], cwd=root).exit_code == 0
    result = run_cli(["check", "nope.csv"], cwd=root)
    assert result.exit_code == 2
    assert result.stderr_lines[0] == "nope.csv: roster file not found"


def test_timeline_json_prints_nothing_when_nothing_could_be_planned(run_cli, scratch_project):
    root = scratch_project({ROSTER: ROSTERS["no-valid-row"]})
    result = run_cli(["timeline", ROSTER, "--json"], cwd=root)
    assert result.exit_code == 2 and result.stdout == ""


@pytest.mark.parametrize("command", ["timeline", "guide"])
def test_an_id_whose_row_is_bad_shows_the_row_then_the_missing_id(run_cli, scratch_project,
                                                                     command):
    root = scratch_project({ROSTER: ROSTERS["some-rows-failed"]})
    result = run_cli([command, ROSTER, "--id", "x-09"], cwd=root)
    assert result.exit_code == 2
    assert result.stderr_lines == [
        f"{ROSTER}:3: race_date: 2027-02-30 is not a real calendar date",
        f"{ROSTER}: no valid athlete with id 'x-09'"]
    no_traceback(result)


def test_a_missing_roster_leaves_earlier_guides_alone(run_cli, scratch_project):
    root = scratch_project({ROSTER: ROSTERS["all-good"]})
    first = run_cli(COMMANDS["batch"], cwd=root)
    assert first.exit_code == 0, first.stderr
    built = sorted((root / "out").rglob("*.ics"))
    assert [p.name for p in built] == ["ada-01.ics"]
    (root / ROSTER).unlink()
    report = root / "report.json"
    result = run_cli([*COMMANDS["batch"], "--report", report], cwd=root)
    assert result.exit_code == 2
    assert result.stderr_lines == [f"{ROSTER}: roster file not found"]
    assert sorted((root / "out").rglob("*.ics")) == built, "nothing was pruned"
    data = json.loads(report.read_text(encoding="utf-8"))
    assert (data["command"], data["errors"]) == ("batch", 1)
    assert data["problems"][0]["message"] == "roster file not found"


def test_a_roster_with_no_valid_row_leaves_earlier_guides_alone(run_cli, scratch_project):
    root = scratch_project({ROSTER: ROSTERS["all-good"]})
    assert run_cli(COMMANDS["batch"], cwd=root).exit_code == 0
    (root / ROSTER).write_text(ROSTERS["header-only"], encoding="utf-8")
    result = run_cli(COMMANDS["batch"], cwd=root)
    assert result.exit_code == 2
    assert [p.name for p in (root / "out").rglob("*.ics")] == ["ada-01.ics"]
