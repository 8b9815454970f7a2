"""``guidegen i18n``: the translators' commands, on Babel's own tools.

``extract`` collects every template and Python string into ``locales/messages.pot``;
``init LANG`` starts a catalog; ``update`` merges new strings into every catalog (new ones
untranslated, changed ones fuzzy); ``compile`` checks each catalog the way Babel compiles
it (guidegen reads the ``.po`` files themselves, so nothing compiled is kept); ``status``
lists, per language, the strings and content modules still to translate.
"""

from __future__ import annotations

import io
from pathlib import Path

import click

from generator.cli.app import _project
from generator.core.errors import EXIT_INVALID_INPUT, EXIT_OK
from generator.core.vocab import counted

POT = "messages.pot"
MAPPING = "babel.cfg"


def _pybabel(*args: str) -> None:
    from babel.messages.frontend import CommandLineInterface

    CommandLineInterface().run(["pybabel", "--quiet", *args])


def _name_catalog(po: Path) -> None:
    """A catalog ``pybabel init`` just made says whose strings it holds: "guidegen" and
    its version, where Babel writes "PROJECT VERSION" (the template has no header, so
    that it does not change with the day it was extracted). Babel reads the header's
    last word as the version, so a catalog named so goes through ``update`` unchanged."""
    from babel.messages.catalog import DEFAULT_HEADER
    from babel.messages.pofile import read_po, write_po

    from generator import __version__

    with open(po, "rb") as f:
        catalog = read_po(f)
    catalog.project, catalog.version = "guidegen", __version__
    catalog.header_comment = DEFAULT_HEADER  # its PROJECT filled in from the above
    out = io.BytesIO()
    write_po(out, catalog, width=None)
    po.write_bytes(out.getvalue())


def _locales(project) -> Path:
    return project.path(project.settings.locales_dir)


@click.group("i18n")
def i18n() -> None:
    """Translations: extract strings, start and update catalogs, check them, status.

    Catalogs are locales/<lang>/LC_MESSAGES/messages.po (gettext, made with Babel); a
    translated content module is content/<slug>.<lang>.md. See README, "Languages"."""


@i18n.command("extract")
@click.pass_context
def extract(ctx: click.Context) -> None:
    """Collect every translatable string into locales/messages.pot (needs babel.cfg)."""
    project = _project(ctx)
    mapping = project.root / MAPPING
    if not mapping.is_file():
        raise click.UsageError(f"no {MAPPING} in {project.root}: it says where the strings are")
    out = _locales(project) / POT
    out.parent.mkdir(parents=True, exist_ok=True)
    _pybabel("extract", "-F", str(mapping), "-k", "N_", "-k", "Nn_:1,2", "--no-location",
             "--sort-output", "--omit-header", "-o", str(out), str(project.root))
    click.echo(f"wrote {out.relative_to(project.root)}")


@i18n.command("init")
@click.argument("lang")
@click.pass_context
def init(ctx: click.Context, lang: str) -> None:
    """Start the catalog for LANG (e.g. fr) from locales/messages.pot."""
    from generator.load.locales import BadTag, parse_tag

    try:
        parse_tag(lang)
    except BadTag as exc:
        raise click.BadParameter(str(exc), param_hint="LANG") from None
    project = _project(ctx)
    locales = _locales(project)
    _pybabel("init", "-i", str(locales / POT), "-d", str(locales), "-l", lang,
             "--no-wrap")
    _name_catalog(locales / lang / "LC_MESSAGES" / "messages.po")
    click.echo(f"wrote {locales.relative_to(project.root)}/{lang}/LC_MESSAGES/messages.po")


@i18n.command("update")
@click.pass_context
def update(ctx: click.Context) -> None:
    """Merge locales/messages.pot into every catalog (new strings untranslated, changed
    ones marked fuzzy: a fuzzy string is shown in the project's language until reviewed)."""
    project = _project(ctx)
    locales = _locales(project)
    _pybabel("update", "-i", str(locales / POT), "-d", str(locales), "--no-wrap",
             "--ignore-obsolete", "--ignore-pot-creation-date")


@i18n.command("compile")
@click.pass_context
def compile_(ctx: click.Context) -> None:
    """Check every catalog as Babel compiles it (placeholders, plural forms, syntax)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    project = _project(ctx)
    bad = 0
    for lang, po in sorted(project.languages.translated.items()):
        with open(po, "rb") as f:
            catalog = read_po(f, locale=lang)
        errors = [(m.lineno, m.id, e) for m, errs in catalog.check() for e in errs]
        for line, msgid, err in errors:
            click.echo(f"{po.relative_to(project.root)}:{line}: {err} ({msgid!r})", err=True)
        bad += len(errors)
        write_mo(io.BytesIO(), catalog)
    click.echo(f"{counted(len(project.languages.translated), 'catalog')}, "
               f"{counted(bad, 'problem')}")
    ctx.exit(EXIT_INVALID_INPUT if bad else EXIT_OK)


@i18n.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Per language: strings translated, fuzzy and missing, and content modules with no
    translation. Exit 1 when anything is missing."""
    import json

    from generator.load.content import load_modules
    from generator.load.translations import missing

    project = _project(ctx)
    rows = catalog_status(project)
    modules, _problems = load_modules(project.content_dir, project.root)
    for lang, slugs in missing(modules, project.languages).items():
        rows.setdefault(lang, {"translated": 0, "fuzzy": 0, "missing": []})["modules"] = slugs
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for lang, row in rows.items():
            click.echo(f"{lang}: {counted(row['translated'], 'string')} translated, "
                       f"{row['fuzzy']} fuzzy, {len(row['missing'])} missing; "
                       f"{counted(len(row.get('modules', [])), 'content module')} "
                       "not translated")
            for msgid in row["missing"]:
                click.echo(f"  string: {msgid}")
            for slug in row.get("modules", []):
                click.echo(f"  module: {slug}")
    incomplete = any(r["missing"] or r["fuzzy"] or r.get("modules") for r in rows.values())
    ctx.exit(EXIT_INVALID_INPUT if incomplete else EXIT_OK)


def catalog_status(project) -> dict[str, dict]:
    """lang -> translated/fuzzy counts and the msgids with no translation, against the
    template (locales/messages.pot) when there is one, else the catalog's own entries."""
    from babel.messages.pofile import read_po

    pot = _locales(project) / POT
    wanted = None
    if pot.is_file():
        with open(pot, "rb") as f:
            wanted = [m.id for m in read_po(f) if m.id]
    rows = {}
    for lang, po in sorted(project.languages.translated.items()):
        with open(po, "rb") as f:
            catalog = read_po(f, locale=lang)
        done = {m.id for m in catalog if m.id and _translated(m) and not m.fuzzy}
        fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
        ids = wanted if wanted is not None else [m.id for m in catalog if m.id]
        rows[lang] = {"translated": len(done), "fuzzy": len(fuzzy),
                      "missing": [_show(i) for i in ids if i not in done and i not in fuzzy]}
    return rows


def _translated(message) -> bool:
    s = message.string
    return all(s) if isinstance(s, tuple | list) else bool(s)


def _show(msgid) -> str:
    return msgid[0] if isinstance(msgid, tuple | list) else msgid


COMMANDS = (i18n,)
