"""scripts/setup-test-env.sh (what `make test` runs before pytest) and the skip-or-fail rule
for missing tools. The script is run from a copy in a scratch folder (no tests/node_modules
there) with a PATH holding only stand-ins: a dpkg-query that reports nothing installed and, for
the dry run, an apt-get and npm that only leave a mark. Nothing is installed on this machine."""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from browser_util import in_ci, missing_tool

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "setup-test-env.sh"
BASH = shutil.which("bash") or "/bin/bash"


def script_packages() -> list[str]:
    """The APT_PACKAGES list, read from the script itself."""
    found = re.search(r"^APT_PACKAGES=\((.*?)^\)", SCRIPT.read_text(), flags=re.M | re.S)
    assert found, "APT_PACKAGES=( ... ) not found in the script"
    return found.group(1).split()


def _stand_in(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(f"#!{BASH}\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def sandbox(tmp_path: Path) -> tuple[Path, Path]:
    """A fresh-clone-like copy of the script and a bin folder of stand-ins."""
    (tmp_path / "repo" / "scripts").mkdir(parents=True)
    (tmp_path / "repo" / "tests").mkdir()
    shutil.copy(SCRIPT, tmp_path / "repo" / "scripts" / SCRIPT.name)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _stand_in(bin_dir, "dpkg-query", "exit 1")  # nothing installed
    return tmp_path / "repo", bin_dir


def run_script(repo: Path, bin_dir: Path, *args: str, **env: str
               ) -> subprocess.CompletedProcess:
    full = {"PATH": str(bin_dir), "HOME": str(repo), **env}
    return subprocess.run([BASH, str(repo / "scripts" / SCRIPT.name), *args], env=full,
                          cwd=repo, capture_output=True, text=True, timeout=30)


def test_without_apt_get_it_prints_the_install_commands_and_exits_zero(sandbox):
    repo, bin_dir = sandbox
    done = run_script(repo, bin_dir)
    assert done.returncode == 0, done.stderr
    apt_line = next(line for line in done.stderr.splitlines() if "apt-get install" in line)
    assert "apt-get update && " in apt_line
    assert "apt-get install -y --no-install-recommends" in apt_line
    for package in [*script_packages(), "nodejs", "npm"]:
        assert f" {package}" in apt_line, package
    assert "npm install --no-save --no-audit --no-fund axe-core@4" in done.stderr
    assert "skipped" in done.stderr
    assert not (repo / "tests" / "node_modules").exists()


def test_under_ci_it_says_the_tests_will_fail(sandbox):
    repo, bin_dir = sandbox
    done = run_script(repo, bin_dir, CI="true")
    assert done.returncode == 0, done.stderr  # it cannot install: the tests report it
    assert "CI=true: the tests that need them will fail, not skip" in done.stderr


def test_dry_run_prints_what_it_would_run_and_runs_nothing(sandbox):
    repo, bin_dir = sandbox
    mark = repo / "ran"
    for tool in ("apt-get", "npm"):
        _stand_in(bin_dir, tool, f'echo "{tool} $*" >> "{mark}"')
    done = run_script(repo, bin_dir, GUIDEGEN_SETUP_DRY_RUN="1")
    assert done.returncode == 0, done.stderr
    assert not mark.exists(), mark.read_text()
    would = [line.split("would run: ", 1)[1] for line in done.stderr.splitlines()
             if "would run: " in line]
    assert would[0] == "apt-get update -qq"
    assert would[1].startswith("apt-get install -y --no-install-recommends ")
    assert set(script_packages()) <= set(would[1].split())
    assert "npm" not in would[1].split()  # the stand-in npm is on PATH
    assert would[2].endswith("npm install --no-save --no-audit --no-fund axe-core@4)")


def test_with_everything_present_it_does_nothing(sandbox):
    repo, bin_dir = sandbox
    installed = " ".join(f"{p} install ok installed" for p in script_packages())
    _stand_in(bin_dir, "dpkg-query", f'printf "%s %s %s %s\\n" {installed}')
    _stand_in(bin_dir, "npm", f'echo "npm $*" >> "{repo / "ran"}"')
    axe = repo / "tests" / "node_modules" / "axe-core" / "axe.min.js"
    axe.parent.mkdir(parents=True)
    axe.write_text("/* axe */")
    (repo / ".venv" / "bin").mkdir(parents=True)
    _stand_in(repo / ".venv" / "bin", "python", "exit 0")
    done = run_script(repo, bin_dir)
    assert (done.returncode, done.stderr) == (0, "")
    assert not (repo / "ran").exists()


@pytest.mark.parametrize(("ci", "outcome"), [("", pytest.skip.Exception),
                                             ("false", pytest.skip.Exception),
                                             ("true", pytest.fail.Exception)])
def test_a_missing_tool_skips_with_the_install_command_unless_ci(monkeypatch, ci, outcome):
    monkeypatch.setenv("CI", ci)
    assert in_ci() == (ci == "true")
    with pytest.raises(outcome) as raised:
        missing_tool("chromium not found", "apt-get install -y chromium")
    assert "apt-get install -y chromium" in str(raised.value)


def test_make_test_and_ci_share_the_one_setup_script():
    makefile = (REPO / "Makefile").read_text()
    ci_run = (REPO / ".ci" / "run").read_text()
    assert "scripts/setup-test-env.sh" in makefile
    assert "make test" in ci_run
    assert "apt-get" not in ci_run and "npm" not in ci_run


def test_runtime_mode_asks_only_for_what_building_guides_needs(sandbox):
    """`make demo` runs the script with --runtime: no browser, poppler, npm or axe-core."""
    repo, bin_dir = sandbox
    done = run_script(repo, bin_dir, "--runtime", GUIDEGEN_SETUP_DRY_RUN="1")
    assert done.returncode == 0, done.stderr
    (install,) = [line.split("would run: ", 1)[1] for line in done.stderr.splitlines()
                  if "would run: apt-get install" in line]
    wanted = set(install.split()[4:])
    # (python3 and python3-venv too: the sandbox has no python to make .venv with)
    assert wanted - {"python3", "python3-venv"} == set(script_packages()) - {"chromium",
                                                                          "poppler-utils"}
    assert "fonts-noto-color-emoji" in wanted and "libharfbuzz-subset0" in wanted
    assert "axe-core" not in done.stderr
