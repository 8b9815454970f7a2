"""Real dates on the site: a module page's sitemap ``lastmod``, its feed entry's ``updated``
and its JSON-LD ``dateModified`` come from the front matter's ``updated:`` or, in a git
checkout, from the last commit touching its file; the same for a given checkout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import etree, html

from generator.load.gitdates import last_commit_dates
from tests.conftest import invoke_cli

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
ATOM = "{http://www.w3.org/2005/Atom}"
BASE = "https://guides.scratch.example/"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(root: Path, *args: str, date: str | None = None) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "t@example.com",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    if date is not None:
        env.update(GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    subprocess.run(["git", "-C", str(root), *args], env=env, check=True, capture_output=True)


@pytest.fixture
def checkout(scratch_project) -> Path:
    """The scratch project as a git checkout: two commits, the second touching only
    content/race-days.md, its dates set (one not in UTC)."""
    root = scratch_project(copy=("templates",))
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "first", date="2027-01-02T10:00:00+01:00")
    path = root / "content" / "race-days.md"
    path.write_text(path.read_text() + "\nBring a warm layer.\n")
    git(root, "commit", "-qam", "race days", date="2027-02-03T18:30:00-05:00")
    return root


def site(root: Path, out: str = "out", env: dict | None = None) -> Path:
    result = invoke_cli(["site", "--out", out], cwd=root, env=env)
    assert result.exit_code == 0, result.stderr
    return root / out / "site"


def lastmods(folder: Path) -> dict[str, str | None]:
    doc = etree.parse(str(folder / "sitemap.xml"))
    return {u.findtext(f"{SM}loc"): u.findtext(f"{SM}lastmod") for u in doc.iter(f"{SM}url")}


def feed_dates(folder: Path) -> dict[str, str]:
    feed = etree.parse(str(folder / "feed.xml")).getroot()
    dates = {e.findtext(f"{ATOM}id"): e.findtext(f"{ATOM}updated")
             for e in feed.findall(f"{ATOM}entry")}
    return {"feed": feed.findtext(f"{ATOM}updated"), **dates}


def date_modified(folder: Path, slug: str) -> str:
    doc = html.parse(str(folder / slug / "index.html")).getroot()
    return json.loads(doc.xpath("//script[@type='application/ld+json']/text()")[0])[
        "dateModified"]


def test_module_dates_come_from_the_last_commit_touching_each_file(checkout):
    out = site(checkout)
    assert lastmods(out) == {
        BASE: "2027-02-03",  # the home page lists every module: the newest
        BASE + "training/": "2027-01-02",
        BASE + "race-days/": "2027-02-03",
        BASE + "about/": None,  # not a module: the build's date (none without the epoch)
    }
    assert feed_dates(out) == {
        "feed": "2027-02-03T23:30:00Z",
        BASE + "training/": "2027-01-02T09:00:00Z",
        BASE + "race-days/": "2027-02-03T23:30:00Z",
    }
    assert date_modified(out, "training") == "2027-01-02"
    assert date_modified(out, "race-days") == "2027-02-03"


def test_git_dates_are_the_same_for_a_checkout_and_ignore_uncommitted_edits(checkout):
    first = site(checkout, "one")
    path = checkout / "content" / "training.md"
    path.write_text(path.read_text() + "\nAn edit not committed yet.\n")
    os.utime(path, (2_000_000_000, 2_000_000_000))
    again = site(checkout, "two")
    # the text changed (and its file time), its dates did not
    assert (again / "sitemap.xml").read_bytes() == (first / "sitemap.xml").read_bytes()
    assert feed_dates(again) == feed_dates(first)
    with_epoch = lastmods(site(checkout, "three", env={"SOURCE_DATE_EPOCH": "1790000000"}))
    assert with_epoch == {**lastmods(first), BASE + "about/": "2026-09-21"}
    git(checkout, "commit", "-qam", "training", date="2027-03-04T00:00:00+00:00")
    later = site(checkout, "four")
    assert lastmods(later)[BASE + "training/"] == "2027-03-04"
    assert lastmods(later)[BASE] == "2027-03-04"
    assert feed_dates(later)["feed"] == "2027-03-04T00:00:00Z"


def test_front_matter_updated_wins_over_git(checkout):
    path = checkout / "content" / "training.md"
    path.write_text(path.read_text().replace("order: 10\n", "order: 10\nupdated: 2026-12-24\n"))
    git(checkout, "commit", "-qam", "dated", date="2027-05-05T12:00:00+00:00")
    out = site(checkout)
    assert lastmods(out)[BASE + "training/"] == "2026-12-24"
    assert feed_dates(out)[BASE + "training/"] == "2026-12-24T00:00:00Z"
    assert date_modified(out, "training") == "2026-12-24"


def test_without_git_the_dates_stay_as_before(scratch_project):
    root = scratch_project(copy=("templates",))
    assert last_commit_dates(root, [root / "content" / "training.md"]) == {}
    out = site(root, env={"SOURCE_DATE_EPOCH": "1790000000"})
    assert set(lastmods(out).values()) == {"2026-09-21"}
    assert set(feed_dates(out).values()) == {"2026-09-21T14:13:20Z"}


def test_one_git_call_dates_every_file_and_skips_untracked_ones(checkout, monkeypatch):
    calls = []
    real = subprocess.run

    def run(args, **kwargs):
        calls.append(args)
        return real(args, **kwargs)

    monkeypatch.setattr(subprocess, "run", run)
    (checkout / "content" / "new.md").write_text("---\ntitle: New\n---\nNot committed.\n")
    files = sorted((checkout / "content").glob("*.md"))
    dates = last_commit_dates(checkout, files)
    assert len(calls) == 1
    assert {p.name: d.isoformat() for p, d in dates.items()} == {
        "race-days.md": "2027-02-03T23:30:00+00:00",
        "training.md": "2027-01-02T09:00:00+00:00"}
