"""The release as a new user gets it: the sdist and wheel carry every default file, and the
wheel, installed into a fresh virtualenv outside the checkout, makes, checks, builds and
serves a new project (issue 19).

No network: the build runs without isolation (setuptools, wheel and build come with the
dev extra that ``make test`` installs), the wheel installs with ``--no-deps --no-index``,
and its dependencies are the ones already installed here, put on the new environment's
path by a ``.pth`` file. Such a path entry is a plain folder, not a site directory, so the
``.pth`` files inside it (among them the editable install's finder for this checkout) are
not run: ``import generator`` must find the wheel's copy, and the test makes sure of it.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import site
import subprocess
import sys
import tarfile
import threading
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

import generator
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow

ENV = {"SOURCE_DATE_EPOCH": "1790000000",
       "GUIDEGEN_PLAN_SECRET": "demo-secret-change-me-0123456789"}
TIMEOUT = 120  # seconds for any one step (each takes a few)
ADDRESS = re.compile(r"at (http://127\.0\.0\.1:\d+/)")  # serve's "serving ... at URL"
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "dist")


def run(args: list, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, (
        f"{' '.join(map(str, args))} exited {done.returncode}\n{done.stdout}\n{done.stderr}")
    return done


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment less what would point Python or pip back at the
    checkout or this machine's pip settings (the test must prove the wheel alone)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "PIP_", "VIRTUAL_ENV", "PYTEST_", "GUIDEGEN_"))}
    return {**env, "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PYTHONDONTWRITEBYTECODE": "1", **extra}


def shipped_files() -> dict[str, set[str]]:
    """{folder name under generator/defaults: every file in it, relative}, read in the
    checkout (where generator/defaults/<name> are symlinks to the example project)."""
    defaults = REPO_ROOT / "generator" / "defaults"
    out = {}
    for folder in sorted(defaults.iterdir()):
        out[folder.name] = {p.relative_to(folder).as_posix() for p in folder.rglob("*")
                            if p.is_file() and "__pycache__" not in p.parts}
    return out


def source_copy(target: Path) -> Path:
    """What the build reads, copied out of the checkout (setuptools writes build/ and
    *.egg-info next to its input; other tests and people work in the checkout)."""
    target.mkdir()
    for name in ("pyproject.toml", "README.md", "CHANGELOG.md", "MANIFEST.in"):
        if (REPO_ROOT / name).is_file():
            shutil.copy2(REPO_ROOT / name, target / name)
    shutil.copytree(REPO_ROOT / "generator", target / "generator", symlinks=True, ignore=SKIP)
    for link in (target / "generator" / "defaults").iterdir():
        if link.is_symlink():  # the folder it names, at the same place relative to the copy
            real = (REPO_ROOT / "generator" / "defaults" / os.readlink(link)).resolve()
            rel = real.relative_to(REPO_ROOT)
            if not (target / rel).exists():
                shutil.copytree(real, target / rel, ignore=SKIP)
    return target


def test_wheel_installed_in_a_fresh_venv_inits_checks_builds_and_serves(tmp_path):
    started = time.monotonic()
    env = clean_env()

    # 1. sdist, then the wheel from the sdist (what `python -m build` does by default)
    src = source_copy(tmp_path / "src")
    dist = tmp_path / "dist"
    run([sys.executable, "-m", "build", "--no-isolation", "--outdir", dist, src], tmp_path,
        env)
    wheel = next(dist.glob("guidegen-*.whl"))
    sdist = next(dist.glob("guidegen-*.tar.gz"))
    assert wheel.name.startswith(f"guidegen-{generator.__version__}-")
    with zipfile.ZipFile(wheel) as zf:
        in_wheel = set(zf.namelist())
    with tarfile.open(sdist) as tf:
        members = tf.getmembers()
    assert not [m.name for m in members if m.issym() or m.islnk()]  # files, not links
    in_sdist = {m.name.split("/", 1)[1] for m in members if m.isfile()}
    shipped = shipped_files()
    assert {"templates", "content", "brands", "data"} <= set(shipped)
    for folder, files in shipped.items():
        assert files, folder
        for rel in files:
            assert f"generator/defaults/{folder}/{rel}" in in_wheel, (folder, rel)
            assert f"generator/defaults/{folder}/{rel}" in in_sdist, (folder, rel)

    # 2. a fresh virtualenv outside the checkout; dependencies from this environment
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], tmp_path, env)
    py = venv / "bin" / "python"
    purelib = Path(run([py, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                       tmp_path, env).stdout.strip())
    ours = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (purelib / "_guidegen_test_dependencies.pth").write_text("\n".join(ours) + "\n")
    run([sys.executable, "-m", "pip", "--python", py, "install", "--quiet", "--no-deps",
         "--no-index", wheel], tmp_path, env)
    where = run([py, "-c", "import generator, importlib.metadata as md; "
                 "print(generator.__file__); print(md.version('guidegen'))"], tmp_path, env)
    module_file, version = where.stdout.split()
    assert Path(module_file).is_relative_to(venv), module_file  # the wheel, not the checkout
    assert version == generator.__version__

    # 3. the installed command, as a user runs it, in a new project outside the checkout
    user_env = clean_env(**ENV, PATH=f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
                         VIRTUAL_ENV=str(venv))
    guidegen = venv / "bin" / "guidegen"
    work = tmp_path / "work"
    work.mkdir()
    shown = run([guidegen, "--version"], work, user_env).stdout
    assert shown.strip() == f"guidegen, version {generator.__version__}"
    run([guidegen, "init", "myclinic"], work, user_env)
    project = work / "myclinic"
    assert not list((project / "templates").glob("**/*.j2"))  # the defaults are not copied
    doctor = subprocess.run([guidegen, "doctor"], cwd=project, env=user_env, text=True,
                            capture_output=True, timeout=TIMEOUT).stdout
    assert f"ok   guidegen: version {generator.__version__}" in doctor, doctor
    templates = re.search(r"default templates: (.+)", doctor)
    assert templates and Path(templates.group(1)).is_relative_to(venv), doctor
    check = run([guidegen, "check", "data/athletes.csv"], project, user_env)
    assert check.stderr.splitlines()[-1].endswith(": 0 errors, 0 warnings"), check.stderr
    run([guidegen, "build"], project, user_env)

    out = project / "output"
    assert (out / "site" / "index.html").is_file()
    manifest = (out / "manifest.json").read_text(encoding="utf-8")
    assert f'"generator": "{generator.__version__}"' in manifest
    with (project / "data" / "athletes.csv").open(encoding="utf-8", newline="") as f:
        ids = [row["id"] for row in csv.DictReader(f)]
    assert ids
    for athlete in ids:
        for ext in ("pdf", "ics", "html"):
            path = out / "guides" / "clinic" / f"{athlete}.{ext}"
            assert path.is_file() and path.stat().st_size > 0, path
    assert (out / "guides" / "clinic" / f"{ids[0]}.pdf").read_bytes().startswith(b"%PDF-")
    assert len(list((out / "site" / "plans").glob("*/guide.pdf"))) == len(ids)

    # 4. guidegen serve there too: the site from the installed templates
    serve = subprocess.Popen([guidegen, "serve", "--port", "0"], cwd=project,
                             env={**user_env, "PYTHONUNBUFFERED": "1"},
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    log: list[str] = []

    def read() -> None:
        for line in serve.stderr:
            log.append(line)

    threading.Thread(target=read, daemon=True).start()
    try:
        url = None
        deadline = time.monotonic() + TIMEOUT
        while url is None and serve.poll() is None and time.monotonic() < deadline:
            found = [m for line in list(log) if (m := ADDRESS.search(line))]
            if found:
                url = found[0].group(1)
            else:
                time.sleep(0.1)
        assert url, f"serve did not start (exit {serve.poll()}):\n" + "".join(log)
        no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with no_proxy.open(url, timeout=30) as response:
            assert response.status == 200
            assert "</html>" in response.read().decode()
    finally:
        serve.terminate()
        serve.wait(timeout=TIMEOUT)
    print(f"wheel build, install, init, check, build and serve: "
          f"{time.monotonic() - started:.1f}s")
