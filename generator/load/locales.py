"""Languages: which ones a project ships, and which one each runner reads.

A runner's ``locale`` is a BCP 47 tag (``es``, ``es-MX``, ``de``, ``en-US``). The guide's
*language* is the first of the tag, its bare language (``es-MX -> es``) and the project's
``language`` that has a translation; the tag itself still picks how dates, times and
numbers are written (an ``es-MX`` runner reads Spanish with Mexican times). A runner whose
language has no translation reads the project's language, written the project's way.

A language *has a translation* when the project ships a gettext catalog for it,
``locales/<lang>/LC_MESSAGES/messages.po`` (the layout Babel's tools use). The project's
own language needs none: its templates are written in it.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

from babel import Locale, UnknownLocaleError

CATALOG = "LC_MESSAGES/messages.po"
MILES_TERRITORIES = frozenset({"US", "LR", "MM"})  # where distances are written in miles
KM_PER_MILE = 1.609344


class BadTag(ValueError):
    """Not a locale Babel (CLDR) knows: ``xx-QQ``."""


@functools.lru_cache(maxsize=256)
def parse_tag(tag: str) -> Locale:
    """``es-MX`` or ``es_MX`` -> Babel's Locale; :class:`BadTag` for anything CLDR does
    not know (``xx-QQ``, ``english``)."""
    text = tag.strip().replace("_", "-")
    try:
        return Locale.parse(text, sep="-")
    except (UnknownLocaleError, ValueError, TypeError):
        raise BadTag(f"{tag!r} is not a known language tag (BCP 47, e.g. es, es-MX, de, "
                     "en-US)") from None


def tag_of(locale: Locale) -> str:
    """Babel's Locale as a BCP 47 tag: ``es_MX`` -> ``es-MX``."""
    return "-".join(p for p in (locale.language, locale.script, locale.territory) if p)


@dataclass(frozen=True)
class Language:
    """The language a guide is written in, and the locale its dates and numbers follow."""

    lang: str  # the catalog's language: "en", "es", "de" (the project's own for fallbacks)
    tag: str  # BCP 47, for <html lang> and formatting: "es-MX", "en-GB"
    requested: str | None = None  # the roster's tag, when it asked for another language

    @property
    def locale(self) -> Locale:
        return parse_tag(self.tag)

    @property
    def fell_back(self) -> bool:
        return self.requested is not None

    @property
    def direction(self) -> str:
        return "rtl" if self.locale.character_order == "right-to-left" else "ltr"

    @property
    def units(self) -> str:
        """Distances in this locale: miles where road races are measured in them."""
        return "mi" if self.locale.territory in MILES_TERRITORIES else "km"

    @property
    def name(self) -> str:
        """The language's own name, for a language switcher: "Español", "Deutsch"."""
        loc = parse_tag(self.lang)
        return (loc.get_display_name(loc) or self.lang).capitalize()


@dataclass(frozen=True)
class Languages:
    """The project's default language and the further languages it ships."""

    default: str  # BCP 47 tag from guidegen.toml ``language`` ("en-GB")
    translated: dict[str, Path]  # lang -> its catalog (messages.po)
    digests: dict[str, str]  # lang -> sha256 of its catalog: a guide's input

    @property
    def default_lang(self) -> str:
        return parse_tag(self.default).language

    @property
    def all(self) -> tuple[str, ...]:
        """Every language a guide or page can be written in, the default first."""
        return (self.default_lang, *sorted(k for k in self.translated
                                           if k != self.default_lang))

    def default_language(self) -> Language:
        return Language(self.default_lang, tag_of(parse_tag(self.default)))

    def for_tag(self, tag: str | None) -> Language:
        """The fallback chain ``es-MX -> es -> default``. Raises :class:`BadTag`."""
        if not tag:
            return self.default_language()
        locale = parse_tag(tag)
        if locale.language == self.default_lang:
            # a bare "en" in an en-GB project is written the project's way
            written = locale if locale.territory else parse_tag(self.default)
            return Language(self.default_lang, tag_of(written))
        if locale.language in self.translated:
            return Language(locale.language, tag_of(locale))
        return replace(self.default_language(), requested=tag_of(locale))

    def language(self, lang: str) -> Language:
        """A shipped language by its code, as the site writes it (``/es/``)."""
        if lang == self.default_lang:
            return self.default_language()
        return Language(lang, lang)


def find_languages(locales_dir: Path, default: str) -> Languages:
    """The catalogs under ``locales_dir``: ``<lang>/LC_MESSAGES/messages.po``."""
    found: dict[str, Path] = {}
    if locales_dir.is_dir():
        for po in sorted(locales_dir.glob(f"*/{CATALOG}")):
            try:
                found[parse_tag(po.parent.parent.name).language] = po
            except BadTag:
                continue  # a folder that names no language: not a catalog
    return Languages(default, found,
                     {k: hashlib.sha256(p.read_bytes()).hexdigest() for k, p in found.items()})


def note_fallback(language: Language, default_name: str) -> str:
    """The located note for a runner whose language has no translation."""
    return f"no {language.requested!r} translation; {default_name} is used"
