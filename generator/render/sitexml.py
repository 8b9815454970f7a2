"""The site's machine-readable files: ``sitemap.xml`` (every page in every language, each
with its ``xhtml:link`` alternates) and one Atom feed per language."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

ATOM_NS = "http://www.w3.org/2005/Atom"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML_NS = "http://www.w3.org/1999/xhtml"


def sitemap(builders) -> bytes:
    """One sitemap for the whole site: ``builders`` are the SiteRenderers of each language
    with the pages they rendered; a page in several languages lists all of them (and the
    default as ``x-default``), as search engines read hreflang from sitemaps."""
    multi = len(builders) > 1
    attrs = {"xmlns": SITEMAP_NS} | ({"xmlns:xhtml": XHTML_NS} if multi else {})
    urlset = ET.Element("urlset", attrs)
    for builder in builders:
        for page in builder.pages:
            url = ET.SubElement(urlset, "url")
            ET.SubElement(url, "loc").text = builder.url(page.path)
            date = builder.page_date(page)
            if date is not None:
                ET.SubElement(url, "lastmod").text = date.date().isoformat()
            alts = builder.alternates.of(page.path) if multi else []
            if len(alts) > 1:
                for alt in alts:
                    ET.SubElement(url, "xhtml:link", {"rel": "alternate",
                                                      "hreflang": alt["tag"],
                                                      "href": alt["url"]})
                ET.SubElement(url, "xhtml:link", {"rel": "alternate", "hreflang": "x-default",
                                                  "href": builder.alternates.x_default(
                                                      page.path)})
    return _xml(urlset)


def feed(builder) -> bytes:
    """The Atom feed of one language's articles."""
    pages = builder.pages
    fallback = builder.renderer.context.site_date
    dates = {p.module.slug: builder._dates.get(p.module.slug) or fallback
             for p in pages if p.module is not None}
    updated = _atom_date(max(dates.values(), default=fallback))
    feed = ET.Element("feed", {"xmlns": ATOM_NS, "xml:lang": builder.language.tag})
    ET.SubElement(feed, "id").text = builder.url("")
    ET.SubElement(feed, "title").text = builder.title
    if builder.description:
        ET.SubElement(feed, "subtitle").text = builder.description
    ET.SubElement(feed, "updated").text = updated
    ET.SubElement(ET.SubElement(feed, "author"), "name").text = builder.brand.name
    ET.SubElement(feed, "link", {"rel": "self", "type": "application/atom+xml",
                                 "href": builder.url("feed.xml")})
    ET.SubElement(feed, "link", {"rel": "alternate", "type": "text/html",
                                 "href": builder.url("")})
    for page in pages:
        if page.module is None:
            continue
        entry = ET.SubElement(feed, "entry")
        ET.SubElement(entry, "id").text = builder.url(page.path)
        ET.SubElement(entry, "title").text = page.title
        ET.SubElement(entry, "updated").text = _atom_date(dates[page.module.slug])
        ET.SubElement(entry, "link", {"rel": "alternate", "type": "text/html",
                                      "href": builder.url(page.path)})
        ET.SubElement(entry, "summary").text = page.description
        ET.SubElement(entry, "content", {"type": "html"}).text = page.module.html
        for tag in page.module.tags:
            ET.SubElement(entry, "category", {"term": tag})
    return _xml(feed)


def _atom_date(date: dt.datetime) -> str:
    return date.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _xml(root: ET.Element) -> bytes:
    """Serialise with the namespace as a plain ``xmlns`` attribute on unqualified tags:
    the same document, without ElementTree's global prefix registry."""
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
