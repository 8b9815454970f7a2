"""The public marketing site: landing page, one page per module, about/booking page,
sitemap.xml, robots.txt, an Atom feed and a 404 page.

Pages are rendered in memory here (:func:`render_site`) and written by
``generator.publish.site``: the live preview and the real build share one code path.
Internal links are relative (the site works under any base path and from a plain file
server); canonical, Open Graph, sitemap and feed URLs are absolute, from ``base_url``.
Private plan pages live in ``plans/`` beside the site but are never linked or listed.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from markupsafe import Markup

from generator.core.errors import Problem
from generator.core.notes import N_
from generator.load.brands import Brand
from generator.load.content import Module
from generator.load.gitdates import last_commit_dates
from generator.render.modulevalues import site_filler
from generator.render.pagecache import PageCache, render_pages
from generator.render.renderer import DISCLAIMER
from generator.render.sitefiles import days_text, favicon_ico, palette, plans_index
from generator.render.sitelangs import Alternates
from generator.render.sitexml import feed, sitemap
from generator.render.traced import compile_all
from generator.render.words import Words

PLANS = "plans"  # private plan pages: never linked, listed or pruned by the site
PLANS_INDEX = f"{PLANS}/index.html"  # an empty page, so no web server lists the folder
ABOUT = "about"
RESERVED_SLUGS = {ABOUT, "assets", PLANS}
# A page renders in about 0.4 ms: below this many pages to render, forking workers costs
# more than it saves (measured on 2 cores). A rebuild renders only what changed.
RENDER_MIN_PAGES = 250


@dataclass(frozen=True)
class SiteNotBuilt(Problem):
    """A problem that stopped the whole site (no site brand, a broken template)."""


def site_built(problems: list[Problem]) -> bool:
    return not any(isinstance(p, SiteNotBuilt) for p in problems)


@dataclass(frozen=True)
class Page:
    """One public HTML page. ``path`` is its URL path below the site root ('' = home)."""

    path: str
    template: str
    title: str
    description: str
    kind: str  # Open Graph type: "website" or "article"
    module: Module | None = None

    @property
    def file(self) -> str:
        return self.path + "index.html" if self.path.endswith("/") or not self.path else self.path

    @property
    def root(self) -> str:
        """Relative prefix from this page back to the site root."""
        return "../" * self.path.count("/")


def site_brand(inputs) -> Brand | None:
    settings = inputs.project.settings
    return inputs.brands.get(settings.site_brand or settings.default_brand)


def site_modules(inputs, words: Words) -> tuple[list[Module], list[Problem]]:
    """Modules published on the site in ``words``' language, in order (a module with no
    translation into it is left out of that language's site); a slug that clashes with a
    site path is an error (its page would overwrite the about page or the assets)."""
    chosen, problems = [], []
    brand = site_brand(inputs)  # the site speaks to no runner: neutral module variables
    fill = site_filler(words, brand.name if brand is not None else None)
    lang, default = words.language.lang, inputs.project.languages.default_lang
    for m in inputs.modules:
        if not m.on_site or (lang != default and lang not in m.translations):
            continue
        if m.slug in RESERVED_SLUGS:
            problems.append(Problem(m.source, None, f"slug {m.slug!r} is reserved for the site "
                                    f"({', '.join(sorted(RESERVED_SLUGS))}); choose another",
                                    "slug"))
            continue
        chosen.append(fill(m.in_language(lang)))
    return chosen, problems


def site_pages(inputs, modules: list[Module], words: Words) -> list[Page]:
    title, description = inputs.project.site_text(words.language.lang)
    brand = site_brand(inputs).in_language(words.language.lang)
    _ = words.gettext
    pages = [Page("", "site/index.html.j2", title, description or brand.tagline or title,
                  "website")]
    pages += [Page(f"{m.slug}/", "site/module.html.j2", m.title,
                   m.summary or description, "article", m) for m in modules]
    about = brand.tagline or _(N_("About %(clinic)s: contact, opening days and booking."),
                               clinic=brand.name)
    pages.append(Page(f"{ABOUT}/", "site/about.html.j2",
                      _(N_("About %(clinic)s and booking"), clinic=brand.name),
                      about.rstrip(".") + ". " + _(N_("Book a sports massage at %(clinic)s."),
                                      clinic=brand.name), "website"))
    return pages


def json_ld(data: dict) -> Markup:
    """JSON for a <script> element: '<', '>' and '&' escaped so no text can close it."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))  # compact: C encoder
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


class SiteText:
    """The project settings as one language's site shows them: its own title and
    description (``[translations.<lang>]`` in guidegen.toml), the rest as configured."""

    def __init__(self, settings, title: str, description: str):
        self._settings, self.title, self.description = settings, title, description

    def __getattr__(self, name):
        return getattr(self._settings, name)


class SiteRenderer:
    """Renders every public file of the site into a {relative path: bytes} mapping."""

    def __init__(self, inputs, renderer, words: Words | None = None,
                 alternates: Alternates | None = None):
        self.inputs = inputs
        self.renderer = renderer
        self.cache: PageCache | None = None  # pages rendered before (render/pagecache.py)
        self.sink: Callable[[str, bytes], None] | None = None  # told each page rendered
        self.settings = inputs.project.settings
        self.words = words or renderer.words()
        self.language = self.words.language
        default = inputs.project.languages.default_lang
        self.prefix = "" if self.language.lang == default else f"{self.language.lang}/"
        self.base = self.settings.base_url
        self.title, self.description = inputs.project.site_text(self.language.lang)
        self.brand = site_brand(inputs).in_language(self.language.lang)
        self.alternates = alternates or Alternates(self.base, {})
        self.pages: list[Page] = []
        self.logo_name = "logo" + Path(self.brand.logo).suffix.lower()
        # the same for every page: computed once, not 500 times
        self._org = self.organization()
        self._palette = palette(self.brand)
        self._open_days = days_text(self.brand.open_days, self.words)
        self._dir = self.language.direction
        self._site = SiteText(self.settings, self.title, self.description)
        self._disclaimer = self.words.gettext(DISCLAIMER)
        self._near: tuple[list[Page] | None, dict[int, tuple]] = (None, {})
        self._dates: dict[str, dt.datetime | None] = {}  # module slug -> last changed
        self._frozen = False  # gc.freeze() for forked workers, undone once they are done

    def date_modules(self, modules: list[Module]) -> None:
        """When each module last changed: its front matter's ``updated:``, else the last
        git commit touching its file (one ``git log`` for all), else the build's date
        (SOURCE_DATE_EPOCH; None without it). Deterministic for a given checkout; the
        page cache keeps git's answer for the commit checked out (load/gitdates.py)."""
        root = self.inputs.project.root
        files = {m.slug: root / m.source for m in modules if m.updated is None}
        git = last_commit_dates(root, files.values(),
                                self.cache.store if self.cache is not None else None)
        fallback = self.renderer.context.source_date
        self._dates = {m.slug: (dt.datetime.combine(m.updated, dt.time(0), dt.UTC)
                                if m.updated is not None
                                else git.get(files[m.slug]) or fallback) for m in modules}

    def page_date(self, page: Page) -> dt.datetime | None:
        """A page's last change: its module's; the home page (which lists them all) the
        newest module's; otherwise the build's."""
        if page.module is not None:
            return self._dates.get(page.module.slug)
        known = [d for d in self._dates.values() if d is not None]
        if page.path == "" and known:
            return max(known)
        return self.renderer.context.source_date

    def url(self, path: str) -> str:
        return self.base + self.prefix + path

    def organization(self) -> dict:
        b = self.brand
        org = {"@type": "Organization", "name": b.name,
               "url": b.contact.website or self.base,
               "logo": self.url(f"assets/{self.logo_name}"), "address": b.address}
        if b.contact.phone:
            org["telephone"] = b.contact.phone
        if b.contact.email:
            org["email"] = b.contact.email
        return org

    def structured_data(self, page: Page) -> dict:
        url, changed = self.url(page.path), self.page_date(page)
        date = changed.date() if changed is not None else None
        kind = ("Article" if page.module is not None else "WebSite" if page.path == ""
                else "AboutPage")
        data = {"@context": "https://schema.org", "@type": kind, "url": url,
                "name": page.title, "description": page.description,
                "inLanguage": self.language.tag}
        if page.module is not None:
            data.update({"headline": page.title,
                         "mainEntityOfPage": url, "keywords": list(page.module.tags),
                         "author": self._org, "publisher": self._org,
                         "isPartOf": {"@type": "WebSite", "name": self.title,
                                      "url": self.url("")}})
            if date is not None:
                data["datePublished"] = data["dateModified"] = date.isoformat()
        elif page.path == "":
            data["publisher"] = self._org
        else:
            data["mainEntity"] = self._org
        return data

    def neighbours(self, page: Page, pages: list[Page]) -> tuple[Page | None, Page | None]:
        """(previous, next) article of ``page`` in ``pages``; one pass per page list."""
        listed, near = self._near
        if listed is not pages:
            articles = [p for p in pages if p.module is not None]
            near = {id(p): (articles[i - 1] if i > 0 else None,
                            articles[i + 1] if i + 1 < len(articles) else None)
                    for i, p in enumerate(articles)}
            self._near = (pages, near)
        return near[id(page)]

    def context(self, page: Page | None, root: str, modules: list[Module], pages) -> dict:
        b = self.brand
        site_root = root + "../" * self.prefix.count("/")  # where the assets are
        ctx = dict(
            lang=self.language.tag, dir=self._dir,
            site=self._site, brand=b, page=page, root=root, site_root=site_root,
            home=root or "./", modules=modules, disclaimer=self._disclaimer,
            build_date=self.renderer.context.build_date,
            logo=f"{site_root}assets/{self.logo_name}", open_days=self._open_days,
            palette=self._palette,
            show_tags=not self.prefix,  # tags are the content's own words: not translated
            canonical=None, jsonld=None, prev=None, next=None, alternates=[],
            x_default=None,
        )
        if page is not None:
            ctx.update(canonical=self.url(page.path), jsonld=json_ld(self.structured_data(page)),
                       alternates=self.alternates.of(page.path, self.language.lang),
                       x_default=self.alternates.x_default(page.path))
            if page.module is not None:
                ctx["prev"], ctx["next"] = self.neighbours(page, pages)
        return ctx

    def compile_templates(self, names: set[str]) -> None:
        """Compile the site's templates (the pages' and what they extend or import) once,
        here, rather than in every forked worker (``serve`` keeps the code for its next
        rebuilds), and find what each page template reads, for page keys. Errors are left
        for rendering to report, located, as usual."""
        env = self.renderer.env(self.brand, self.words)
        compile_all(env, names)  # done already if warm_site ran (compiled once per env)
        for name in sorted(names) if self.cache is not None else ():
            # after compiling: what the templates read was noted then (render/traced.py)
            self.cache.reads(env, self.inputs.project, name)

    def _before_fork(self, pages: list[Page]) -> None:
        """Workers will render: templates compiled once, here, and what is loaded kept out
        of the collector's way (a collection in a worker would copy all it inherited)."""
        self.compile_templates({p.template for p in pages} | {"site/404.html.j2"})
        gc.freeze()
        self._frozen = True

    def prepare(self) -> list[Problem]:
        """This language's modules and pages (:attr:`pages`), before anything renders:
        every language's page list is needed for the alternates of each page."""
        self.modules, problems = site_modules(self.inputs, self.words)
        self.date_modules(self.modules)
        if not self.modules and not self.prefix:
            problems.append(Problem(self.settings.content_dir, None, "no module is published "
                                    "on the site (audience: site, draft: false)",
                                    severity="warning"))
        self.pages = site_pages(self.inputs, self.modules, self.words)
        return problems

    def render(self) -> dict[str, bytes]:
        """This language's pages and feed; the default language also writes the files
        all languages share (assets, 404 page, robots.txt)."""
        modules, pages = self.modules, self.pages
        files: dict[str, bytes] = {}
        names = [self.prefix + page.file for page in pages]
        if not self.prefix:  # the default language's 404 page last (_render_page)
            names.append("404.html")
        sink = self.sink
        each = None if sink is None else (lambda i, data: sink(names[i], data))
        global _RENDERING
        _RENDERING = (self, modules, pages)  # inherited by forked workers (see pmap)
        try:
            rendered = render_pages(self.cache, len(names), _render_page,
                                    min_items=RENDER_MIN_PAGES, each=each,
                                    before_fork=lambda: self._before_fork(pages))
        finally:
            _RENDERING = None
            if self._frozen:  # collectable again (serve lives on)
                gc.unfreeze()
                self._frozen = False
        files.update(zip(names, rendered, strict=True))
        files[self.prefix + "feed.xml"] = feed(self)
        if self.prefix:
            return files
        files["assets/site.css"] = self.renderer.asset("assets/site.css", self.brand).encode()
        files["favicon.ico"] = favicon_ico(self.brand.colors.primary)
        files[f"assets/{self.logo_name}"] = self.brand.logo_bytes  # an SVG logo sanitised
        files[PLANS_INDEX] = plans_index(self.language.tag)
        files["robots.txt"] = (f"User-agent: *\nAllow: /\nDisallow: /{PLANS}/\n\n"
                               f"Sitemap: {self.url('sitemap.xml')}\n").encode()
        return files


_RENDERING = None  # (builder, modules, pages) while SiteBuilder.render runs


def _render_page(index: int, key: bool | None = False):
    """One page of the site (index ``len(pages)``: the 404 page), with ``key`` its key in
    the page cache instead (what rendering it reads: render/pagecache.py), with
    ``key=None`` both; a module-level function so pmap can fork workers for it."""
    builder, modules, pages = _RENDERING
    if index < len(pages):
        page = pages[index]
        template, ctx = page.template, builder.context(page, page.root, modules, pages)
    else:  # the 404 page, served at any depth: links are absolute paths from base_url
        template = "site/404.html.j2"
        ctx = builder.context(None, urlsplit(builder.base).path, modules, pages)
    found = None if key is False else builder.cache.key(
        builder.renderer.env(builder.brand, builder.words), builder.inputs.project,
        template, ctx)
    if key:
        return found
    data = builder.renderer.render(template, ctx, builder.brand, builder.words).encode()
    return data if key is False else (found, data)


def render_site(inputs, renderer, cache: PageCache | None = None,
                planned: Callable[[list[str]], None] | None = None,
                sink: Callable[[str, bytes], None] | None = None
                ) -> tuple[dict[str, bytes], list[Problem]]:
    """Every public file, in memory. No site brand -> one error, no files. ``planned``
    is told the pages' paths before they render (the publisher makes their folders),
    ``sink(path, data)`` each page rendered as soon as it is ready (to write it)."""
    settings = inputs.project.settings
    if site_brand(inputs) is None:
        name = settings.site_brand or settings.default_brand
        key = "site_brand" if settings.site_brand else "default_brand"
        return {}, [SiteNotBuilt("guidegen.toml", None, f"the site brand {name!r} did not load; "
                            "the site was not built", key)]
    languages = inputs.project.languages
    builders = [SiteRenderer(inputs, renderer, renderer.words(languages.language(lang)))
                for lang in languages.all]
    for builder in builders:
        builder.cache, builder.sink = cache, sink
    problems = [p for i, b in enumerate(builders) for p in b.prepare() if i == 0]
    if planned is not None:
        planned([b.prefix + page.file for b in builders for page in b.pages])
    alternates = Alternates.collect(builders)
    files: dict[str, bytes] = {}
    for builder in builders:
        builder.alternates = alternates
        files.update(builder.render())
    files["sitemap.xml"] = sitemap(builders)
    return files, problems
