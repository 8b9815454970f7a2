"""The site in several languages: which pages exist in which language, for each page's
``hreflang`` alternates, the sitemap's ``xhtml:link`` entries and the language switcher.

The default language is at the site root, every further language under ``/<lang>/``
with the same paths; a module with no translation has no page in that language, so it
lists only the languages it has.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Alternates:
    base: str  # the site's base_url
    paths: dict[str, list[dict]] = field(default_factory=dict)  # page path -> languages

    @classmethod
    def collect(cls, builders) -> Alternates:
        """From each language's SiteRenderer, after ``prepare()``; the default first."""
        paths: dict[str, list[dict]] = {}
        for b in builders:
            lang, name, default = b.language.lang, b.language.name, not b.prefix
            for page in b.pages:
                paths.setdefault(page.path, []).append(
                    {"lang": lang, "tag": lang, "name": name, "url": b.url(page.path),
                     "default": default})
        return cls(builders[0].base if builders else "", paths)

    def of(self, path: str, current: str | None = None) -> list[dict]:
        """The page in each language it exists in; ``current`` marks this page's."""
        return [dict(a, current=a["lang"] == current) for a in self.paths.get(path, [])]

    def x_default(self, path: str) -> str | None:
        """The page for a reader whose language the site does not have: the default's."""
        return next((a["url"] for a in self.paths.get(path, []) if a["default"]), None)
