"""``guidegen init DIR``: a new clinic project that checks and builds clean out of the box.

The project gets its own copy of what a clinic edits (the content modules, one brand, a
sample roster) and no copy of the templates: those come from the defaults guidegen ships
(package data, :func:`generator.load.project.shipped_dir`), and a file the clinic puts in
the project's ``templates/`` (or ``brands/clinic/templates/``) under the same name
overrides the default. So an upgrade of guidegen brings its template fixes to every
project that did not override them, as a theme does in MkDocs.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

from generator.core.errors import UsageError
from generator.load.project import shipped_dir

BRAND_ID = "clinic"

DESCRIPTION = ("Personalised marathon recovery guides: when to book sports massage during "
               "training, before the race and after it.")
CONFIG = f"""\
# guidegen project configuration (see README.md and `guidegen --help`).
[project]
title = "Race Recovery Guides"
description = "{DESCRIPTION}"
# Absolute address of the published site: used for canonical URLs, the sitemap and the feed.
base_url = "https://guides.example.com/"
language = "en"
default_brand = "clinic"
site_brand = "clinic"
roster = "data/athletes.csv"

[plans]
# Private runner pages under output/site/plans/<token>/. The token is an HMAC of the
# athlete id keyed with the secret in $GUIDEGEN_PLAN_SECRET (never stored in the project).
enabled = true
"""

ROSTER_FIELDS = ("id", "name", "email", "race_name", "race_date", "distance",
                 "training_start", "experience", "massage_frequency", "long_run_day",
                 "focus_areas", "notes")
ROSTER_ROWS = (  # fictional runners, one per experience level
    ("ex-amara-01", "Amara Okafor", "amara.okafor@example.com", "Riverside City Marathon",
     "2027-04-25", "marathon", "", "first", "auto", "sun", "calves;feet",
     "First marathon. Prefers evening appointments."),
    ("ex-lukas-02", "Lukas Brandt", "lukas.brandt@example.com", "Riverside City Marathon",
     "2027-04-25", "marathon", "2026-12-14", "returning", "biweekly", "sat", "hamstrings",
     'Right hamstring tightens after speed work; "firm but not deep", please.'),
    ("ex-mei-03", "Mei Lin", "", "Lakeside Half Marathon", "2027-06-06", "half-marathon", "",
     "competitive", "weekly", "sun", "", ""),
)


def roster_csv() -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(ROSTER_FIELDS)
    writer.writerows(ROSTER_ROWS)
    return buffer.getvalue()


GITIGNORE = "output/\noutbox/\n"

README = """\
# Race recovery guides

A guidegen project: Markdown modules in `content/`, your clinic in `brands/clinic/`,
runners in `data/athletes.csv`. The templates are guidegen's own; see
`templates/README.md` to change one.

    export GUIDEGEN_PLAN_SECRET=...   # a long random string, kept out of the project
    guidegen check data/athletes.csv  # validate everything
    guidegen serve                    # preview the site with live reload
    guidegen build                    # site, guides and private plan pages into output/

Edit `brands/clinic/brand.toml` (name, colours, address, booking link) and replace
`brands/clinic/logo.svg` with your logo first.
"""

TEMPLATES_README = """\
# Template overrides

guidegen renders with its own default templates. To change one, copy it into this
folder under the same name (for instance `partials/cover.j2` or `assets/site.css`) and
edit the copy: a file here is used instead of the default, for every brand. A file in
`brands/<id>/templates/` overrides both, for that brand only.

The defaults are in the folder `guidegen doctor` shows as "default templates":

{names}
"""


def templates_readme() -> str:
    """``templates/README.md``: how to override, with the name of every default template."""
    root = shipped_dir("templates")
    names = sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                   if p.is_file() and not _ignored(p.name))
    return TEMPLATES_README.format(names="\n".join(f"- `{n}`" for n in names))


def _ignored(name: str) -> bool:
    return name.startswith(".") or name == "__pycache__" or name.endswith(".pyc")


def scaffold(target: Path, brand: str = "harbour") -> list[Path]:
    """Write a new project into ``target`` (absent or empty); returns the files written."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UsageError(f"{target} already exists and is not empty; "
                         "choose a new folder for the project")
    brands = shipped_dir("brands")
    brand_dir = brands / brand
    if not (brand_dir / "brand.toml").is_file():
        choices = sorted(p.name for p in brands.iterdir() if (p / "brand.toml").is_file())
        raise UsageError(f"no example brand {brand!r}; choose one of {', '.join(choices)}")
    target.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")
    shutil.copytree(shipped_dir("content"), target / "content", ignore=ignore)
    shutil.copytree(shipped_dir("locales"), target / "locales", ignore=ignore)  # es, de
    shutil.copytree(brand_dir, target / "brands" / BRAND_ID, ignore=ignore)
    for rel, text in (("guidegen.toml", CONFIG), ("data/athletes.csv", roster_csv()),
                      ("templates/README.md", templates_readme()),
                      (".gitignore", GITIGNORE), ("README.md", README)):
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return sorted(p for p in target.rglob("*") if p.is_file())
