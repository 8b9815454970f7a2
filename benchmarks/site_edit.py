"""The site side by side with Hugo and Pelican: a cold build, a rebuild with nothing
changed, and a rebuild after editing one module, on one generated content tree.

    python benchmarks/site_edit.py                  # 500 modules, 5 rounds
    python benchmarks/site_edit.py --modules 2000 --rounds 3

The same Markdown (seeded: six paragraphs and a list per module) is written three times:
as guidegen modules (in a project with the example's templates and brands, one language
like the other two), as Pelican articles and as Hugo pages (a minimal layout: title,
summary, body, previous/next; Hugo also makes its sitemap, RSS and taxonomy pages). Each
round runs, in turn: guidegen cold (a new output folder, no cache), Pelican cold and
Hugo cold (each a new output folder), guidegen again with nothing changed, guidegen
after one module's body changed (a different module each round), the same edit seen by
``guidegen serve`` (its rebuild timed in its process, as its console line reports it),
Python starting and importing the libraries an edit uses (:data:`STACK`): the part
of the edit's time that is the stack's, not guidegen's, and the same libraries each used
once (:data:`FIRST_USE`: a first pydantic model, Babel's locale data, a Markdown converter,
a Jinja template; no file read): the floor of a one-shot process on this stack.
The same modules are also written in the three languages guidegen ships (English, Spanish
and German translations, the example's catalogs), and that site is timed cold, with
nothing changed and after the same edit (no other tool builds it; no target).
The one-language project is also timed as a git checkout with a history (3,000 commits,
each changing one module; module dates come from git, as on a real site): an edit not
committed yet, and the build just after a commit (the history walked once again).
The rounds alternate so that a noisy spell on the machine hits every tool; each keeps
its best wall time and its best CPU time (all cores: steadier than wall time on a busy
machine; Hugo spreads its work over threads).
"Cold" is a new, empty output folder each round (for each tool: ``OUT/.cache/`` is in
guidegen's), and nothing is deleted until the end: on a file system that has no journal,
as this machine's ext4, the kernel skips inodes freed in the last minute or more when it
makes a file, and walks past each of them again for every new file (``recently_deleted``
in ext4's inode allocator, seen with ``perf``), so deleting a thousand files just before a
build made every tool's writes slower, more so the more files they make. The per-user key
that signs compiled templates (``~/.cache/guidegen/``, render/codecache.py) is no cache and
stays: a first run ever makes it, in a millisecond.
``make bench`` runs this through ``benchmarks/run.py`` (``hugo`` comes from apt there).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ROUNDS = 5
WORDS = ("massage runner recovery calves tissue circulation taper marathon session "
         "pressure therapist training load soreness sleep hydration stride").split()
HUGO_LAYOUTS = {
    "_default/baseof.html": (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>{{ .Title }} · {{ .Site.Title }}</title>\n"
        '<meta name="description" content="{{ .Params.summary }}">'
        '<link rel="canonical" href="{{ .Permalink }}"></head>\n'
        '<body><header><a href="{{ "/" | relURL }}">Home</a></header>'
        '<main>{{ block "main" . }}{{ end }}</main></body></html>\n'),
    "_default/single.html": (
        '{{ define "main" }}<article><h1>{{ .Title }}</h1>'
        "{{ with .Params.summary }}<p>{{ . }}</p>{{ end }}{{ .Content }}\n<nav>"
        '{{ with .PrevInSection }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}'
        '{{ with .NextInSection }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}'
        "</nav></article>{{ end }}\n"),
    "_default/list.html": (
        '{{ define "main" }}<h1>{{ .Title }}</h1><ul>{{ range .Pages }}'
        '<li><a href="{{ .RelPermalink }}">{{ .Title }}</a> {{ .Params.summary }}</li>'
        "{{ end }}</ul>{{ end }}\n"),
}
HUGO_LAYOUTS["index.html"] = HUGO_LAYOUTS["_default/list.html"]


GUIDEGEN_TOML = """[project]
title = "Race Recovery Guides"
description = "Personalised marathon recovery guides."
base_url = "https://guides.example.org/"
default_brand = "harbour"
site_brand = "harbour"
"""


def module_texts(n: int, seed: int = 3):
    """(slug, title, summary, body) of ``n`` modules, the same on every run."""
    rnd = random.Random(seed)
    for i in range(n):
        paras = "\n\n".join(" ".join(rnd.choice(WORDS) for _ in range(80)) + "."
                            for _ in range(6))
        body = f"## Section one\n\n{paras}\n\n## Section two\n\n- point a\n- point b\n"
        yield f"m{i:03d}", f"Module {i:03d} {rnd.choice(WORDS)}", f"Summary of module {i}.", body


def write_guidegen(gg: Path, modules: int, translations: tuple[str, ...] = ()) -> Path:
    """The guidegen project with the example's templates and brands, and each module
    also translated into ``translations`` (with the example's catalogs)."""
    gg.mkdir(parents=True)
    for name in ("templates", "brands", *(("locales",) if translations else ())):
        shutil.copytree(ROOT / name, gg / name)
    (gg / "guidegen.toml").write_text(GUIDEGEN_TOML, encoding="utf-8")
    (gg / "content").mkdir()
    for i, (slug, title, summary, body) in enumerate(module_texts(modules)):
        (gg / "content" / f"{slug}.md").write_text(
            f"---\ntitle: {title}\norder: {i}\nsummary: {summary}\n---\n{body}",
            encoding="utf-8")
        for lang in translations:
            (gg / "content" / f"{slug}.{lang}.md").write_text(
                f"---\ntitle: {title} ({lang})\nsummary: {summary} ({lang})\n---\n{body}",
                encoding="utf-8")
    return gg


def write_projects(tmp: Path, modules: int) -> dict[str, Path]:
    """The guidegen project, the Pelican and the Hugo site, with the same modules."""
    gg = write_guidegen(tmp / "site-project", modules)  # one language, like the other two
    pel, hugo = tmp / "pelican", tmp / "hugo"
    for folder in (pel / "content", hugo / "content"):
        folder.mkdir(parents=True)
    for i, (slug, title, summary, body) in enumerate(module_texts(modules)):
        (pel / "content" / f"{slug}.md").write_text(
            f"Title: {title}\nDate: 2027-01-01\nSlug: {slug}\nSummary: {summary}\n\n{body}",
            encoding="utf-8")
        # a past date: Hugo leaves out pages dated in the future
        (hugo / "content" / f"{slug}.md").write_text(
            f"---\ntitle: {title}\nweight: {i}\nsummary: {summary}\ndate: 2026-01-01\n---\n"
            f"{body}", encoding="utf-8")
    (pel / "conf.py").write_text(
        "SITENAME='Bench'\nSITEURL=''\nTIMEZONE='UTC'\nDEFAULT_LANG='en'\n"
        "LOAD_CONTENT_CACHE=False\nRELATIVE_URLS=True\n", encoding="utf-8")
    (hugo / "hugo.toml").write_text('baseURL = "https://example.org/"\nlanguageCode = "en"\n'
                                    'title = "Bench"\n', encoding="utf-8")
    for name, text in HUGO_LAYOUTS.items():
        (hugo / "layouts" / name).parent.mkdir(parents=True, exist_ok=True)
        (hugo / "layouts" / name).write_text(text, encoding="utf-8")
    return {"guidegen": gg, "pelican": pel, "hugo": hugo}


def bench_env() -> dict[str, str]:
    """The environment the tools run in: as installed, Python reads compiled bytecode
    (``PYTHONDONTWRITEBYTECODE``, set in some shells and CI images, would make every run
    compile guidegen's and Pelican's modules anew: a cost no user pays twice)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.setdefault("SOURCE_DATE_EPOCH", "1790000000")
    return env


def timed(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and its children) of ``cmd``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          check=False, env=bench_env())
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n"
                         + done.stderr.decode("utf-8", "replace")[-800:])
    return seconds, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def edit(project: Path, index: int, modules: int) -> None:
    """Change one module's body (a sentence appended): its page and the feed change."""
    path = project / "content" / f"m{(modules // 2 + index) % modules:03d}.md"
    path.write_text(path.read_text(encoding="utf-8") + f"\nEdited in round {index}.\n",
                    encoding="utf-8")


SERVE_CODE = """
import resource, sys, time
from pathlib import Path
from generator.serve import Preview
root, slug = Path(sys.argv[1]), sys.argv[2]
preview = Preview(root)
preview.rebuild({"config"})
path = root / "content" / f"{slug}.md"
path.write_text(path.read_text(encoding="utf-8") + "\\nEdited in the preview.\\n",
                encoding="utf-8")
start, cpu = time.perf_counter(), time.process_time()
preview.rebuild({"content"})
print(time.perf_counter() - start, time.process_time() - cpu)
"""


def serve_edit(project: Path, slug: str, tmp: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of ``guidegen serve``'s rebuild after one module changed (in
    its process; the preview was built once before, as it is when ``serve`` starts). Its
    preview folder is made in ``tmp`` and left there (see "Cold" above)."""
    done = subprocess.run([sys.executable, "-c", SERVE_CODE, str(project), slug],
                          cwd=project, capture_output=True, text=True, check=True,
                          env={**bench_env(), "TMPDIR": str(tmp)})
    wall, cpu = done.stdout.split()[-2:]
    return float(wall), float(cpu)


# What any tool built on the declared stack pays before its first line of work, when
# one module changed: Python's start and the libraries an edit uses (the CLI, templates,
# settings validation, Markdown, front matter, dates in the page's language, sanitising).
STACK = "import click, jinja2, pydantic, markdown, frontmatter, babel.dates, babel.support, nh3"
# What guidegen pays before its first line of work: every module an edit imported (the
# libraries', guidegen's and the standard library's, listed once by LIST_IMPORTS from a
# real edit), imported in the same order by IMPORT_ALL.
LIST_IMPORTS = """
import json, sys
from generator.cli import cli
try:
    cli(sys.argv[2:], prog_name="guidegen")
except SystemExit:
    pass
with open(sys.argv[1], "w", encoding="utf-8") as fh:
    json.dump(list(sys.modules), fh)
"""
IMPORT_ALL = """
import importlib, json, sys
with open(sys.argv[1], encoding="utf-8") as fh:
    names = json.load(fh)
for name in names:
    try:
        importlib.import_module(name)
    except Exception:
        pass
"""
# What any tool built on the declared stack pays the first time it uses each library in a
# process, before reading a single file: Python's start, the same imports as STACK, then
# the first pydantic model validated (pydantic 2 builds its validator machinery then: its
# schema generation and plugin lookup, which imports importlib.metadata), Babel's locale
# data (a weekday's name), a Markdown converter with guidegen's extensions (made as
# load/markdown_html.py makes them: no entry-point scan) converting a line, a Jinja
# environment rendering a template, front matter parsed and nh3 cleaning a fragment. Only
# libraries, no guidegen code: the floor of a one-shot process on this stack.
FIRST_USE = STACK + """
import datetime, importlib
class Settings(pydantic.BaseModel):
    title: str
    days: list[str] = []
Settings.model_validate({"title": "x", "days": ["mon"]})
babel.dates.format_date(datetime.date(2024, 1, 1), "EEEE", locale="en")
from markdown.extensions import extra
md = markdown.Markdown(output_format="html", extensions=[
    importlib.import_module(f"markdown.extensions.{n}").makeExtension()
    for n in (*extra.extensions, "sane_lists", "toc")])
nh3.clean(md.convert(frontmatter.loads("---\\ntitle: x\\n---\\nSome *text*.\\n").content))
env = jinja2.Environment(autoescape=True, extensions=["jinja2.ext.i18n"])
env.install_null_translations()
env.from_string("<h1>{{ _('Hi') }} {{ x }}</h1>").render(x=1)
click.echo("", nl=False)
"""
MEASURES = ("cold", "pelican", "hugo", "nochange", "edit", "serve", "stack", "firstuse",
            "imports", "editgit", "commitgit", "cold3", "nochange3", "edit3")
COMMITS = 3000  # the git checkout's history
Found = dict[str, tuple[float, float] | None]  # measure -> best (wall, CPU) seconds


def git(project: Path, *args: str, stdin: bytes | None = None) -> None:
    env = {**bench_env(), "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "b@example.org",
           "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "b@example.org",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_DATE": "2027-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2027-01-01T00:00:00Z"}
    subprocess.run(["git", "-C", str(project), *args], input=stdin, env=env, check=True,
                   capture_output=True)


def write_history(project: Path, commits: int = COMMITS) -> Path:
    """``project`` made a git checkout whose history has ``commits`` commits after the
    first, each changing one module (the same history on every run)."""
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "site")
    rnd = random.Random(5)
    modules = sorted((project / "content").glob("*.md"))
    texts = {path: path.read_bytes() for path in modules}
    stream = []
    for i in range(commits):
        path = modules[rnd.randrange(len(modules))]
        texts[path] += f"\nRevision {i}.\n".encode()
        data = texts[path]
        stream.append(b"commit refs/heads/main\n"
                      + f"committer Bench <b@example.org> {1798761600 + 600 * i} +0000\n"
                        f"data 9\nrevision\n".encode()
                      + (b"from refs/heads/main^0\n" if i == 0 else b"")
                      + f"M 100644 inline content/{path.name}\ndata {len(data)}\n".encode()
                      + data + b"\n")
    git(project, "fast-import", "--quiet", stdin=b"".join(stream))
    git(project, "reset", "-q", "--hard", "main")
    return project


def measure(tmp: Path, modules: int, rounds: int = ROUNDS, languages: bool = True) -> Found:
    """Best wall and best CPU seconds of each measure over ``rounds`` alternating rounds
    (None: no Hugo on this machine; ``languages=False``: no three-language site)."""
    paths = write_projects(tmp, modules)
    # the three languages guidegen ships: English, and a Spanish and a German translation
    three = write_guidegen(tmp / "site-project-3", modules, ("es", "de")) if languages else None
    gg, pel, hugo = paths["guidegen"], paths["pelican"], paths["hugo"]
    checkout = write_history(write_guidegen(tmp / "site-project-git", modules))
    have_hugo = shutil.which("hugo") is not None
    site = [str(BIN / "guidegen"), "site", "--out", "out"]
    previews = tmp / "previews"  # serve's, kept to the end like every output folder
    previews.mkdir()

    def pelican(out: str) -> list[str]:
        return [str(BIN / "pelican"), "content", "-s", "conf.py", "-o", out]

    def cold(folder: str) -> list[str]:
        return [*site[:-1], folder]
    runs: dict[str, list[tuple[float, float]]] = {k: [] for k in MEASURES}
    timed(site, gg)  # once untimed: bytecode compiled, files in the page cache, for all
    timed(site, checkout)
    edit(gg, rounds, modules)  # an edit, to list what it imports
    imported = tmp / "imported.json"
    timed([sys.executable, "-c", LIST_IMPORTS, str(imported), *site[1:]], gg)
    if three is not None:
        timed(site, three)
    timed(pelican("out"), pel)
    if have_hugo:
        timed(["hugo", "--quiet"], hugo)
    # each cold build in a new, empty folder; none deleted before the end (see "Cold")
    for r in range(rounds):
        runs["cold"].append(timed(cold(f"cold-{r}"), gg))
        runs["pelican"].append(timed(pelican(f"cold-{r}"), pel))
        if have_hugo:
            runs["hugo"].append(timed(["hugo", "--quiet", "--destination", f"cold-{r}"],
                                      hugo))
        runs["nochange"].append(timed(site, gg))
        edit(gg, r, modules)
        runs["edit"].append(timed(site, gg))
        runs["serve"].append(serve_edit(gg, f"m{(r * 7) % modules:03d}", previews))
        runs["stack"].append(timed([sys.executable, "-c", STACK], gg))
        runs["firstuse"].append(timed([sys.executable, "-c", FIRST_USE], gg))
        runs["imports"].append(timed([sys.executable, "-c", IMPORT_ALL, str(imported)], gg))
        edit(checkout, r, modules)
        runs["editgit"].append(timed(site, checkout))
        git(checkout, "commit", "-qam", f"round {r}")
        runs["commitgit"].append(timed(site, checkout))
        if three is not None:
            runs["cold3"].append(timed(cold(f"cold-{r}"), three))
            runs["nochange3"].append(timed(site, three))
            edit(three, r, modules)
            runs["edit3"].append(timed(site, three))
    return {k: (min(w for w, _ in v), min(c for _, c in v)) if v else None
            for k, v in runs.items()}


def hugo_version() -> str | None:
    try:
        done = subprocess.run(["hugo", "version"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.split("+")[0].split()[1] if done.stdout else None


def rows(found: Found, modules: int) -> list[tuple[str, str, str]]:
    """Table rows for results.md: (measure, result, notes); results are the best wall
    time, notes add the best CPU time (all cores; steadier on a busy machine)."""
    (cold, cold_cpu), (pel, pel_cpu) = found["cold"], found["pelican"]
    (edit_, edit_cpu), (serve, serve_cpu) = found["edit"], found["serve"]
    nochange, nochange_cpu = found["nochange"]
    stack, imports = found["stack"][0], found["imports"][0]
    first_use = found["firstuse"][0]
    stack_note = (f"of which Python's start and importing the libraries an edit uses take "
                  f"{stack:.2f}s (`python -c '{STACK}'`), and with guidegen's modules and "
                  f"all else the edit imports {imports:.2f}s (the process before any work); "
                  f"guidegen's work {edit_ - imports:.2f}s")
    if found["hugo"]:
        hugo, hugo_cpu = found["hugo"]
        hugo_note = (f"Hugo's whole build {hugo:.2f}s: **{edit_ / hugo:.2f}x** (target < 1x); "
                     f"the stack's first use alone, no file read, takes {first_use:.2f}s = "
                     f"{first_use / hugo:.2f}x Hugo's whole build (`FIRST_USE` in "
                     f"benchmarks/site_edit.py: Python's start, the imports, a first pydantic "
                     f"model, Babel's locale data, a Markdown converter, a Jinja template)")
    else:
        hugo_note = "no `hugo` on this machine (apt-get install hugo)"
    out = [(f"site cold build, {modules} modules", f"{cold:.2f}s",
            f"Pelican {pel:.2f}s: **{cold / pel:.2f}x** Pelican's time (target <= 0.5x); "
            f"a new, empty output folder, no cache; CPU {cold_cpu:.2f}s, Pelican {pel_cpu:.2f}s"),
           ("site rebuild, nothing changed", f"{nochange:.2f}s",
            f"no module parsed, no module page rendered, no file rewritten (OUT/.cache/); "
            f"CPU {nochange_cpu:.2f}s"),
           ("site rebuild after editing one module", f"{edit_:.2f}s",
            f"`guidegen site`, a whole process: {hugo_note}; {stack_note}; "
            f"CPU {edit_cpu:.2f}s"),
           ("`guidegen serve` rebuild after editing one module", f"{serve:.2f}s",
            f"in the preview's process (its `rebuilt (content) in ...`); CPU {serve_cpu:.2f}s")]
    (editgit, editgit_cpu), (commitgit, _) = found["editgit"], found["commitgit"]
    out.append((f"the same edit, in a git checkout of {COMMITS:,} commits", f"{editgit:.2f}s",
                f"not committed yet: module dates come from git, kept by commit in "
                f"OUT/.cache/ (CPU {editgit_cpu:.2f}s); just after committing it "
                f"{commitgit:.2f}s (the history walked again)"))
    if found["cold3"]:
        (cold3, cold3_cpu), (nochange3, _), (edit3, edit3_cpu) = (
            found["cold3"], found["nochange3"], found["edit3"])
        out.append((f"site in three languages, {modules} modules each", f"{edit3:.2f}s",
                    f"`guidegen site` after editing one module (CPU {edit3_cpu:.2f}s); "
                    f"nothing changed {nochange3:.2f}s; cold {cold3:.2f}s (CPU "
                    f"{cold3_cpu:.2f}s); English, and a Spanish and a German translation "
                    "of every module: three times the pages (no target)"))
    if found["hugo"]:
        out.append((f"Hugo whole build, {modules} pages", f"{hugo:.2f}s",
                    f"hugo {hugo_version()} (Debian), a new, empty folder, minimal layouts; "
                    f"CPU {hugo_cpu:.2f}s (its threads on both cores)"))
    return out


def run(tmp: Path, modules: int, rounds: int = ROUNDS, languages: bool = True
        ) -> list[tuple[str, str, str]]:
    """For run.py: measure in ``tmp`` and return the rows (printing a summary line)."""
    found = measure(tmp, modules, rounds, languages)
    hugo = f"{found['hugo'][0]:.2f}s" if found["hugo"] else "not installed"
    print(f"d. site: cold {found['cold'][0]:.2f}s (Pelican {found['pelican'][0]:.2f}s), "
          f"no change {found['nochange'][0]:.2f}s, one edit {found['edit'][0]:.2f}s "
          f"(serve {found['serve'][0]:.2f}s), Hugo {hugo}; Python + libraries "
          f"{found['stack'][0]:.2f}s (their first use {found['firstuse'][0]:.2f}s), "
          f"+ guidegen's modules {found['imports'][0]:.2f}s; "
          f"in a git checkout: one edit {found['editgit'][0]:.2f}s, "
          f"after a commit {found['commitgit'][0]:.2f}s"
          + (f"; three languages: cold {found['cold3'][0]:.2f}s, no change "
             f"{found['nochange3'][0]:.2f}s, one edit {found['edit3'][0]:.2f}s"
             if found["cold3"] else ""))
    return rows(found, modules)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--modules", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=ROUNDS)
    ap.add_argument("--one-language", action="store_true",
                    help="leave out the three-language site")
    args = ap.parse_args()
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1790000000")
    with tempfile.TemporaryDirectory(prefix="guidegen-site-bench-") as t:
        for measure_, result, notes in run(Path(t), args.modules, args.rounds,
                                           not args.one_language):
            print(f"| {measure_} | {result} | {notes} |")


if __name__ == "__main__":
    main()
