"""Personal data: expiry of plan pages and guides, ``guidegen privacy``'s inventory, and
runners named only by id and row in console output, ``--report`` files and the public site.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import SCRATCH_FILES, SCRATCH_TOML, copy_example, invoke_cli

from generator.publish.plans import plan_token

SECRET = "privacy-tests-secret-0123456789"
ENV = {"GUIDEGEN_PLAN_SECRET": SECRET, "SOURCE_DATE_EPOCH": "1790000000"}
BRAND = SCRATCH_FILES["brands/clinic/brand.toml"] + '\n[contact]\nemail = "hello@scratch.example"\n'
HEADER = "id,name,email,race_name,race_date,notes\n"


def project(root: Path, roster: str, toml: str = "") -> Path:
    files = {**SCRATCH_FILES, "brands/clinic/brand.toml": BRAND, "data/athletes.csv": roster,
             "guidegen.toml": SCRATCH_TOML + toml}
    return copy_example(root, ("templates",), files=files)


def token(athlete_id: str) -> str:
    return plan_token(SECRET.encode(), athlete_id)


# ------------------------------------------------------------------ the expiry rule

def test_a_race_expires_the_day_after_its_last_kept_day():
    from generator.load.athlete import Athlete
    from generator.privacy import expired

    race = Athlete(id="a-01", name="A", race_name="R", race_date="2030-05-01")
    last_kept = dt.date(2030, 5, 1) + dt.timedelta(days=60)
    assert expired([race], 60, last_kept) == set()
    assert expired([race], 60, last_kept + dt.timedelta(days=1)) == {"a-01"}
    assert expired([race], 0, dt.date(2999, 1, 1)) == set()  # 0: kept while in the roster


def test_retention_keys_are_checked_and_never_change_a_guides_input_digest(tmp_path):
    from generator.core.errors import ConfigError
    from generator.load.project import load_project

    plain = load_project(project(tmp_path / "a", HEADER))
    kept = load_project(project(tmp_path / "b", HEADER, "\n[plans]\nkeep_days_after_race = 5\n"
                                "\n[guides]\nkeep_days_after_race = 400\n"))
    assert plain.config.plans.keep_days_after_race == 60
    assert plain.config.guides.keep_days_after_race == 0
    assert (kept.config.plans.keep_days_after_race, kept.config.guides.keep_days_after_race) \
        == (5, 400)
    # no rebuild, no "changed" email when only the retention changes
    assert plain.config.model_dump_json() == kept.config.model_dump_json()
    with pytest.raises(ConfigError) as bad:
        load_project(project(tmp_path / "c", HEADER, "\n[guides]\nkeep_days_after_race = -1\n"))
    assert "keep_days_after_race" in str(bad.value) and "guidegen.toml:" in str(bad.value)


# ------------------------------------------------------------------ expiry in build

OLD, NEW = "old-01", "new-02"
EXPIRY_ROSTER = (HEADER + f"{OLD},Old Runner,,Past Marathon,2020-03-01,\n"
                 f"{NEW},New Runner,,Future Marathon,2098-04-19,\n")


def manifest_files(out: Path) -> dict[str, list[str]]:
    data = json.loads((out / "manifest.json").read_text())
    return {k: sorted(v["files"]) for k, v in data["outputs"].items()}


def test_build_removes_plan_pages_of_old_races_and_then_guides_when_asked(tmp_path,
                                                                        monkeypatch):
    from generator.build import BuildOptions, build
    from generator.core.context import BuildContext
    from generator.load.project import load_project

    root = project(tmp_path / "p", EXPIRY_ROSTER)
    out = root / "output"
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    # before the old race expired: both runners have a page
    before = build(load_project(root), out, BuildOptions(
        roster=root / "data/athletes.csv", plan_pages=True, jobs=1,
        # both plans issued before the old race; expiry counted the day after it
        context=BuildContext.from_env(as_of=dt.date(2020, 2, 1)), today=dt.date(2020, 3, 2)))
    assert before.plan_pages == 2 and before.plans_expired == 0
    assert {token(OLD), token(NEW)} <= {p.name for p in (out / "site/plans").iterdir()}

    # today: the 2020 race is long past ([plans] keep_days_after_race defaults to 60)
    run = invoke_cli(["build", "--jobs", "1", "--report", "r.json"], cwd=root, env=ENV)
    assert run.exit_code == 0, run.stderr
    assert run.stderr_lines[-1].endswith("; 1 plan pages, 1 plan pages expired")
    assert "guides: 1 built, 1 unchanged, 0 failed, 0 removed in" in run.stderr
    assert not (out / "site/plans" / token(OLD)).exists()
    assert (out / "site/plans" / token(NEW) / "index.html").is_file()
    assert sorted(p.name for p in (out / "guides/clinic").glob(f"{OLD}.*")) == [
        f"{OLD}.html", f"{OLD}.ics", f"{OLD}.pdf"]  # the clinic's guides stay
    files = manifest_files(out)
    assert files[OLD] == [f"guides/clinic/{OLD}.{f}" for f in ("html", "ics", "pdf")]
    assert any(f.startswith("site/plans/") for f in files[NEW])
    summary = json.loads((root / "r.json").read_text())["summary"]
    assert (summary["plan_pages"], summary["plans_expired"], summary["plans_removed"]) == (1, 1, 0)

    again = invoke_cli(["build", "--jobs", "1"], cwd=root, env=ENV)
    assert "guides: 0 built, 2 unchanged" in again.stderr
    assert again.stderr_lines[-1].endswith("; 1 plan pages, 0 plan pages expired")

    # [guides] keep_days_after_race: the old runner's files go, nothing else is rebuilt
    toml = root / "guidegen.toml"
    toml.write_text(toml.read_text() + "\n[guides]\nkeep_days_after_race = 365\n")
    run = invoke_cli(["build", "--jobs", "1"], cwd=root, env=ENV)
    assert run.exit_code == 0, run.stderr
    assert "guides: 0 built, 1 unchanged, 0 failed, 0 removed, 1 expired in" in run.stderr
    assert list((out / "guides").rglob(f"{OLD}.*")) == []
    assert sorted(manifest_files(out)) == [NEW]
    batch = invoke_cli(["batch", "data/athletes.csv", "--jobs", "1"], cwd=root, env=ENV)
    assert batch.exit_code == 0 and "expired" not in batch.stderr  # nothing left of it
    assert list((out / "guides").rglob(f"{OLD}.*")) == []


def test_expired_guides_are_removed_even_when_the_manifest_lost_track(tmp_path, monkeypatch):
    from generator.build import BuildOptions, build
    from generator.load.project import load_project

    root = project(tmp_path / "p", EXPIRY_ROSTER, "\n[plans]\nenabled = false\n"
                   "\n[guides]\nkeep_days_after_race = 30\n")
    out = root / "output"
    stray = [out / "guides" / brand / f"{OLD}.{fmt}" for brand in ("clinic", "renamed")
             for fmt in ("pdf", "html")]
    for path in stray:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("an earlier build's guide")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", ENV["SOURCE_DATE_EPOCH"])
    report = build(load_project(root), out, BuildOptions(
        site=False, roster=root / "data/athletes.csv", formats=("html",), jobs=1,
        today=dt.date(2026, 1, 1)))
    assert report.guides.expired == 1 and report.guides.removed == 0
    assert not any(p.exists() for p in stray)
    assert not (out / "guides" / "renamed").exists()
    assert (out / "guides/clinic" / f"{NEW}.html").is_file()


# ------------------------------------------------------------------ canaries

CANARY = "qxcanary"  # in every personal field of the roster below, nowhere else
CANARY_ROSTER = (
    HEADER
    + "ca-01,Qxcanaryname Ada,qxcanary.ada@example.com,Qxcanaryrace Marathon,2098-04-19,"
      "Qxcanarynotes: left calf\n"
    + "cb-02,Qxcanaryname Bo,qxcanary.bo@example.com,Qxcanaryrace Marathon,2098-04-19,\n"
    + "cc-03,Qxcanaryname Cy,,Qxcanaryrace Half,2098-05-10,Qxcanarynotes too\n"
    + "cd-04,Qxcanaryname Bad,qxcanary.bad@example.com,Qxcanaryrace Marathon,2098-02-30,"
      "Qxcanarynotes bad row\n")


@pytest.fixture(scope="module")
def canary(tmp_path_factory):
    """One project whose roster holds a canary in every personal field, built, batched,
    checked, previewed by email and inventoried; every console output and report kept."""
    root = project(tmp_path_factory.mktemp("canary"), CANARY_ROSTER)
    runs = {}
    for name, args in {
        "build": ["build", "--jobs", "1", "--report", "build.json"],
        "batch": ["batch", "data/athletes.csv", "--out", "batch-out", "--jobs", "1",
                  "--report", "batch.json"],
        "check": ["check", "data/athletes.csv", "--report", "check.json"],
        "email": ["email", "data/athletes.csv", "--outbox", "outbox", "--report", "email.json"],
        "privacy": ["privacy", "--outbox", "outbox"],
    }.items():
        runs[name] = invoke_cli(args, cwd=root, env=ENV, catch_exceptions=False)
    return root, runs


def test_console_and_reports_name_runners_by_id_and_row_only(canary):
    root, runs = canary
    assert runs["build"].exit_code == 1  # the bad row: located, the rest built
    assert "data/athletes.csv:5: race_date: " in runs["build"].stderr
    assert runs["email"].stdout.count("would send") == 2
    assert "skipped      cc-03  no email address" in runs["email"].stdout
    for name, run in runs.items():
        assert CANARY not in (run.stdout + run.stderr).lower(), name
    for report in ("build", "batch", "check", "email"):
        text = (root / f"{report}.json").read_text(encoding="utf-8")
        assert json.loads(text)["problems"], report  # not vacuous: the bad row is in it
        assert CANARY not in text.lower(), report


def test_the_public_site_holds_no_roster_field(canary):
    root, _ = canary
    site = root / "output" / "site"
    tokens = {token(i) for i in ("ca-01", "cb-02", "cc-03")}
    assert tokens <= {p.name for p in (site / "plans").iterdir()}
    public = [p for p in site.rglob("*") if p.is_file()
              and not (p.relative_to(site).parts[:1] == ("plans",)
                       and p.relative_to(site).parts[1] in tokens)]
    names = {p.relative_to(site).as_posix() for p in public}
    assert {"index.html", "feed.xml", "sitemap.xml", "robots.txt", "plans/index.html"} <= names
    for path in public:
        assert CANARY.encode() not in path.read_bytes().lower(), path
    # the state holds ids and digests only
    assert CANARY not in (root / "output/manifest.json").read_text().lower()
    # not vacuous: the private outputs do carry the runner's fields
    page = (site / "plans" / token("ca-01") / "index.html").read_text("utf-8")
    guide = (root / "output/guides/clinic/ca-01.html").read_text("utf-8")
    for text in (page, guide):
        assert "Qxcanaryname Ada" in text and "Qxcanarynotes: left calf" in text
    assert b"qxcanary.ada@example.com" in (root / "outbox" / "ca-01.eml").read_bytes()


# ------------------------------------------------------------------ guidegen privacy

def stores(run) -> dict[str, dict]:
    assert run.exit_code == 0, run.stderr
    return {s["kind"]: s for s in json.loads(run.stdout)}


def test_privacy_counts_match_the_stores(canary, tmp_path):
    from generator.deliver.sendlog import SendLog

    root = shutil.copytree(canary[0], tmp_path / "copy")
    out = root / "output"
    with SendLog(out / "sendlog.sqlite") as log:  # two runners, one of them twice
        for athlete_id, content in (("ca-01", "h1"), ("ca-01", "h2"), ("cb-02", "h1")):
            log.begin_attempt(athlete_id, content, f"{athlete_id}@example.com", "<m@x>")
    found = stores(invoke_cli(["privacy", "--outbox", "outbox", "--json"], cwd=root, env=ENV))
    assert list(found) == ["guides", "plan pages", "state", "send log", "outbox"]

    guides = [p for p in (out / "guides").rglob("*") if p.is_file()]
    folders = [p for p in (out / "site/plans").iterdir() if p.is_dir()]
    manifest = json.loads((out / "manifest.json").read_text())["outputs"]
    db = sqlite3.connect(out / "sendlog.sqlite")
    logged = db.execute("SELECT COUNT(DISTINCT athlete_id) FROM deliveries").fetchone()[0]
    db.close()
    outbox = list((root / "outbox").glob("*.eml"))
    expected = {
        "guides": (len({p.stem for p in guides}), len(guides)),
        "plan pages": (len(folders), sum(1 for f in folders for p in f.rglob("*")
                                         if p.is_file())),
        "state": (len(manifest), 1),
        "send log": (logged, 1),
        "outbox": (len(outbox), len(outbox)),
    }
    assert {k: (v["runners"], v["files"]) for k, v in found.items()} == expected
    assert expected == {"guides": (3, 9), "plan pages": (3, 9), "state": (3, 1),
                        "send log": (2, 1), "outbox": (2, 2)}
    assert "email" in found["send log"]["fields"] and "email" not in found["guides"]["fields"]
    assert "notes" in found["plan pages"]["fields"]
    assert "at most 60 days after their race" in found["plan pages"]["kept"]


def test_privacy_reads_only_and_says_where_data_leaves(tmp_path):
    root = project(tmp_path / "p", HEADER)
    run = invoke_cli(["privacy"], cwd=root, env=ENV)
    assert run.exit_code == 0, run.stderr
    lines = run.stdout.splitlines()
    assert [line.split()[0] for line in lines if line[:1].strip()][:5] == [
        "guides", "plan", "state", "send", "outbox"]
    assert "guides      0 runners, 0 files  output/guides" in run.stdout
    assert "outbox      not counted  (pass --outbox DIR)" in run.stdout
    assert "only by 'guidegen email'" in lines[-1]
    assert not (root / "output").exists()  # nothing created, not even the send log
