"""`guidegen check` and `guidegen timeline`: one located line per problem, exit 0/1/2."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

SUMMARY_RE = re.compile(r"^(\d+) (modules?), (\d+) (brands?)(?:, (\d+) (athletes?))?: "
                        r"(\d+) (errors?), (\d+) (warnings?)$")

BROKEN_MODULE = "---\ntitle: Broken\norder: soon\n---\nBody.\n"
BAD_BRAND = """\
name = "Second Clinic"
logo = "logo.svg"
timezone = "Europe/London"
open_days = ["mon", "tue"]
appointment_time = "09:00"
booking_url = "https://second.example/book"
address = "2 Test Street"
legal_footer = "Second Clinic (fictional)."

[colors]
primary = "teal"
accent = "#f2a541"
"""


def _summary(result) -> tuple[int, ...]:
    """(modules, brands, athletes, errors, warnings) from check's last stderr line."""
    match = SUMMARY_RE.match(result.stderr_lines[-1])
    assert match, result.stderr
    groups = match.groups()
    for number, noun in zip(groups[::2], groups[1::2], strict=True):  # "1 brand", "2 brands"
        assert number is None or noun.endswith("s") == (number != "1"), result.stderr
    return tuple(int(g) if g is not None else -1 for g in groups[::2])


def _no_traceback(result) -> None:
    assert result.exception is None, result.exception
    assert "Traceback" not in result.stderr + result.stdout


# ------------------------------------------------------------------ the example project

def test_check_passes_on_the_example_project(run_cli, example_root):
    result = run_cli(["check", "data/athletes.csv"], cwd=example_root)
    assert result.exit_code == 0, result.stderr
    modules, brands, athletes, errors, _ = _summary(result)
    assert modules >= 7 and brands == 2 and athletes == 18 and errors == 0
    _no_traceback(result)


def test_check_without_roster_validates_content_and_brands(run_cli, example_root):
    result = run_cli(["check"], cwd=example_root)
    assert result.exit_code == 0, result.stderr
    assert re.match(r"^\d+ modules, 2 brands: 0 errors, \d+ warnings$", result.stderr_lines[-1])


# ------------------------------------------------------------------ scratch projects

def test_check_passes_on_a_fresh_scratch_project(run_cli, scratch_project):
    result = run_cli(["check", "data/athletes.csv"], cwd=scratch_project())
    assert result.exit_code == 0, result.stderr
    assert result.stderr_lines == ["2 modules, 1 brand, 2 athletes: 0 errors, 0 warnings"]


def test_broken_front_matter_is_one_located_line_and_exit_1(run_cli, scratch_project):
    root = scratch_project({"content/broken.md": BROKEN_MODULE})
    result = run_cli(["check", "data/athletes.csv"], cwd=root)
    assert result.exit_code == 1
    problems = result.stderr_lines[:-1]
    assert len(problems) == 1
    assert problems[0].startswith("content/broken.md:3: order: ")
    assert _summary(result) == (2, 1, 2, 1, 0)  # the two good modules and both athletes load
    _no_traceback(result)


def test_bad_roster_row_is_one_located_line_and_exit_1(run_cli, scratch_project):
    roster = scratch_project.defaults["data/athletes.csv"] + (
        "cy-03,Cy Twain,cy@example.com,Scratch Marathon,2027-04-31,,,,\n"
        "di-04,Di,,Scratch Marathon,2027-04-25,,weekly,sun,\n"
    )
    root = scratch_project({"data/athletes.csv": roster})
    result = run_cli(["check", "data/athletes.csv"], cwd=root)
    assert result.exit_code == 1
    assert result.stderr_lines[:-1] == [
        "data/athletes.csv:4: race_date: 2027-04-31 is not a real calendar date"]
    assert _summary(result) == (2, 1, 3, 1, 0)
    _no_traceback(result)


def test_a_bad_email_is_a_warning_at_its_row_and_the_runner_stays(run_cli, scratch_project):
    roster = scratch_project.defaults["data/athletes.csv"] + (
        "cy-03,Cy Twain,cy@example,Scratch Marathon,2027-04-18,,,,\n")
    root = scratch_project({"data/athletes.csv": roster})
    result = run_cli(["check", "data/athletes.csv"], cwd=root)
    assert result.exit_code == 0, result.stderr
    assert result.stderr_lines[:-1] == [
        "data/athletes.csv:4: warning: email: 'cy@example' is not a valid address; the guide "
        "is built, no email will be sent"]
    assert _summary(result) == (2, 1, 3, 0, 1)
    assert run_cli(["check", "--strict", "data/athletes.csv"], cwd=root).exit_code == 1


def test_bad_brand_is_one_located_line_and_exit_1(run_cli, scratch_project):
    root = scratch_project({
        "brands/second/brand.toml": BAD_BRAND,
        "brands/second/logo.svg": scratch_project.defaults["brands/clinic/logo.svg"],
    })
    result = run_cli(["check", "data/athletes.csv"], cwd=root)
    assert result.exit_code == 1
    assert len(result.stderr_lines) == 2
    assert result.stderr_lines[0].startswith("brands/second/brand.toml:11: colors.primary: ")
    assert "'teal'" in result.stderr_lines[0]
    assert _summary(result) == (2, 1, 2, 1, 0)  # the default brand and its athletes still load


def test_every_kind_of_problem_is_reported_in_one_run(run_cli, scratch_project):
    roster = scratch_project.defaults["data/athletes.csv"] + "x-3,X,,M,2027-02-30,,,,\n"
    root = scratch_project({
        "content/broken.md": BROKEN_MODULE,
        "brands/second/brand.toml": BAD_BRAND,
        "brands/second/logo.svg": scratch_project.defaults["brands/clinic/logo.svg"],
        "data/athletes.csv": roster,
    })
    result = run_cli(["check", "data/athletes.csv"], cwd=root)
    assert result.exit_code == 1
    prefixes = sorted(line.split(" ", 1)[0] for line in result.stderr_lines[:-1])
    assert prefixes == ["brands/second/brand.toml:11:", "content/broken.md:3:",
                        "data/athletes.csv:4:"]
    assert _summary(result) == (2, 1, 2, 3, 0)


def test_athlete_of_a_brand_that_failed_to_load_is_reported_not_planned(run_cli,
                                                                        scratch_project):
    roster = (
        "id,name,race_name,race_date,brand\n"
        "ada-01,Ada Lovelace,Scratch Marathon,2027-04-18,second\n"
        "bo-02,Bo Chen,Scratch Marathon,2027-04-18,\n"
    )
    root = scratch_project({
        "brands/second/brand.toml": BAD_BRAND,
        "brands/second/logo.svg": scratch_project.defaults["brands/clinic/logo.svg"],
        "data/athletes.csv": roster,
    })
    result = run_cli(["check", "data/athletes.csv"], cwd=root)
    assert result.exit_code == 1
    lines = result.stderr_lines[:-1]
    assert lines[0].startswith("brands/second/brand.toml:11: colors.primary: ")
    assert lines[1].startswith("data/athletes.csv:2: brand: unknown brand 'second'")
    assert len(lines) == 2
    assert _summary(result) == (2, 1, 1, 2, 0)


def test_warnings_pass_but_fail_with_strict(run_cli, scratch_project):
    roster = scratch_project.defaults["data/athletes.csv"].replace(
        "focus_areas\n", "focus_areas,shoe\n", 1).replace("calves\n", "calves,44\n").replace(
        "sat,\n", "sat,,\n")
    root = scratch_project({"data/athletes.csv": roster})
    relaxed = run_cli(["check", "data/athletes.csv"], cwd=root)
    assert relaxed.exit_code == 0, relaxed.stderr
    assert relaxed.stderr_lines[0].startswith("data/athletes.csv:1: warning: unknown column")
    assert _summary(relaxed) == (2, 1, 2, 0, 1)
    strict = run_cli(["check", "--strict", "data/athletes.csv"], cwd=root)
    assert strict.exit_code == 1


def test_missing_guidegen_toml_exits_2_with_one_line_and_no_traceback(run_cli, tmp_path):
    result = run_cli(["check"], cwd=tmp_path)
    assert result.exit_code == 2
    assert len(result.stderr_lines) == 1
    assert result.stderr_lines[0].startswith("guidegen.toml: no guidegen.toml here")
    _no_traceback(result)


def test_missing_guidegen_toml_has_no_traceback_from_the_real_script(tmp_path):
    script = Path(sys.executable).with_name("guidegen")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "generator"]
    proc = subprocess.run([*cmd, "check"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("guidegen.toml: ")


def test_project_option_points_at_another_folder(run_cli, scratch_project, tmp_path):
    root = scratch_project()
    result = run_cli(["--project", str(root), "check"], cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert result.stderr_lines == ["2 modules, 1 brand: 0 errors, 0 warnings"]


def test_invalid_guidegen_toml_exits_2_with_the_located_line(run_cli, scratch_project):
    root = scratch_project({"guidegen.toml": '[project]\ntitle = "T"\ndefault_brand = 3\n'})
    result = run_cli(["check"], cwd=root)
    assert result.exit_code == 2
    assert result.stderr_lines[0].startswith("guidegen.toml:3: project.default_brand: ")
    _no_traceback(result)


def test_project_with_no_valid_module_exits_2(run_cli, scratch_project):
    root = scratch_project({"content/training.md": BROKEN_MODULE,
                            "content/race-days.md": None})
    result = run_cli(["check"], cwd=root)
    assert result.exit_code == 2
    assert result.stderr_lines[0].startswith("content/training.md:3: ")


# ------------------------------------------------------------------ timeline

def test_timeline_json_parses_and_has_one_plan_per_athlete(run_cli, scratch_project):
    result = run_cli(["timeline", "data/athletes.csv", "--json"], cwd=scratch_project())
    assert result.exit_code == 0, result.stderr
    plans = json.loads(result.stdout)
    assert [p["id"] for p in plans] == ["ada-01", "bo-02"]
    ada = plans[0]
    assert {"id", "sessions", "phases", "warnings"} <= set(ada)
    kinds = [s["kind"] for s in ada["sessions"]]
    assert kinds.count("race") == 1 and kinds.count("pre-race") == 1
    assert kinds.count("post-race") == 1 and kinds.count("maintenance") >= 10
    assert ada["sessions"][0]["date"] == "2027-01-04"  # the Monday after the first long run


def test_timeline_id_selects_one_athlete(run_cli, scratch_project):
    result = run_cli(["timeline", "data/athletes.csv", "--json", "--id", "bo-02"],
                     cwd=scratch_project())
    assert result.exit_code == 0, result.stderr
    assert [p["id"] for p in json.loads(result.stdout)] == ["bo-02"]


def test_timeline_unknown_id_exits_non_zero_with_a_clear_message(run_cli, scratch_project):
    result = run_cli(["timeline", "data/athletes.csv", "--id", "nobody"],
                     cwd=scratch_project())
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr_lines == ["data/athletes.csv: no valid athlete with id 'nobody'"]
    _no_traceback(result)


def test_timeline_json_stdout_stays_parseable_when_rows_are_bad(run_cli, scratch_project):
    roster = scratch_project.defaults["data/athletes.csv"] + "x-3,X,,M,2027-02-30,,,,\n"
    result = run_cli(["timeline", "data/athletes.csv", "--json"],
                     cwd=scratch_project({"data/athletes.csv": roster}))
    assert result.exit_code == 1
    assert [p["id"] for p in json.loads(result.stdout)] == ["ada-01", "bo-02"]
    assert result.stderr_lines == [
        "data/athletes.csv:4: race_date: 2027-02-30 is not a real calendar date"]


def test_timeline_table_names_the_athlete(run_cli, scratch_project):
    result = run_cli(["timeline", "data/athletes.csv", "--id", "ada-01"],
                     cwd=scratch_project())
    assert result.exit_code == 0, result.stderr
    assert "Ada Lovelace" in result.stdout and "Scratch Marathon" in result.stdout
