"""``guidegen init DIR``: a new clinic project that checks and builds clean out of the box.

The default content, templates and example brands are not package data: they live at the
root of the source checkout, next to the ``generator`` package (``SHIPPED`` below, i.e.
``Path(generator.__file__).parents[1]``). That works for the editable install the
Makefile makes (``pip install -e .``); a wheel would need them moved into package data.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import generator
from generator.core.errors import ConfigError, UsageError

SHIPPED = Path(generator.__file__).resolve().parents[1]
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
templates in `templates/`, runners in `data/athletes.csv`.

    export GUIDEGEN_PLAN_SECRET=...   # a long random string, kept out of the project
    guidegen check data/athletes.csv  # validate everything
    guidegen serve                    # preview the site with live reload
    guidegen build                    # site, guides and private plan pages into output/

Edit `brands/clinic/brand.toml` (name, colours, address, booking link) and replace
`brands/clinic/logo.svg` with your logo first.
"""


def _shipped(rel: str) -> Path:
    path = SHIPPED / rel
    if not path.exists():
        raise ConfigError(f"the default project files are missing ({path} not found); "
                          "install guidegen from its source checkout with 'pip install -e .'")
    return path


def scaffold(target: Path, brand: str = "harbour") -> list[Path]:
    """Write a new project into ``target`` (absent or empty); returns the files written."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UsageError(f"{target} already exists and is not empty; "
                         "choose a new folder for the project")
    brand_dir = _shipped("brands") / brand
    if not (brand_dir / "brand.toml").is_file():
        choices = sorted(p.name for p in _shipped("brands").iterdir() if p.is_dir())
        raise UsageError(f"no example brand {brand!r}; choose one of {', '.join(choices)}")
    content, templates = _shipped("content"), _shipped("templates")
    target.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")
    shutil.copytree(content, target / "content", ignore=ignore)
    shutil.copytree(templates, target / "templates", ignore=ignore)
    shutil.copytree(brand_dir, target / "brands" / BRAND_ID, ignore=ignore)
    for rel, text in (("guidegen.toml", CONFIG), ("data/athletes.csv", roster_csv()),
                      (".gitignore", GITIGNORE), ("README.md", README)):
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return sorted(p for p in target.rglob("*") if p.is_file())
