"""Translated content modules: ``content/<slug>.<lang>.md``.

A translation sets only the words: ``title``, ``summary`` and the body. Everything that
shapes a plan (``order``, ``when``, ``sessions``, ``tags``, ``audience``, ``draft``) comes
from the base file, so a runner's plan is the same in every language; a structural key in a
translation is an error at its line, as is a translation whose base module does not exist.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from pathlib import Path

from generator.core.errors import Problem
from generator.load.locales import BadTag, Languages, parse_tag
from generator.load.yamllines import yaml_node_line

TRANSLATABLE = ("title", "summary")
_NAME = re.compile(r"^(?P<slug>[^.]+)\.(?P<lang>[^.]+)$")


def is_translation(path: Path) -> bool:
    """``why-massage-helps.es.md`` (a dot in the stem); ``why-massage-helps.md`` is a base."""
    return "." in path.stem


def attach(modules: list, paths: list[tuple[Path, str]], parse,
           derived=None) -> tuple[list, list[Problem]]:
    """The base ``modules`` with their translations attached (``Module.translations``);
    ``parse(path, shown)`` is the loader's module parser. Problems for bad translations.
    ``derived(made, *sources)`` is told each module made here and what it was made from
    (``ContentCache.derive``)."""
    problems: list[Problem] = []
    by_slug = {m.slug: m for m in modules}
    found: dict[str, dict] = {}
    for path, shown in paths:
        m = _NAME.match(path.stem)
        lang = m["lang"] if m else ""
        try:
            locale = parse_tag(lang)
        except BadTag:
            problems.append(Problem(shown, None, f"{lang!r} in the file name is not a language "
                                    "tag: name a translation <slug>.<lang>.md, e.g. "
                                    f"{path.stem.split('.')[0]}.es.md", "slug"))
            continue
        if locale.territory or locale.script or locale.language != lang:
            problems.append(Problem(shown, None, f"{lang!r}: a translation is per language "
                                    f"({locale.language!r}), not per region", "slug"))
            continue
        base = by_slug.get(m["slug"])
        if base is None:
            problems.append(Problem(shown, None, f"no base module {m['slug']}.md for this "
                                    "translation", "slug"))
            continue
        module, probs = parse(path, shown)
        problems += probs
        if module is None:
            continue
        digest = hashlib.sha256(f"{base.digest}:{module.digest}".encode()).hexdigest()
        made = found.setdefault(base.slug, {})[lang] = replace(
            base, title=module.title, summary=module.summary, html=module.html,
            text=module.text, source=shown, digest=digest, lang=lang, translations={})
        if derived is not None:
            derived(made, base, module)
    # a module without translations is returned as it is (its own empty dict): copying
    # hundreds of them costs more than the rest of loading them from the content cache
    attached = []
    for m in modules:
        if m.slug in found or m.translations:
            made = replace(m, translations=found.get(m.slug, {}))
            if derived is not None:
                derived(made, m, *made.translations.values())
            m = made
        attached.append(m)
    return attached, problems


def structural_keys(data: dict, fm_text: str, offset: int, shown: str) -> list[Problem]:
    """A translation's front matter (``data``, parsed from ``fm_text``, which starts after
    ``offset`` lines) may only hold :data:`TRANSLATABLE` keys: a problem at each other's
    line. Checked as the file is parsed (``load/content.py``), so a translation read back
    from the content cache is not read and parsed again for it."""
    return [Problem(shown, yaml_node_line(fm_text, (key,), offset) or 1,
                    f"set in the base file; a translation only sets {', '.join(TRANSLATABLE)} "
                    "(and the body)", str(key))
            for key in data if key not in TRANSLATABLE]


def missing(modules: list, languages: Languages) -> dict[str, list[str]]:
    """Per translated language, the modules (guide or site) that have no translation."""
    return {lang: [m.slug for m in modules if not m.draft and lang not in m.translations]
            for lang in languages.all[1:]}


def orphans(modules: list, languages: Languages) -> list[Problem]:
    """Translations into a language the project has no catalog for: nobody reads them."""
    return [Problem(t.source, None, f"no catalog for {lang!r} in locales/: this translation "
                    "is not used", "slug", "warning")
            for m in modules for lang, t in sorted(m.translations.items())
            if lang not in languages.all]
