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

from generator.core.cachestore import CacheStore
from generator.load import gitdates
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


@pytest.fixture
def git_calls(monkeypatch) -> list[list[str]]:
    """Every git command run from here on (the git subcommand and its arguments); the
    history kept in the process from earlier tests forgotten."""
    calls: list[list[str]] = []
    real = subprocess.run

    def run(args, **kwargs):
        if args[0] == "git":
            calls.append([a for a in args[3:] if a not in ("-c", "log.showSignature=false")])
        return real(args, **kwargs)

    monkeypatch.setattr(subprocess, "run", run)
    monkeypatch.setattr(gitdates, "_KEPT", {})
    return calls


def logs(calls: list[list[str]]) -> int:
    """How many times the history was walked."""
    return sum(1 for args in calls if args[0] == "log")


def test_one_git_call_dates_every_file_and_skips_untracked_ones(checkout, git_calls):
    (checkout / "content" / "new.md").write_text("---\ntitle: New\n---\nNot committed.\n")
    files = sorted((checkout / "content").glob("*.md"))
    dates = last_commit_dates(checkout, files)
    assert [args[0] for args in git_calls] == ["rev-parse", "log"]  # the commit, its history
    assert {p.name: d.isoformat() for p, d in dates.items()} == {
        "race-days.md": "2027-02-03T23:30:00+00:00",
        "training.md": "2027-01-02T09:00:00+00:00"}


def test_the_history_is_walked_once_per_commit_checked_out(checkout, git_calls):
    files = sorted((checkout / "content").glob("*.md"))
    first = last_commit_dates(checkout, files)
    # another language's modules, serve's next rebuild: the same process, the same commit
    assert last_commit_dates(checkout, files[:1]) == {files[0]: first[files[0]]}
    assert logs(git_calls) == 1
    # an edit not committed changes no date: still no walk
    files[0].write_text(files[0].read_text() + "\nNot committed.\n")
    assert last_commit_dates(checkout, files) == first
    assert logs(git_calls) == 1
    git(checkout, "commit", "-qam", "later", date="2027-04-05T06:07:08+00:00")
    later = last_commit_dates(checkout, files)
    assert logs(git_calls) == 2
    assert later == {**first, files[0]: later[files[0]]}
    assert later[files[0]].isoformat() == "2027-04-05T06:07:08+00:00"


def test_the_page_cache_keeps_the_dates_for_the_next_build(checkout, git_calls):
    out = site(checkout)
    assert logs(git_calls) == 1
    gitdates._KEPT.clear()  # a new process: only the page cache remembers
    again = site(checkout)
    assert logs(git_calls) == 1  # the commit is the same: its history is not walked
    assert lastmods(again)[BASE + "race-days/"] == "2027-02-03"
    git(checkout, "commit", "--allow-empty", "-qm", "nothing", date="2027-06-01T00:00:00Z")
    gitdates._KEPT.clear()
    site(checkout)
    assert logs(git_calls) == 2  # a new commit: walked again
    path = checkout / "content" / "training.md"
    path.write_text(path.read_text() + "\nCommitted.\n")
    git(checkout, "commit", "-qam", "training", date="2027-07-01T00:00:00Z")
    gitdates._KEPT.clear()
    assert lastmods(site(checkout))[BASE + "training/"] == "2027-07-01"
    assert lastmods(out)[BASE] == "2027-07-01"  # the same folder, written again


def test_a_damaged_entry_walks_the_history_again(checkout, git_calls):
    files = sorted((checkout / "content").glob("*.md"))
    store = CacheStore()
    first = last_commit_dates(checkout, files, store)
    (key,) = [k.hex() for k in store._load()]
    store.put(key, b"{not json")
    gitdates._KEPT.clear()
    assert last_commit_dates(checkout, files, store) == first
    assert logs(git_calls) == 2


def test_a_shallow_clone_walks_its_history_each_time(checkout, tmp_path, git_calls):
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", checkout.as_uri(), str(clone)],
                   check=True, capture_output=True)
    files = sorted((clone / "content").glob("*.md"))
    store = CacheStore()
    first = last_commit_dates(clone, files, store)
    # a shallow history deepens under the same commit: its dates are not kept
    assert last_commit_dates(clone, files, store) == first
    assert len(store) == 0
    assert logs(git_calls) == 2
