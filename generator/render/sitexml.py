"""The site's machine-readable files: ``sitemap.xml`` (every page in every language, each
with its ``xhtml:link`` alternates) and one Atom feed per language.

Both are written by :func:`_xml`, which gives exactly the bytes ElementTree gave
(``ET.indent`` with two spaces, then ``ET.tostring`` with the UTF-8 declaration; checked
against ElementTree in tests/test_sitexml.py) in a tenth of the time: a feed carries every
article's HTML, and a rebuild after one edit writes it again."""

from __future__ import annotations

import datetime as dt
import html

ATOM_NS = "http://www.w3.org/2005/Atom"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML_NS = "http://www.w3.org/1999/xhtml"

# an element: (tag, attributes, text or None, children); attributes in their order
Node = tuple[str, dict[str, str], "str | None", list]


def _el(tag: str, attrs: dict[str, str] | None = None, text: str | None = None,
        children: list | None = None) -> Node:
    return (tag, attrs or {}, text, children if children is not None else [])


def sitemap(builders) -> bytes:
    """One sitemap for the whole site: ``builders`` are the SiteRenderers of each language
    with the pages they rendered; a page in several languages lists all of them (and the
    default as ``x-default``), as search engines read hreflang from sitemaps."""
    multi = len(builders) > 1
    attrs = {"xmlns": SITEMAP_NS} | ({"xmlns:xhtml": XHTML_NS} if multi else {})
    urls = []
    for builder in builders:
        for page in builder.pages:
            url = [_el("loc", text=builder.url(page.path))]
            date = builder.page_date(page)
            if date is not None:
                url.append(_el("lastmod", text=date.date().isoformat()))
            alts = builder.alternates.of(page.path) if multi else []
            if len(alts) > 1:
                for alt in alts:
                    url.append(_el("xhtml:link", {"rel": "alternate", "hreflang": alt["tag"],
                                                  "href": alt["url"]}))
                url.append(_el("xhtml:link", {"rel": "alternate", "hreflang": "x-default",
                                              "href": builder.alternates.x_default(
                                                  page.path)}))
            urls.append(_el("url", children=url))
    return _xml(_el("urlset", attrs, children=urls))


def feed(builder) -> bytes:
    """The Atom feed of one language's articles."""
    pages = builder.pages
    fallback = builder.renderer.context.site_date
    dates = {p.module.slug: builder._dates.get(p.module.slug) or fallback
             for p in pages if p.module is not None}
    updated = _atom_date(max(dates.values(), default=fallback))
    items = [_el("id", text=builder.url("")), _el("title", text=builder.title)]
    if builder.description:
        items.append(_el("subtitle", text=builder.description))
    items += [_el("updated", text=updated),
              _el("author", children=[_el("name", text=builder.brand.name)]),
              _el("link", {"rel": "self", "type": "application/atom+xml",
                           "href": builder.url("feed.xml")}),
              _el("link", {"rel": "alternate", "type": "text/html",
                           "href": builder.url("")})]
    for page in pages:
        if page.module is None:
            continue
        entry = [_el("id", text=builder.url(page.path)), _el("title", text=page.title),
                 _el("updated", text=_atom_date(dates[page.module.slug])),
                 _el("link", {"rel": "alternate", "type": "text/html",
                              "href": builder.url(page.path)}),
                 _el("summary", text=page.description),
                 _el("content", {"type": "html"}, page.module.html)]
        entry += [_el("category", {"term": tag}) for tag in page.module.tags]
        items.append(_el("entry", children=entry))
    return _xml(_el("feed", {"xmlns": ATOM_NS, "xml:lang": builder.language.tag},
                    children=items))


def _atom_date(date: dt.datetime) -> str:
    return date.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _xml(root: Node) -> bytes:
    """``root`` as ElementTree writes it once indented: the namespace a plain ``xmlns``
    attribute on unqualified tags, each child on its own line two spaces further in."""
    out = ["<?xml version='1.0' encoding='utf-8'?>\n"]
    _write(root, "\n", out)
    out.append("\n")
    return "".join(out).encode("utf-8", "xmlcharrefreplace")


def _write(node: Node, indent: str, out: list[str]) -> None:
    tag, attrs, text, children = node
    out.append("<" + tag)
    for name, value in attrs.items():
        out.append(f' {name}="{_attrib(value)}"')
    if children:
        inner = indent + "  "
        out.append(">")
        for child in children:
            out.append(inner)
            _write(child, inner, out)
        out.append(f"{indent}</{tag}>")
    elif text:
        out.append(f">{_cdata(text)}</{tag}>")
    else:
        out.append(" />")


def _cdata(text: str) -> str:
    return html.escape(text, quote=False)  # &, < and >, as ElementTree escapes text


def _attrib(text: str) -> str:
    text = _cdata(text)
    for char, ref in (('"', "&quot;"), ("\r", "&#13;"), ("\n", "&#10;"), ("\t", "&#09;")):
        if char in text:
            text = text.replace(char, ref)
    return text
