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
import html
import json
import struct
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup

from generator.core.errors import Problem
from generator.core.parallel import pmap
from generator.core.vocab import DAY_NAMES
from generator.load.brands import Brand, contrast, rgb
from generator.load.content import Module
from generator.load.gitdates import last_commit_dates
from generator.load.modulevars import neutral_values
from generator.render.renderer import DISCLAIMER

PLANS = "plans"  # private plan pages: never linked, listed or pruned by the site
PLANS_INDEX = f"{PLANS}/index.html"  # an empty page, so no web server lists the folder
ABOUT = "about"
RESERVED_SLUGS = {ABOUT, "assets", PLANS}
ATOM_NS = "http://www.w3.org/2005/Atom"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
# A page renders in about 0.3 ms: below this many pages, forking workers (and copying
# their memory on write) costs more than it saves (measured on 2 cores).
RENDER_MIN_PAGES = 800


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


def site_modules(inputs) -> tuple[list[Module], list[Problem]]:
    """Modules published on the site, in order; a slug that clashes with a site path is an
    error (its page would overwrite the about page or the assets)."""
    chosen, problems = [], []
    brand = site_brand(inputs)  # the site speaks to no runner: neutral module variables
    values = neutral_values(brand.name if brand is not None else None)
    for m in inputs.modules:
        if not m.on_site:
            continue
        if m.slug in RESERVED_SLUGS:
            problems.append(Problem(m.source, None, f"slug {m.slug!r} is reserved for the site "
                                    f"({', '.join(sorted(RESERVED_SLUGS))}); choose another",
                                    "slug"))
            continue
        chosen.append(m.with_values(values))
    return chosen, problems


def site_pages(inputs, modules: list[Module]) -> list[Page]:
    settings = inputs.project.settings
    brand = site_brand(inputs)
    pages = [Page("", "site/index.html.j2", settings.title,
                  settings.description or brand.tagline or settings.title, "website")]
    pages += [Page(f"{m.slug}/", "site/module.html.j2", m.title,
                   m.summary or settings.description, "article", m) for m in modules]
    about = brand.tagline or f"About {brand.name}: contact, opening days and booking."
    pages.append(Page(f"{ABOUT}/", "site/about.html.j2", f"About {brand.name} and booking",
                      f"{about} Book a sports massage at {brand.name}.", "website"))
    return pages


def days_text(days) -> str:
    """['mon'..'sat'] -> 'Monday to Saturday'; ['tue', 'thu'] -> 'Tuesday and Thursday'."""
    order = list(DAY_NAMES)
    idx = sorted(order.index(d) for d in days)
    if len(idx) >= 3 and idx == list(range(idx[0], idx[-1] + 1)):
        return f"{DAY_NAMES[order[idx[0]]]} to {DAY_NAMES[order[idx[-1]]]}"
    names = [DAY_NAMES[order[i]] for i in idx]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def mix(colour: str, background: str, amount: float) -> str:
    """A solid tint (``amount`` of ``colour`` over ``background``): solid colours keep
    contrast checks (axe, WCAG) exact, unlike translucent ones."""
    a, b = rgb(colour), rgb(background)
    return "#" + "".join(f"{round(x * amount + y * (1 - amount)):02x}"
                       for x, y in zip(a, b, strict=True))


def palette(brand: Brand) -> dict[str, str]:
    """CSS custom properties derived from the brand colours."""
    c = brand.colors
    on_primary = max(("#ffffff", c.text, "#000000"), key=lambda t: contrast(t, c.primary))
    return {"tint": mix(c.primary, c.background, 0.07), "soft": mix(c.primary, c.background, 0.2),
            "on_primary": on_primary}


def favicon_ico(colour: str, size: int = 32) -> bytes:
    """A /favicon.ico (a dot in the brand colour), drawn here so no imaging library is
    needed. Browsers ask for it on every page without an icon link (the plan pages),
    and a 404 there is a console error on the runner's private page."""
    r, g, b = rgb(colour)
    centre, radius, pixels = (size - 1) / 2, size / 2 - 1, bytearray()
    # squared distances of the 4x4 samples in each row and column (computed once)
    span = [[(i + d / 4 - centre) ** 2 for d in (-1.5, -0.5, 0.5, 1.5)] for i in range(size)]
    limit = radius ** 2
    for y in range(size):  # BMP rows go bottom-up; the circle is symmetric anyway
        for x in range(size):
            inside = sum(sx + sy <= limit for sx in span[x] for sy in span[y])
            pixels += bytes((b, g, r, round(255 * inside / 16)))
    mask = bytes(((size + 31) // 32) * 4 * size)
    header = struct.pack("<IiiHHIIiiII", 40, size, size * 2, 1, 32, 0,
                         len(pixels) + len(mask), 0, 0, 0, 0)
    image = header + bytes(pixels) + mask
    entry = struct.pack("<BBBBHHII", size, size, 0, 0, 1, 32, len(image), 6 + 16)
    return struct.pack("<HHH", 0, 1, 1) + entry + image


def plans_index(language: str) -> bytes:
    """``plans/index.html``: an empty, unindexed page where a web server that lists
    folders would otherwise list every runner's private plan folder."""
    return ("<!DOCTYPE html>\n"
            f'<html lang="{html.escape(language)}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="robots" content="noindex, nofollow">\n'
            '<meta name="referrer" content="no-referrer">\n'
            "<title>Nothing here</title>\n</head>\n<body></body>\n</html>\n").encode()


def json_ld(data: dict) -> Markup:
    """JSON for a <script> element: '<', '>' and '&' escaped so no text can close it."""
    text = json.dumps(data, ensure_ascii=False, indent=1)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


class SiteRenderer:
    """Renders every public file of the site into a {relative path: bytes} mapping."""

    def __init__(self, inputs, renderer):
        self.inputs = inputs
        self.renderer = renderer
        self.settings = inputs.project.settings
        self.base = self.settings.base_url
        self.brand = site_brand(inputs)
        self.logo_name = "logo" + Path(self.brand.logo).suffix.lower()
        # the same for every page: computed once, not 500 times
        self._org = self.organization()
        self._palette = palette(self.brand)
        self._open_days = days_text(self.brand.open_days)
        self._near: tuple[list[Page] | None, dict[int, tuple]] = (None, {})
        self._dates: dict[str, dt.datetime | None] = {}  # module slug -> last changed

    def date_modules(self, modules: list[Module]) -> None:
        """When each module last changed: its front matter's ``updated:``, else the last
        git commit touching its file (one ``git log`` for all), else the build's date
        (SOURCE_DATE_EPOCH; None without it). Deterministic for a given checkout."""
        root = self.inputs.project.root
        files = {m.slug: root / m.source for m in modules if m.updated is None}
        git = last_commit_dates(root, files.values())
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
        return self.base + path

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
                "inLanguage": self.settings.language}
        if page.module is not None:
            data.update({"headline": page.title,
                         "mainEntityOfPage": url, "keywords": list(page.module.tags),
                         "author": self._org, "publisher": self._org,
                         "isPartOf": {"@type": "WebSite", "name": self.settings.title,
                                      "url": self.base}})
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
        ctx = dict(
            lang=self.settings.language, site=self.settings, brand=b, page=page, root=root,
            home=root or "./", modules=modules, disclaimer=DISCLAIMER,
            build_date=self.renderer.context.build_date,
            logo=f"{root}assets/{self.logo_name}", open_days=self._open_days,
            palette=self._palette,
            canonical=None, jsonld=None, prev=None, next=None,
        )
        if page is not None:
            ctx.update(canonical=self.url(page.path), jsonld=json_ld(self.structured_data(page)))
            if page.module is not None:
                ctx["prev"], ctx["next"] = self.neighbours(page, pages)
        return ctx

    def compile_templates(self, names: set[str]) -> None:
        """Compile the templates once, here, rather than in every forked worker. Errors
        are left for rendering to report, located, as usual."""
        env = self.renderer.env(self.brand)
        for name in sorted(names):
            try:
                env.get_template(name)
            except jinja2.TemplateError:
                pass

    def render(self) -> tuple[dict[str, bytes], list[Problem]]:
        modules, problems = site_modules(self.inputs)
        self.date_modules(modules)
        if not modules:
            problems.append(Problem(self.settings.content_dir, None, "no module is published "
                                    "on the site (audience: site, draft: false)",
                                    severity="warning"))
        pages = site_pages(self.inputs, modules)
        files: dict[str, bytes] = {}
        self.compile_templates({page.template for page in pages} | {"site/404.html.j2"})
        global _RENDERING
        _RENDERING = (self, modules, pages)  # inherited by forked workers (see pmap)
        try:
            rendered = pmap(_render_page, range(len(pages)), min_items=RENDER_MIN_PAGES)
        finally:
            _RENDERING = None
        for page, data in zip(pages, rendered, strict=True):
            files[page.file] = data
        # the 404 page is served at any depth: links are absolute paths from base_url
        ctx = self.context(None, urlsplit(self.base).path, modules, pages)
        files["404.html"] = self.renderer.render("site/404.html.j2", ctx, self.brand).encode()
        files["assets/site.css"] = self.renderer.asset("assets/site.css", self.brand).encode()
        files["favicon.ico"] = favicon_ico(self.brand.colors.primary)
        files[f"assets/{self.logo_name}"] = self.brand.logo_bytes  # an SVG logo sanitised
        files[PLANS_INDEX] = plans_index(self.settings.language)
        files["sitemap.xml"] = self.sitemap(pages)
        files["feed.xml"] = self.feed(pages)
        files["robots.txt"] = (f"User-agent: *\nAllow: /\nDisallow: /{PLANS}/\n\n"
                               f"Sitemap: {self.url('sitemap.xml')}\n").encode()
        return files, problems

    def sitemap(self, pages: list[Page]) -> bytes:
        urlset = ET.Element("urlset", {"xmlns": SITEMAP_NS})
        for page in pages:
            url = ET.SubElement(urlset, "url")
            ET.SubElement(url, "loc").text = self.url(page.path)
            date = self.page_date(page)
            if date is not None:
                ET.SubElement(url, "lastmod").text = date.date().isoformat()
        return _xml(urlset)

    def feed(self, pages: list[Page]) -> bytes:
        fallback = self.renderer.context.site_date
        dates = {p.module.slug: self._dates.get(p.module.slug) or fallback
                 for p in pages if p.module is not None}
        updated = _atom_date(max(dates.values(), default=fallback))
        feed = ET.Element("feed", {"xmlns": ATOM_NS, "xml:lang": self.settings.language})
        ET.SubElement(feed, "id").text = self.base
        ET.SubElement(feed, "title").text = self.settings.title
        if self.settings.description:
            ET.SubElement(feed, "subtitle").text = self.settings.description
        ET.SubElement(feed, "updated").text = updated
        ET.SubElement(ET.SubElement(feed, "author"), "name").text = self.brand.name
        ET.SubElement(feed, "link", {"rel": "self", "type": "application/atom+xml",
                                     "href": self.url("feed.xml")})
        ET.SubElement(feed, "link", {"rel": "alternate", "type": "text/html",
                                     "href": self.base})
        for page in pages:
            if page.module is None:
                continue
            entry = ET.SubElement(feed, "entry")
            ET.SubElement(entry, "id").text = self.url(page.path)
            ET.SubElement(entry, "title").text = page.title
            ET.SubElement(entry, "updated").text = _atom_date(dates[page.module.slug])
            ET.SubElement(entry, "link", {"rel": "alternate", "type": "text/html",
                                          "href": self.url(page.path)})
            ET.SubElement(entry, "summary").text = page.description
            ET.SubElement(entry, "content", {"type": "html"}).text = page.module.html
            for tag in page.module.tags:
                ET.SubElement(entry, "category", {"term": tag})
        return _xml(feed)


_RENDERING = None  # (builder, modules, pages) while SiteBuilder.render runs


def _render_page(index: int) -> bytes:
    """One page of the site; a module-level function so pmap can fork workers for it."""
    builder, modules, pages = _RENDERING
    page = pages[index]
    ctx = builder.context(page, page.root, modules, pages)
    return builder.renderer.render(page.template, ctx, builder.brand).encode()


def _atom_date(date: dt.datetime) -> str:
    return date.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _xml(root: ET.Element) -> bytes:
    """Serialise with the namespace as a plain ``xmlns`` attribute on unqualified tags:
    the same document, without ElementTree's global prefix registry."""
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def render_site(inputs, renderer) -> tuple[dict[str, bytes], list[Problem]]:
    """Every public file, in memory. No site brand -> one error, no files."""
    settings = inputs.project.settings
    if site_brand(inputs) is None:
        name = settings.site_brand or settings.default_brand
        key = "site_brand" if settings.site_brand else "default_brand"
        return {}, [SiteNotBuilt("guidegen.toml", None, f"the site brand {name!r} did not load; "
                            "the site was not built", key)]
    return SiteRenderer(inputs, renderer).render()
