"""What a command imports: only what its run needs (each check in a fresh interpreter).

``guidegen`` imports a command's module when that command runs (``generator.cli.group``),
a site rebuild whose modules all come from the content cache builds no front-matter
validator nor module-variable sandbox, and loading an SVG logo does not pull in
``xml.sax.saxutils`` (which imports urllib.request, http and ssl).
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from conftest import REPO_ROOT, copy_example

from generator.cli import cli

EPOCH = {"SOURCE_DATE_EPOCH": "1790000000"}
OTHER_COMMAND_MODULES = [f"generator.cli.{m}" for m in
                         ("email", "forget", "i18n", "plans", "privacy", "shards")]


def loaded(code: str, watch: list[str], cwd: Path = REPO_ROOT, env=None) -> list[str]:
    """Run ``code`` in a fresh interpreter; the modules of ``watch`` it imported."""
    probe = (f"{code}\nimport json, sys\n"
             f"print(json.dumps(sorted(m for m in {watch!r} if m in sys.modules)))\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})})
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def run_cli_code(args: list[str]) -> str:
    return ("from generator.cli import cli\n"
            f"try:\n    cli({args!r}, prog_name='guidegen')\n"
            "except SystemExit as exc:\n    assert not exc.code, exc.code\n")


def test_a_command_imports_its_own_module_only():
    watch = ["generator.cli.site", *OTHER_COMMAND_MODULES]
    assert loaded("import generator.cli", watch) == []
    assert loaded(run_cli_code(["site", "--help"]), watch) == ["generator.cli.site"]
    assert loaded(run_cli_code(["plans", "--help"]), watch) == ["generator.cli.plans"]


def test_help_lists_every_command_with_its_short_help():
    result = CliRunner().invoke(cli, ["--help"], prog_name="guidegen")
    assert result.exit_code == 0, result.output
    listed = result.output.split("Commands:\n", 1)[1].splitlines()
    names = [line.split()[0] for line in listed if line.strip()]
    expected = sorted({*cli.commands, *cli.lazy})
    assert names == expected
    for line in listed:
        assert len(line.split(maxsplit=1)) == 2, f"no short help: {line!r}"
    for name in ("build", "site", "serve", "init", "email", "forget", "privacy", "plans",
                 "i18n", "merge-shards", "check", "timeline", "guide", "batch", "doctor"):
        assert name in names


def test_the_lazy_table_names_each_command_where_it_is_defined():
    """Both ways: every entry's module defines that command, and every command of every
    command module (their COMMANDS) is in the table or in the group already."""
    for name, module in cli.lazy.items():
        defined = importlib.import_module(f"generator.cli.{module}").COMMANDS
        assert name in [c.name for c in defined], (name, module)
    for path in sorted((REPO_ROOT / "generator" / "cli").glob("*.py")):
        module = importlib.import_module(f"generator.cli.{path.stem}")
        for command in getattr(module, "COMMANDS", ()):
            assert cli.lazy.get(command.name) == path.stem, (command.name, path.stem)
            assert cli.get_command(None, command.name) is command


def test_a_rebuild_from_the_cache_builds_no_parser_and_no_sandbox(scratch_project, tmp_path):
    """The scratch project's modules use no variables: nothing needs the sandbox."""
    root = scratch_project(copy=("templates",))
    out = tmp_path / "out"
    watch = ["difflib", "jinja2.sandbox", "xml.sax.saxutils", "urllib.request",
             *OTHER_COMMAND_MODULES]
    code = run_cli_code(["site", "--out", str(out)])
    loaded(code, watch, root, EPOCH)  # the first build parses every module
    again = loaded(code + "from generator.load.content import FrontMatter\n"
                   "assert not FrontMatter.__pydantic_complete__\n", watch, root, EPOCH)
    assert again == []
    assert (out / "site" / "index.html").is_file()


def test_the_example_site_loads_its_svg_logos_without_saxutils(tmp_path):
    root = copy_example(tmp_path / "project")
    code = ("from pathlib import Path\nfrom generator.load.brands import load_brands\n"
            "brands, problems = load_brands(Path('brands'), Path('.'))\n"
            "assert brands and all(b.logo.endswith('.svg') for b in brands.values())\n")
    assert loaded(code, ["xml.sax.saxutils", "urllib.request", "ssl"], root) == []


def test_the_cli_does_not_look_for_pydantic_plugins_unless_asked(scratch_project, tmp_path):
    """Looking for plugins reads every installed package's entry points; guidegen's own
    models have no use for them. A value of PYDANTIC_DISABLE_PLUGINS the user set wins."""
    root = scratch_project(copy=("templates",))
    spy = ("import importlib.metadata as md\ngroups = []\nreal = md.entry_points\n"
           "def entry_points(**kw):\n    groups.append(kw.get('group'))\n"
           "    return real(**kw)\nmd.entry_points = entry_points\n")
    code = spy + run_cli_code(["site", "--out", str(tmp_path / "out")]) + (
        "import os\nprint(os.environ['PYDANTIC_DISABLE_PLUGINS'], groups)\n")

    def run(env: dict) -> str:
        done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                              text=True, timeout=120, env=env)
        assert done.returncode == 0, done.stderr
        return done.stdout.splitlines()[-1]

    base = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    assert run({**base, **EPOCH}) == "__all__ []"
    assert run({**base, **EPOCH, "PYDANTIC_DISABLE_PLUGINS": "some"}) == "some ['pydantic']"
